"""Unit tests of `ebook import` (ebook_builder.importers.text) on small inline texts."""

from __future__ import annotations

import dataclasses
import uuid
from pathlib import Path

import pytest
import yaml

from ebook_builder.errors import InputError, UsageError
from ebook_builder.importers import ImportResult, import_book

WEB = """\
A Pamphlet Title

download an illustrated pdf of this pamphlet

Table of Contents

The First Essay: A Beginning
The Second Essay\u00a0

The First Essay \u2013 A Beginning

This is the first paragraph of the first essay, long enough to read as prose.

Early Days

The organizers described their meetings like this:

We met at night in the back rooms of the factories and talked until morning about everything.

They were organized as follows:

  \u2022 Delegates were elected.
  \u2022 Delegates could be recalled.

The resolution read:

  1. The first principle.
  2. The second principle.


\u00a0The Second Essay

A short quotation stands here at the head of the essay.
\u2013Someone Famous

Text of the second essay. Write to speakout@example.org or visit www.example.org today.
"""

PDF = """\
 A Printed Pamphlet
The first paragraph of the pamphlet starts here and it goes on for
a while, as printed paragraphs do, with the non-
Marxist parties and the work-
ers of the big cities.
The Middle Section
Some text on page one that runs into the next page without a
1

break, and then it ends here.
This paragraph starts on page two and runs on until the next page
 begins on a line that starts with a space, so this is page three.

A caption under a picture that is not in the text

The text goes on.
Where We Stand
We stand for these things:
\u2022 Common ownership of the world\u2019s resources.

\u2022

An egalitarian government.
Contact us
speakout@example.org
"""


def run(tmp_path: Path, text: str, kind: str, book_id: str = "a-book") -> ImportResult:
    source = tmp_path / "source.txt"
    source.write_text(text, encoding="utf-8")
    return import_book(source, book_id, kind, tmp_path / "project")


def chapter_texts(result: ImportResult) -> list[str]:
    return [path.read_text(encoding="utf-8") for path in result.chapters]


# --- web pages -------------------------------------------------------------------------


def test_web_writes_one_file_per_essay_named_after_its_title(tmp_path: Path) -> None:
    result = run(tmp_path, WEB, "web")
    book = tmp_path / "project" / "book" / "a-book"
    assert result.chapters == [
        book / "01-the-first-essay-a-beginning.md",
        book / "02-the-second-essay.md",
    ]
    first, second = chapter_texts(result)
    assert first.startswith("# The First Essay \u2013 A Beginning\n\n")
    assert "\n## Early Days\n" in first
    assert second.startswith("# The Second Essay\n")


def test_web_drops_contents_list_and_download_link(tmp_path: Path) -> None:
    text = "".join(chapter_texts(run(tmp_path, WEB, "web")))
    assert "Table of Contents" not in text
    assert "download" not in text
    assert text.count("The Second Essay") == 1
    assert "\u00a0" not in text


def test_web_lists_quotations_and_epigraphs(tmp_path: Path) -> None:
    first, second = chapter_texts(run(tmp_path, WEB, "web"))
    assert "- Delegates were elected.\n- Delegates could be recalled.\n" in first
    assert "1. The first principle.\n2. The second principle.\n" in first
    assert "\n> We met at night in the back rooms" in first
    assert "::: epigraph\n> A short quotation stands here at the head of the essay.\n" in second
    assert ">\n> \u2014 Someone Famous\n:::" in second


def test_web_links_addresses(tmp_path: Path) -> None:
    second = chapter_texts(run(tmp_path, WEB, "web"))[1]
    assert "Write to <speakout@example.org> or visit" in second
    assert "[www.example.org](http://www.example.org) today." in second


def test_web_without_contents_list_takes_title_set_apart_as_chapter(tmp_path: Path) -> None:
    text = (
        "Book\n\nFirst Essay\n\nSome prose here.\n\nA Section\n\nMore prose.\n\n\n"
        "Next Essay\n\nEnd.\n"
    )
    first, second = chapter_texts(run(tmp_path, text, "web"))
    assert first == "# First Essay\n\nSome prose here.\n\n## A Section\n\nMore prose.\n"
    assert second == "# Next Essay\n\nEnd.\n"


