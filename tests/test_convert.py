"""Stage 2: Markdown -> XHTML through pandoc, and the EPUB-specific rewrites."""

from __future__ import annotations

from pathlib import Path

import pytest

from ebook_builder.convert import (
    Ids,
    content_file_name,
    convert_chapter,
    make_ids_unique,
    slugify,
    unique,
)
from ebook_builder.errors import BookError
from ebook_builder.markup.xhtml import EPUB_TYPE, heading_entries, tag, text_of
from ebook_builder.model import ChapterSource


def chapter(text: str, entry: str = "01-one.md"):
    source = ChapterSource(entry, Path("/p/book/demo") / entry, Path("book/demo") / entry, text)
    return convert_chapter(source)


def test_smart_typography():
    body = chapter("# T\n\n\"Quoted\" and 'single' -- en --- em...\n").body
    assert text_of(body.find(f".//{tag('p')}")) == "“Quoted” and ‘single’ – en — em…"


def test_sections_get_stable_ids_from_headings():
    first = chapter("# The Title\n\n## A Section\n\n## A Section\n")
    second = chapter("# The Title\n\n## A Section\n\n## A Section\n")
    anchors = [h.anchor for h in heading_entries(first.body)]
    assert anchors == ["the-title", "a-section", "a-section-2"]
    assert anchors == [h.anchor for h in heading_entries(second.body)]
    assert first.title == "The Title"


def test_explicit_ids_are_kept_and_not_renamed():
    one = chapter("# One {#intro}\n\n## Notes\n")
    two = chapter("# Two\n\n## Notes\n", "02-two.md")
    make_ids_unique([one, two])
    assert [h.anchor for h in heading_entries(two.body)] == ["two", "notes-2"]
    assert "intro" not in one.auto_ids


def test_footnotes_become_epub_popup_notes():
    body = chapter("# T\n\nText.[^a]\n\n[^a]: The note.\n").body
    ref = body.find(f".//{tag('a')}[@role='doc-noteref']")
    aside = body.find(tag("aside"))
    assert ref.get(EPUB_TYPE) == "noteref"
    assert ref.get("href") == "#01-one-fn1"
    assert aside.get("id") == "01-one-fn1"
    assert aside.get(EPUB_TYPE) == "footnote"
    back = aside.find(f".//{tag('a')}")
    assert back.get("href") == "#" + ref.get("id")
    assert body.find(f".//{tag('section')}[@id='footnotes']") is None


def test_notes_open_with_their_number_linking_back():
    body = chapter("# T\n\nA.[^a] B.[^b]\n\n[^a]: One.\n\n    Two.\n\n[^b]: - item\n").body
    first, second = body.findall(tag("aside"))
    assert [p.text for p in first] == [None, "Two."]  # pandoc's ↩ at the end is gone
    number = first[0][0]
    assert (number.text, number.tail, number.get("href")) == ("1.", " One.", "#01-one-fnref1")
    assert number.get("role") == "doc-backlink"
    assert number.get("aria-label") == "Note 1: back to the text"
    # A note that opens with a list: the number in a paragraph of its own before it.
    assert [child.tag for child in second] == [tag("p"), tag("ul")]
    assert (second[0][0].text, second[0][0].tail, second[0].text) == ("2.", None, None)
    assert len(list(second.iter(tag("a")))) == 1


def test_page_break_markers():
    body = chapter('# T\n\nSome []{.pagebreak page="12"}text.\n').body
    marker = body.find(f".//{tag('span')}")
    assert marker.get("id") == "page-12"
    assert marker.get(EPUB_TYPE) == "pagebreak"
    assert marker.get("role") == "doc-pagebreak"
    assert marker.get("aria-label") == "12"
    assert "class" not in marker.attrib


def test_semantics_of_chapters_epigraphs_and_back_matter():
    body = chapter("# T\n\n::: epigraph\n> Words.\n:::\n").body
    assert body.get(EPUB_TYPE) == "bodymatter"
    assert body.find(tag("section")).get(EPUB_TYPE) == "chapter"
    assert body.find(f".//{tag('div')}").get(EPUB_TYPE) == "epigraph"
    back = chapter("# Contact {.backmatter}\n\nWrite.\n").body
    assert back.get(EPUB_TYPE) == "backmatter"


def test_an_authors_sectioning_epub_type_gets_its_aria_role():
    """DAISY Ace asks for the role of each semantic (what other productions' HTML brings)."""
    body = chapter(
        '# T\n\n::: {#a epub:type="part"}\nA.\n:::\n\n'
        '::: {#b epub:type="z3998:poem epigraph"}\nB.\n:::\n\n'
        '::: {#c epub:type="z3998:letter" role="note"}\nC.\n:::\n'
    ).body
    roles = {div.get("id"): div.get("role") for div in body.iter(tag("div"))}
    assert roles == {"a": "doc-part", "b": "doc-epigraph", "c": "note"}


def test_email_addresses_become_plain_mailto_links():
    body = chapter("# T\n\n<a@example.org>\n").body
    link = body.find(f".//{tag('a')}")
    assert link.get("href") == "mailto:a@example.org"
    assert body.find(f".//{tag('script')}") is None


