"""Verse, small caps and page markers before headings, in every format.

Judged by EPUBCheck (EPUB, KEPUB), python-docx (the DOCX's paragraph styles and
alignment), calibre (the AZW3 and MOBI read back) and the XHTML itself.
"""

from __future__ import annotations

import zipfile
from pathlib import Path

import docx
import pytest
from docx.enum.text import WD_ALIGN_PARAGRAPH
from lxml import etree

from ebook_builder import api
from ebook_builder.convert import convert_chapter
from ebook_builder.formats import FORMATS
from ebook_builder.markup.xhtml import EPUB_TYPE, XHTML_NS, tag, text_of
from ebook_builder.model import ChapterSource
from tests.helpers import REPO, ProjectMaker, calibre_epubs, mobi6_half

POEM = """# Poems

[]{.pagebreak page="3"}

## The First

| "Hark," she said, "the night
| "They called me the Raven,"
|     ’tis the hour of [dreams]{.smallcaps}.
|
| A second stanza, long enough to wrap on any small screen when it is read
| and its last line.

Prose after the poem.

::: poem
"Once upon a midnight\\
"They called me the Raven

Second stanza
:::

<div class="verse"><p><span>First line</span><br/>
<span class="i2">indented line</span></p></div>
"""


def chapter(markdown: str, language: str = "en") -> etree._Element:
    source = ChapterSource("01.md", Path("01.md"), Path("01.md"), markdown)
    return convert_chapter(source, None, language).body


def stanzas(body: etree._Element) -> list[list[str]]:
    blocks = [b for b in body.iter(tag("div")) if "verse" in b.get("class", "").split()]
    return [
        [text_of(line) for line in stanza if line.tag == tag("span")]
        for block in blocks
        for stanza in block.iter(tag("p"))
    ]


def test_verse_is_stanzas_of_lines_from_every_kind_of_poem():
    assert stanzas(chapter(POEM)) == [
        [
            "“Hark,” she said, “the night",
            "“They called me the Raven,”",
            "\u00a0" * 4 + "’tis the hour of dreams.",
        ],
        [
            "A second stanza, long enough to wrap on any small screen when it is read",
            "and its last line.",
        ],
        ["“Once upon a midnight", "“They called me the Raven"],
        ["Second stanza"],
        ["First line", "indented line"],
    ]


def test_a_line_block_keeps_its_indentation_and_indent_classes_stay_on_the_line():
    body = chapter(POEM)
    lines = [s for s in body.iter(tag("span")) if s.getparent().tag == tag("p")]
    assert any(line.text.startswith("\u00a0" * 4) for line in lines if line.text)
    assert [line.get("class") for line in lines if line.get("class")] == ["smallcaps", "i2"][1:]


def test_a_poem_from_another_production_is_verse():
    body = chapter('<div epub:type="z3998:poem"><p>one<br/>two</p></div>\n')
    assert stanzas(body) == [["one", "two"]]


@pytest.mark.parametrize("language", ["en", "fr", "de", "de-CH"])
def test_a_quote_that_opens_after_a_line_break_opens(language):
    body = chapter(
        "::: poem\n\"Once upon\\\n\"They called me\n\n'Twas\\\n'They said' so\n:::\n", language
    )
    opening = {"en": "“‘", "fr": "«“", "de": "„‚", "de-CH": "«‹"}[language]
    lines = [line.lstrip("\u202f ") for stanza in stanzas(body) for line in stanza]
    assert [line[0] for line in lines] == [opening[0], opening[0], opening[1], opening[1]]


def test_an_apostrophe_after_a_line_break_stays_one_without_a_closing_quote():
    body = chapter("::: poem\n'Twas cold\\\n'tis warm\n:::\n")
    assert stanzas(body) == [["’Twas cold", "’tis warm"]]


@pytest.mark.parametrize("level", [1, 2])
def test_a_page_marker_before_a_heading_goes_into_the_heading(level):
    body = chapter(f'[]{{.pagebreak page="7"}}\n\n{"#" * level} Heading\n\nText.\n')
    heading = next(body.iter(tag(f"h{level}")))
    marker = heading[0]
    assert marker.get(EPUB_TYPE) == "pagebreak" and marker.get("id") == "page-7"
    assert text_of(heading) == "Heading"
    first = next(e for e in body.iter() if e is not body and e.tag != tag("section"))
    assert first is heading  # nothing, no empty block, before the heading