def test_a_hard_wrapped_text_is_a_paragraph_per_run_of_lines_and_verse_keeps_them(
    tmp_path: Path,
) -> None:
    text = (
        "The First Chapter\n\n"
        "This paragraph was typed at seventy columns, as Project Gutenberg\n"
        "wraps its texts, so that its lines run on into each other until\n"
        "the paragraph ends.\n\n"
        "A second paragraph follows it after a blank line, and it too was\n"
        "wrapped by a typewriter's bell rather than by the sense of the words\n"
        "it holds, which is how the texts of Project Gutenberg were typed in\n"
        "the years before they had an HTML edition.\n\n"
        "  Hail Felpham! Hail! in youth my favorite scene!\n"
        "    First in my heart of villages marine!\n\n\n\n\n"
        "[Illustration: The Village Green]\n"
    )
    (chapter,) = chapter_texts(run(tmp_path, text, "web"))
    assert chapter == (
        "# The First Chapter\n\nThis paragraph was typed at seventy columns, as Project "
        "Gutenberg wraps its texts, so that its lines run on into each other until the "
        "paragraph ends.\n\nA second paragraph follows it after a blank line, and it too "
        "was wrapped by a typewriter's bell rather than by the sense of the words it holds, "
        "which is how the texts of Project Gutenberg were typed in the years before they had "
        "an HTML edition."
        "\n\n| Hail Felpham! Hail! in youth my favorite scene!\n"
        "|   First in my heart of villages marine!\n\n"
        "[Illustration: The Village Green]\n"  # PG's picture, set apart, is no title
    )


def test_a_wrapped_texts_contents_go_and_its_entries_open_the_chapters(tmp_path: Path) -> None:
    prose = (
        "The words of this chapter were typed at seventy columns, as Project\n"
        "Gutenberg wraps its texts, and they run on from line to line until\n"
        "the end of the paragraph.\n"
    )
    text = (
        "*** START OF THE PROJECT GUTENBERG EBOOK A LONG NOVEL ***\n\n"
        "A Long Novel\n\n\n    Contents\n\n    BOOK ONE: 1805\n\n    CHAPTER I\n\n"
        "    CHAPTER II\n\n\n    BOOK TWO: 1806\n\n    CHAPTER I\n\n\n\n\n"
        f"BOOK ONE: 1805\n\n\n\n\nCHAPTER I\n\n{prose}\n\n\n\nCHAPTER II\n\n{prose}"
        f"\n\n\n\nBOOK TWO: 1806\n\n\n\n\nCHAPTER I\n\n{prose}"
    )
    chapters = chapter_texts(run(tmp_path, text, "web"))
    # PG sets a blank line between the entries, two between the parts of a book.
    assert [chapter.split("\n")[0] for chapter in chapters] == [
        "# BOOK ONE: 1805",
        "# CHAPTER I",
        "# CHAPTER II",
        "# BOOK TWO: 1806",
        "# CHAPTER I",
    ]
    assert "Contents" not in "".join(chapters)


def test_a_wrapped_text_opens_a_chapter_at_a_title_after_four_blank_lines(tmp_path: Path) -> None:
    """The Complete Angler (PG #9198) heads its chapters `CHAP. II.` after four blank
    lines, PG's spacing before a chapter: the full stop kept them from being titles."""
    prose = (
        "My friend Piscator, you have kept time with my thoughts, for the Sun\n"
        "is just rising, and I my self just now come to this place, and the\n"
        "dogs have just now put down an Otter.\n"
    )
    text = (
        "*** START OF THE PROJECT GUTENBERG EBOOK THE COMPLETE ANGLER ***\n\n\n\n\n"
        f"CHAP. I.\n\n{prose}\n\nWell met.\n\n{prose}\n\n\n\nCHAP. II.\n\n{prose}"
    )
    chapters = chapter_texts(run(tmp_path, text, "web"))
    assert [chapter.split("\n")[0] for chapter in chapters] == ["# CHAP. I.", "# CHAP. II."]
    assert "\n\nWell met.\n\n" in chapters[0]  # two blank lines before: a paragraph


def test_a_hundred_chapters_are_numbered_so_the_folder_lists_them_in_order(
    tmp_path: Path,
) -> None:
    text = "A Long Book\n\n" + "".join(f"\n\nChapter {n}\n\nText.\n" for n in range(1, 101))
    names = [path.name for path in run(tmp_path, text, "web").chapters]
    assert names[0] == "001-chapter-1.md" and names[-1] == "100-chapter-100.md"
    assert sorted(names) == names


# --- text extracted from PDF ---------------------------------------------------------------


def test_pdf_joins_lines_and_repairs_hyphenation(tmp_path: Path) -> None:
    first = chapter_texts(run(tmp_path, PDF, "pdf-text"))[0]
    assert first.startswith("# A Printed Pamphlet\n\n")
    assert "with the non-Marxist parties and the workers of the big cities." in first
    assert "\n## The Middle Section\n" in first