def test_malformed_raw_html_names_the_line():
    with pytest.raises(BookError) as caught:
        chapter("# T\n\nFine.\n\n<div><p>unclosed</div>\n")
    assert caught.value.lines()[0].startswith("book/demo/01-one.md:5: raw HTML is not well-formed")


def test_entities_are_never_expanded():
    """Pandoc escapes unknown entities: the text stays literal, nothing is read."""
    assert "&lol;" in text_of(chapter("# T\n\n<p>&lol;</p>\n").body)


def test_declarations_are_refused_at_their_line():
    """A DOCTYPE could declare entities that read files; pandoc escapes it, slowly."""
    raw = '<!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]><p>&e;</p>'
    with pytest.raises(BookError) as caught:
        chapter(f"# T\n\n{raw}\n")
    assert caught.value.lines()[0].startswith("book/demo/01-one.md:3: '<!' opens an XML")


def test_slugify_and_unique():
    assert slugify("1905: The Creation of the Soviets!") == "the-creation-of-the-soviets"
    assert slugify("Women’s Rights") == "women-s-rights"
    assert slugify("1917") == "section"
    taken = Ids({"a"})
    assert unique("a", taken) == "a-2" and unique("a", taken) == "a-3"


def test_content_file_names_flatten_folders():
    source = ChapterSource("part-1/ch.md", Path("x"), Path("x"), "")
    assert content_file_name(source) == "part-1-ch.xhtml"


def test_page_break_alone_on_its_line_adds_no_empty_paragraph():
    body = chapter('# T\n\nText.\n\n[]{.pagebreak page="2"}\n\nNext page.\n').body
    marker = body.find(f".//{tag('span')}")
    assert marker.getparent().tag == tag("section")
    assert [p for p in body.iter(tag("p")) if not text_of(p)] == []


def test_html_void_elements_are_closed():
    body = chapter('# T\n\nline<br>break <hr> <img src="a.png" alt="A"> <br/>\n').body
    assert len(list(body.iter(tag("br")))) == 2


def test_footnote_with_a_nested_list_keeps_its_text():
    body = chapter("# T\n\n- item[^n]\n\n[^n]: a note\n    - inner\n").body
    (aside,) = body.iter(tag("aside"))
    assert "a note" in text_of(aside) and "inner" in text_of(aside)


def test_headings_outside_sections_get_their_own_ids():
    body = chapter("# T\n\n> ## Quoted heading\n\n- ## Listed heading\n").body
    anchors = [h.anchor for h in heading_entries(body)]
    assert anchors == ["t", "quoted-heading", "listed-heading"]


@pytest.mark.parametrize(
    ("markdown", "element", "expected"),
    [
        # pandoc keeps a name HTML knows on any element; the element does not allow it
        ('[x]{target="_blank"}', "span", {"data-target": "_blank"}),
        ("[x]{width=3 lang=fr}", "span", {"data-width": "3", "lang": "fr"}),
        ("```{.py target=x}\nprint(1)\n```", "div", {"data-target": "x"}),
        # raw HTML from old web pages
        ('<td width="50%" valign="top">a</td>', "td", {"data-width": "50%", "data-valign": "top"}),
        ('<span href="x" foo="y">a</span>', "span", {"data-href": "x", "data-foo": "y"}),
        ('<a name="n" target="_blank">a</a>', "a", {"data-name": "n", "data-target": "_blank"}),
        ('<a href="#n" TARGET="_blank">a</a>', "a", {"href": "#n", "target": "_blank"}),
        ('<span data-href="1" href="2">a</span>', "span", {"data-href": "1", "data-href-2": "2"}),
        # HTML 4's align on a block or a cell is CSS's text-align
        ('<p align="center">a</p>', "p", {"style": "text-align: center"}),
        (
            '<td ALIGN="Right" style="color: red">a</td>',
            "td",
            {"style": "color: red; text-align: right"},
        ),
        ('<p align="middle">a</p>', "p", {"data-align": "middle"}),
        ('<p align="left" style="text-align: right">a</p>', "p", {"data-align": "left"}),
        # left for the validate stage: event handlers, namespaced attributes
        ('<span onclick="f()" xml:lang="fr">a</span>', "span", {"onclick": "f()"}),
    ],
)
def test_attributes_html_does_not_allow_on_an_element_become_data(markdown, element, expected):
    """EPUBCheck refuses `<span target>` (RSC-005) but accepts `data-target`: pandoc's own
    rule for a name HTML does not know, applied to every name the element does not allow."""
    text = (
        f"# T\n\n<table><tr>{markdown}</tr></table>\n"
        if element == "td"
        else f"# T\n\n{markdown}\n"
    )
    found = chapter(text).body.find(f".//{tag(element)}")
    assert dict(found.attrib).items() >= expected.items(), dict(found.attrib)
    assert not {"target", "width", "valign", "href", "name", "align"} & set(found.attrib) - set(
        expected
    )


def test_headings_of_raw_html_in_a_section_get_ids_of_their_own():
    """Given the chapter section's id, each `<h2>` would point the contents list at the
    chapter's start, which EPUBCheck refuses (different playOrder values, same target)."""
    body = chapter("# Start\n\n<h2>A</h2>\n\nx\n\n<h2>B</h2>\n\ny\n").body
    assert [h.anchor for h in heading_entries(body)] == ["start", "a", "b"]