@pytest.fixture(scope="module")
def poem_build(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    project = ProjectMaker(tmp_path_factory.mktemp("verse") / "project")
    project.book("poems", chapters={"01-poems.md": POEM})
    out = project.root / "dist"
    formats = ["epub", "kepub", "azw3", "mobi", "docx"]
    api.build(project.root, ["poems"], formats, out)
    return {fmt: out / f"poems{FORMATS[fmt].suffix}" for fmt in formats}


def test_the_epub_and_kepub_of_verse_are_valid(poem_build, epubcheck):
    epubs = [p for p in poem_build.values() if p.name.endswith(".epub")]
    assert len(epubs) == 2
    for path in epubs:
        report = epubcheck.check(path)
        assert report.clean, report.messages


def test_the_stylesheet_sets_verse_and_small_caps():
    css = (REPO / "src/ebook_builder/data/base.css").read_text()
    for rule in (
        ".verse p > span {\n  display: block;\n  padding-left: 1.5em;\n  text-indent: -1.5em;",
        ".verse p {\n  text-align: left;\n  text-indent: 0;",
        ".verse p > span.i4 {\n  padding-left: 5.5em;",
        ".smallcaps {\n  font-variant: small-caps;",
    ):
        assert rule in css


def test_the_docx_sets_each_verse_line_in_a_left_aligned_verse_style(poem_build):
    document = docx.Document(str(poem_build["docx"]))
    verse = [
        (p.style.name, p.text) for p in document.paragraphs if p.style.name.startswith("Verse")
    ]
    assert verse[:3] == [
        ("Verse Stanza", "“Hark,” she said, “the night"),
        ("Verse", "“They called me the Raven,”"),
        ("Verse", "\u00a0\u00a0\u00a0\u00a0’tis the hour of dreams."),
    ]
    assert [name for name, _ in verse].count("Verse Stanza") == 5
    assert ("Verse 2", "indented line") in verse
    for paragraph in document.paragraphs:
        if paragraph.style.name.startswith("Verse"):
            style = paragraph.style
            assert style.paragraph_format.alignment in (None, WD_ALIGN_PARAGRAPH.LEFT)
            while style.paragraph_format.alignment is None:
                style = style.base_style
            assert style.paragraph_format.alignment == WD_ALIGN_PARAGRAPH.LEFT
    base = document.styles["Verse"].paragraph_format
    assert base.first_line_indent < 0 and base.left_indent == -base.first_line_indent
    assert document.styles["Verse Stanza"].paragraph_format.space_before > 0
    after = next(p for p in document.paragraphs if p.text == "Prose after the poem.")
    assert after.style.name == "First Paragraph" and after.paragraph_format.space_before > 0


def test_the_docx_keeps_small_caps(poem_build):
    with zipfile.ZipFile(poem_build["docx"]) as archive:
        root = etree.fromstring(archive.read("word/document.xml"))
    w = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
    runs = [r for r in root.iter(f"{w}r") if r.find(f"{w}rPr/{w}smallCaps") is not None]
    assert "".join("".join(r.itertext()) for r in runs) == "dreams"


def test_the_kindle_files_carry_verse_and_page_markers(poem_build, tmp_path):
    """calibre reads the AZW3, and the MOBI 6 half of the .mobi cut out by KindleUnpack."""
    mobi6 = tmp_path / "mobi6.mobi"
    mobi6.write_bytes(mobi6_half(poem_build["mobi"]))
    backs = calibre_epubs({"azw3": poem_build["azw3"], "mobi6": mobi6}, tmp_path)
    for name, back in backs.items():
        with zipfile.ZipFile(back) as archive:
            text = b"".join(
                archive.read(name) for name in archive.namelist() if name.endswith("html")
            ).decode("utf-8")
        assert "“They called me the Raven" in text
        assert "“Hark,” she said, “the night" in text
        if name == "azw3":
            assert 'id="page-3"' in text
        else:  # MOBI 6: a line's indent class as em spaces
            assert "\u2003\u2003indented line" in text


def test_the_second_shipped_book_has_no_marker_before_a_heading(shipped):
    epub = shipped["epub"]["revolutionary-heritage-1917"]
    with zipfile.ZipFile(epub) as archive:
        documents = {
            name: etree.fromstring(archive.read(name))
            for name in archive.namelist()
            if name.endswith(".xhtml")
        }
    nav = next(doc for name, doc in documents.items() if name.endswith("nav.xhtml"))
    page_list = next(n for n in nav.iter(f"{{{XHTML_NS}}}nav") if n.get(EPUB_TYPE) == "page-list")
    targets = [a.get("href") for a in page_list.iter(f"{{{XHTML_NS}}}a")]
    assert targets
    for target in targets:
        file_name, _, anchor = target.partition("#")
        (document,) = [doc for name, doc in documents.items() if name.endswith(file_name)]
        assert document.find(f".//*[@id='{anchor}']") is not None
    for page in ("page-1", "page-25"):
        (marker,) = [e for doc in documents.values() for e in doc.iter() if e.get("id") == page]
        assert marker.getparent().tag == f"{{{XHTML_NS}}}h1"