def test_pdf_marks_every_printed_page_where_it_begins(tmp_path: Path) -> None:
    first = chapter_texts(run(tmp_path, PDF, "pdf-text"))[0]
    assert '\n\n[]{.pagebreak page="1"}The first paragraph' in first
    assert 'without a []{.pagebreak page="2"}break, and then it ends here.' in first
    assert 'until the next page []{.pagebreak page="3"}begins on a line' in first
    assert first.count("pagebreak") == 3
    assert not any("pagebreak" in line for line in first.splitlines() if line.startswith("#"))


def test_pdf_counts_pages_from_the_printed_numbers(tmp_path: Path) -> None:
    text = "Title\nOne line.\n4\n\nAnother line.\n moving on.\n"
    first = chapter_texts(run(tmp_path, text, "pdf-text"))[0]
    assert '[]{.pagebreak page="5"}Another line.' in first
    assert '[]{.pagebreak page="6"}moving on.' in first


def test_pdf_drops_captions_and_page_numbers(tmp_path: Path) -> None:
    text = "".join(chapter_texts(run(tmp_path, PDF, "pdf-text")))
    assert "caption" not in text
    assert "\n1\n" not in text
    assert "this is page three.\n\nThe text goes on.\n" in text


def test_pdf_back_matter_and_loose_bullets(tmp_path: Path) -> None:
    result = run(tmp_path, PDF, "pdf-text")
    names = [path.name for path in result.chapters]
    assert names == ["01-a-printed-pamphlet.md", "02-where-we-stand.md", "03-contact-us.md"]
    stand, contact = chapter_texts(result)[1:]
    assert stand.startswith("# Where We Stand {.backmatter}\n")
    assert "- Common ownership of the world\u2019s resources.\n- An egalitarian government.\n" in (
        stand
    )
    assert "\u2022" not in stand
    assert contact == "# Contact us {.backmatter}\n\n<speakout@example.org>\n"


def test_word_split_across_pages_is_joined_before_the_marker(tmp_path: Path) -> None:
    text = "Title\nThe work-\n ers of 1901-\n1905 marched.\n"
    first = chapter_texts(run(tmp_path, text, "pdf-text"))[0]
    assert 'The workers []{.pagebreak page="2"}of 1901-1905 marched.' in first


def test_compound_seen_elsewhere_keeps_its_hyphen(tmp_path: Path) -> None:
    text = "Title\nThe self-determination of nations and the self-\ndetermination of peoples.\n"
    first = chapter_texts(run(tmp_path, text, "pdf-text"))[0]
    assert "the self-determination of peoples." in first


# --- Markdown safety -------------------------------------------------------------------------


def test_line_starts_and_inline_specials_are_escaped(tmp_path: Path) -> None:
    text = (
        "Title\n\n1917. The year began in war.\n\n# not a heading, just a hash.\n\n"
        "Prices rose by *half* and $5 bought little.\n\n1818.\n\nII. The second part.\n\n"
        "(a) A first point.\n\n[_Aside._] She reads _The Times_ in snake_case.\n"
    )
    first = chapter_texts(run(tmp_path, text, "web"))[0]
    assert "\n1917\\. The year began in war.\n" in first
    # A list marker alone is an empty list item, its number lost; pandoc's lists also
    # count in Roman numerals and letters.
    assert "\n1818\\.\n\nII\\. The second part.\n\n\\(a\\) A first point.\n" in first
    # Words between underscores are italics, as plain text (and PG's texts) mark them.
    assert "\n[*Aside.*] She reads *The Times* in snake\\_case.\n" in first
    assert "\n\\# not a heading, just a hash.\n" in first
    assert "by \\*half\\* and \\$5 bought" in first


# --- metadata stub ---------------------------------------------------------------------------


def test_metadata_stub_is_deterministic_and_lists_chapters(tmp_path: Path) -> None:
    result = run(tmp_path, WEB, "web", book_id="my-book")
    assert result.metadata == tmp_path / "project" / "metadata" / "my-book.yaml"
    text = result.metadata.read_text(encoding="utf-8")
    data = yaml.safe_load(text)
    expected = uuid.uuid5(uuid.NAMESPACE_URL, "ebook-builder:my-book")
    assert data == {
        "title": "A Pamphlet Title",
        "language": "en",
        "identifier": f"urn:uuid:{expected}",
        "creators": [],
        "chapters": [path.name for path in result.chapters],
    }
    assert "# TODO" in text


def test_result_is_frozen(tmp_path: Path) -> None:
    result = run(tmp_path, WEB, "web")
    with pytest.raises(dataclasses.FrozenInstanceError):
        result.metadata = Path("elsewhere")  # type: ignore[misc]


# --- refusals ----------------------------------------------------------------------------------


@pytest.mark.parametrize("book_id", ["", "Bad", "-lead", "with space", "a/b", "dots.no"])
def test_bad_book_id_is_refused(tmp_path: Path, book_id: str) -> None:
    with pytest.raises(UsageError, match=r"source\.txt: book id"):
        run(tmp_path, WEB, "web", book_id=book_id)
    assert not (tmp_path / "project").exists()


def test_unknown_kind_is_refused(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match=r"source\.txt: unknown kind 'rtf'"):
        run(tmp_path, WEB, "rtf")


def test_existing_book_is_never_overwritten(tmp_path: Path) -> None:
    first = run(tmp_path, WEB, "web")
    before = first.chapters[0].read_text(encoding="utf-8")
    with pytest.raises(UsageError, match=r"a-book: already exists") as caught:
        run(tmp_path, PDF, "pdf-text")
    assert "\n" not in str(caught.value)
    assert first.chapters[0].read_text(encoding="utf-8") == before


def test_existing_metadata_is_never_overwritten(tmp_path: Path) -> None:
    metadata = tmp_path / "project" / "metadata" / "a-book.yaml"
    metadata.parent.mkdir(parents=True)
    metadata.write_text("title: Mine\n", encoding="utf-8")
    with pytest.raises(UsageError, match=r"a-book\.yaml: already exists"):
        run(tmp_path, WEB, "web")
    assert metadata.read_text(encoding="utf-8") == "title: Mine\n"
    assert not (tmp_path / "project" / "book").exists()


def test_unreadable_source_names_the_file(tmp_path: Path) -> None:
    missing = tmp_path / "missing.txt"
    with pytest.raises(InputError, match=r"missing\.txt: cannot read"):
        import_book(missing, "a-book", "web", tmp_path)


def test_non_utf8_source_names_the_file(tmp_path: Path) -> None:
    source = tmp_path / "latin1.txt"
    source.write_bytes("Caf\u00e9 society\n".encode("latin-1"))
    with pytest.raises(InputError, match=r"latin1\.txt: not plain text: not UTF-8") as caught:
        import_book(source, "a-book", "web", tmp_path)
    assert "\n" not in str(caught.value)
    assert not (tmp_path / "book").exists()


def test_a_text_in_the_8_bit_encoding_its_header_declares_is_read_in_it(tmp_path: Path) -> None:
    """Project Gutenberg's `-8.txt` files: ISO-8859-1 by their header, which (as in HTML)
    means Windows-1252, whose curly quotes they hold."""
    text = (
        "Title: Entre Nous\r\nCharacter set encoding: ISO-8859-1\r\n\r\n"
        "\u201cLa for\u00eat\u201d, dit l\u2019\u00e9l\u00e8ve.\r\n"
    )
    source = tmp_path / "44157-8.txt"
    source.write_bytes(text.encode("cp1252"))
    result = import_book(source, "a-book", "web", tmp_path / "project")
    assert "\u201cLa for\u00eat\u201d, dit l\u2019\u00e9l\u00e8ve." in "".join(
        chapter_texts(result)
    )
    source.write_bytes(text.encode("cp1252") + b"\x81")  # not Windows-1252 either
    with pytest.raises(InputError, match=r"44157-8\.txt: not plain text: not cp1252"):
        import_book(source, "b-book", "web", tmp_path / "project")


def test_an_html_page_in_the_8_bit_encoding_its_meta_declares_is_read_in_it(
    tmp_path: Path,
) -> None:
    """PG's HTML of the Debian guide (#6527), as LaTeX2HTML wrote it: ISO-8859-1 by its
    `<meta http-equiv="Content-Type" content="text/html; charset=iso-8859-1">`."""
    page = (
        '<html><head><meta http-equiv="Content-Type" content="text/html; '
        'charset=iso-8859-1"></head><body><h1>Caf\u00e9</h1><p>cr\u00e8me</p></body></html>'
    )
    source = tmp_path / "node4.html"
    source.write_bytes(page.encode("latin-1"))
    result = import_book(source, "a-book", "html", tmp_path / "project")
    assert "# Caf\u00e9" in "".join(chapter_texts(result))


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        ("\n\n  \n", "pdf-text"),
        ("\n\n  \n", "web"),
        # Project Gutenberg's frame around nothing: a START line alone, or END before START.
        ("*** START OF THE PROJECT GUTENBERG EBOOK A ***\n", "web"),
        (
            "*** END OF THE PROJECT GUTENBERG EBOOK A ***\n\nText.\n\n"
            "*** START OF THE PROJECT GUTENBERG EBOOK A ***\n",
            "web",
        ),
    ],
)
def test_empty_source_is_refused(tmp_path: Path, text: str, kind: str) -> None:
    with pytest.raises(InputError, match=r"source\.txt: no text to import"):
        run(tmp_path, text, kind)
