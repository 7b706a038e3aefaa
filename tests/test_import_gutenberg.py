"""`ebook import` of the shapes Project Gutenberg's books (and other HTML) take, one small
case each: PG's frame and header, page numbers, notes marked by a pair of links, a title
page set in headings, the source's own contents, skipped heading levels, links to files
beside the source, verse; PG's plain text, old and new. The whole PG book is in
tests/test_import_outside.py."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from ebook_builder.importers import import_book
from tests.helpers import EpubCheck
from tests.test_import import assert_builds, notes, texts

HEADER = """<h1>The Project Gutenberg eBook of A Tale, by Ann Author</h1>
<p>This eBook is for the use of anyone anywhere at no cost.</p>
<p>Title: A Tale</p><p>Author: Ann Author</p>
<p>Release Date: May 1, 2006 [eBook #123]</p><p>Language: French</p>
<p>*** START OF THE PROJECT GUTENBERG EBOOK A TALE ***</p>"""
AUTHOR = '<meta name="author" content="Ann Author"/>'
FOOTER = """<p>*** END OF THE PROJECT GUTENBERG EBOOK A TALE ***</p>
<h2>THE FULL PROJECT GUTENBERG LICENSE</h2><p>Section 1. General Terms of Use.</p>"""


def imported(tmp_path: Path, body: str, head: str = "") -> tuple[list[str], str, dict[str, Any]]:
    """The chapters, the report and the metadata of an HTML page with `body`."""
    tmp_path.mkdir(parents=True, exist_ok=True)
    file = tmp_path / "book.html"
    file.write_text(f"<html><head>{head}</head><body>{body}</body></html>", encoding="utf-8")
    result = import_book(file, "book", project=tmp_path / "project")
    report = (tmp_path / "project" / "book" / "book" / "IMPORT.md").read_text(encoding="utf-8")
    return texts(result), report, yaml.safe_load(result.metadata.read_text(encoding="utf-8"))


@pytest.mark.parametrize(
    ("header", "footer"),
    [
        (HEADER, FOOTER),  # PG's HTML before 2020: paragraphs
        (  # an older header set in <pre>
            "<pre>Title: A Tale\nAuthor: Ann Author\nLanguage: French\n\n"
            "*** START OF THIS PROJECT GUTENBERG EBOOK A TALE ***\n\nProduced by X</pre>",
            "<pre>*** END OF THIS PROJECT GUTENBERG EBOOK A TALE ***\nLicence.</pre>",
        ),
        (  # PG's HTML5 and EPUB: sections around the header and the footer
            '<section class="pg-boilerplate" id="pg-header"><h2>The Project Gutenberg eBook'
            " of A Tale</h2><p><strong>Title</strong>: A Tale</p><p><strong>Author</strong>:"
            " Ann Author</p><p><strong>Language</strong>: French</p><div>*** START OF THE"
            " PROJECT GUTENBERG EBOOK A TALE ***</div></section>",
            '<section class="pg-boilerplate" id="pg-footer"><div>*** END OF THE PROJECT'
            " GUTENBERG EBOOK A TALE ***</div><p>Section 1. Licence.</p></section>",
        ),
    ],
)
def test_project_gutenbergs_header_and_licence_go_and_fill_the_metadata(
    tmp_path: Path, header: str, footer: str
) -> None:
    body = f"{header}<h1>Chapter One</h1><p>Il était une fois.</p>{footer}"
    [chapter], report, metadata = imported(tmp_path, body)
    assert chapter == "# Chapter One {#chapter-one}\n\nIl était une fois.\n"
    assert (metadata["title"], metadata["creators"], metadata["language"]) == (
        "A Tale",
        ["Ann Author"],
        "fr",
    )
    assert "dropped the Project Gutenberg header" in report and "licence" in report
    assert "`language` set to `en`" not in report  # the header's replaced the guess


# PG's plain text: a paragraph per run of lines wrapped at 70 columns, verse line by line.
TEXT = """\
CHAPTER ONE


Il était une fois un roi qui avait trois filles, et la plus jeune était
si belle que le soleil lui-même s'étonnait chaque fois qu'il la voyait.

  Au clair de la lune, mon ami Pierrot,
  Prête-moi ta plume pour écrire un mot.
"""
TEXT_FRAMES = [
    (  # PG's plain text since the 2000s
        "The Project Gutenberg EBook of A Tale, by Ann Author\n\nThis eBook is for the use"
        " of anyone anywhere at no cost and with\nalmost no restrictions whatsoever.\n\n"
        "Title: A Tale\n\nAuthor: Ann Author\n\nLanguage: French\n\n"
        "*** START OF THIS PROJECT GUTENBERG EBOOK A TALE ***\n\n\n\n\n",
        "\n\n\nEnd of the Project Gutenberg EBook of A Tale, by Ann Author\n\n*** END OF"
        " THIS PROJECT GUTENBERG EBOOK A TALE ***\n\nSection 1. General Terms of Use.\n",
    ),
    (  # a START line that PG wrapped, its title being long
        "Title: A Tale\n\nAuthor: Ann Author\n\nLanguage: French\n\n\n***START OF THE"
        " PROJECT GUTENBERG EBOOK A TALE OF TWO RIVERS, AND OF THEIR\nVALLEYS***\n\n\n",
        "\n\n***END OF THE PROJECT GUTENBERG EBOOK A TALE OF TWO RIVERS, AND OF THEIR\n"
        "VALLEYS***\n",
    ),
    (  # PG's 1990s plain text: the licence ("the small print") first, no fields
        "The Project Gutenberg Etext of A Tale\n\n***START**THE SMALL PRINT!**FOR PUBLIC"
        ' DOMAIN ETEXTS**START***\nWhy is this "Small Print!" statement here?\n'
        "*END*THE SMALL PRINT! FOR PUBLIC DOMAIN ETEXTS*Ver.04.29.93*END*\n\n\n\n",
        "\n\nEnd of The Project Gutenberg Etext of A Tale\n",
    ),
    (  # its later versions' last line of the small print
        "The Project Gutenberg Etext of A Tale\n\n"
        "*END THE SMALL PRINT! FOR PUBLIC DOMAIN ETEXTS*Ver.12.12.00*END*\n\n\n",
        "\n\nEnd of Project Gutenberg Etext of A Tale\n",
    ),
]


@pytest.mark.parametrize(("header", "footer"), TEXT_FRAMES)
def test_a_pg_plain_text_loses_its_frame_and_keeps_its_paragraphs_and_verse(
    tmp_path: Path, header: str, footer: str, epubcheck: EpubCheck
) -> None:
    file = tmp_path / "book.txt"
    file.write_text(f"{header}{TEXT}{footer}".replace("\n", "\r\n"), encoding="utf-8")
    result = import_book(file, "book", project=tmp_path / "project")
    report = (tmp_path / "project" / "book" / "book" / "IMPORT.md").read_text(encoding="utf-8")
    assert texts(result) == [
        "# CHAPTER ONE\n\nIl était une fois un roi qui avait trois filles, et la plus jeune "
        "était si belle que le soleil lui-même s'étonnait chaque fois qu'il la voyait.\n\n"
        "| Au clair de la lune, mon ami Pierrot,\n| Prête-moi ta plume pour écrire un mot.\n"
    ]
    assert "dropped the Project Gutenberg header" in report
    metadata = yaml.safe_load(result.metadata.read_text(encoding="utf-8"))
    if "Title:" in header:
        assert (metadata["title"], metadata["creators"], metadata["language"]) == (
            "A Tale",
            ["Ann Author"],
            "fr",
        )
    else:  # nothing states them: the first title-like line is the title, as for any text
        assert metadata["title"] == "CHAPTER ONE"
        metadata["creators"] = ["Ann Author"]
        result.metadata.write_text(yaml.safe_dump(metadata), encoding="utf-8")
    assert_builds(tmp_path / "project", "book", epubcheck)


def test_pg_footnotes_become_notes_cited_where_their_marks_stand(
    tmp_path: Path, epubcheck: EpubCheck
) -> None:
    """Distributed Proofreaders' plain texts set a note as `[Footnote 1: …]` after the
    paragraph citing it as `[1]` (or `[A]`), the numbers starting again in each chapter.
    A note whose mark is nowhere before it, and a mark with no note, stay as they are."""
    text = (
        "Title: A Tale\nAuthor: Ann Author\n\n"
        "*** START OF THE PROJECT GUTENBERG EBOOK A TALE ***\n\n\n\n\n"
        "CHAPTER I.\n\nThe king spoke to the town,[1] and they listened to him for a\n"
        "long time, as kings are heard.[A] Then they went home.\n\n"
        "[Footnote 1: The town is now called Oldtown, and its people\nare patient.]\n\n"
        "[Footnote A: Not _always_.]\n\nA mark [2] with no note.\n\n"
        "[Footnote 9: A note nobody cites.]\n\n\n\n\n"
        "CHAPTER II.\n\nAgain the king spoke.[1]\n\n[Footnote 1: Once more.]\n\n"
        "*** END OF THE PROJECT GUTENBERG EBOOK A TALE ***\n"
    )
    file = tmp_path / "book.txt"
    file.write_text(text, encoding="utf-8")
    result = import_book(file, "book", project=tmp_path / "project")
    first, second = texts(result)
    assert "the town,[^1] and" in first and "are heard.[^2] Then" in first
    assert "[^1]: The town is now called Oldtown, and its people are patient.\n" in first
    assert "[^2]: Not *always*.\n" in first
    assert "A mark [2] with no note." in first and "[Footnote 9: A note nobody cites.]" in first
    assert second == "# CHAPTER II.\n\nAgain the king spoke.[^1]\n\n[^1]: Once more.\n"
    report = (tmp_path / "project" / "book" / "book" / "IMPORT.md").read_text(encoding="utf-8")
    assert "3 footnotes" in report
    assert_builds(tmp_path / "project", "book", epubcheck)


def test_a_stated_title_is_kept_and_a_book_without_the_frame_is_untouched(
    tmp_path: Path,
) -> None:
    body = f"{HEADER}<h1>One</h1><p>Text.</p>{FOOTER}"
    _, _, metadata = imported(tmp_path / "stated", body, "<title>The Tale Itself</title>")
    assert metadata["title"] == "The Tale Itself"
    plain = "<h1>One</h1><p>Title: Not a header.</p>"
    [chapter], report, metadata = imported(tmp_path / "plain", plain)
    assert "Title: Not a header." in chapter and "Gutenberg" not in report
    assert metadata["title"] == "One"


def test_pg_page_numbers_become_page_break_markers_with_a_page_source(
    tmp_path: Path, epubcheck: EpubCheck
) -> None:
    body = (
        f'{HEADER}<h1>One</h1><p>A page<span class="pagenum"><a id="Page_12">[Pg 12]</a>'
        '</span> turns. <span class="calibre3"><a id="Page_xiii">[Pg xiii]</a></span>'
        f'<a href="#Page_12">See page 12.</a></p>{FOOTER}'
    )
    [chapter], report, metadata = imported(tmp_path, body)
    chapter = " ".join(chapter.split())
    assert '[]{#Page_12 .pagebreak page="12"}' in chapter
    assert '[]{#Page_xiii .pagebreak page="xiii"}' in chapter
    assert "[Pg" not in chapter and "2 page numbers" in report
    assert metadata["page_source"] == "the printed book of Project Gutenberg eBook #123"
    assert_builds(tmp_path / "project", "book", epubcheck)


NOTES = """<h1>One</h1>
<p>Cited here.<a id="FNanchor_1"></a><a href="#Footnote_1" class="fnanchor">[1]</a>
Again<a id="r2" href="#n2"><sup>2</sup></a>.</p>
<div class="footnote"><p><a id="Footnote_1"></a><a href="#FNanchor_1">[1]</a> The first
note.</p><p>Its second paragraph.</p></div>
<p>More text, citing <a href="#part">the part</a>.</p>
<h1 id="part">Two</h1><p>Text.</p>
<h2>FOOTNOTES</h2>
<p><a id="n2" href="#r2">2.</a> The second note, <a href="#r2">back to the text</a>.</p>"""


def test_notes_marked_by_a_link_and_a_link_back_become_markdown_notes(
    tmp_path: Path, epubcheck: EpubCheck
) -> None:
    [one, two], report, _ = imported(tmp_path, NOTES, AUTHOR)
    assert notes([one, two]) == 2 and notes([two]) == 0  # both in the chapter citing them
    assert "[^1]: The first note.\n\n    Its second paragraph." in one
    assert "The second note, back to the text." in one  # a long back link keeps its text
    assert "FNanchor" not in one and "Footnote_1" not in one and "[1]" not in one
    assert "(02-two.md#part)" in one  # a link with no way back stays a link
    assert "FOOTNOTES" not in two and "dropped the heading `FOOTNOTES`" in report
    assert "2 notes marked by a link and a link back" in report
    assert_builds(tmp_path / "project", "book", epubcheck)


def test_a_chapter_heading_linking_back_to_the_contents_is_no_note(tmp_path: Path) -> None:
    body = (
        '<h1>Contents</h1><p><a id="toc1" href="#ch1">Chapter One</a> and a word.</p>'
        '<h1 id="ch1"><a href="#toc1">Chapter One</a></h1><p>Text.</p>'
    )
    chapters, report, _ = imported(tmp_path, body)
    assert notes(chapters) == 0 and "notes marked" not in report
    assert "Chapter One" in chapters[-1].splitlines()[0]


def test_a_title_page_set_in_headings_is_front_matter_and_the_chapters_rise(
    tmp_path: Path,
) -> None:
    body = (
        "<h1>A TALE</h1><h2>BY</h2><h1>ANN AUTHOR</h1><hr/><p>&#160;</p>"
        "<h2>CHAPTER I.</h2><p>Text.</p><h3>Part</h3><p>More.</p><h2>CHAPTER II.</h2><p>End.</p>"
    )
    chapters, report, _ = imported(tmp_path, body)
    assert [text.splitlines()[0] for text in chapters] == [
        "# Front matter {.frontmatter}",
        "# CHAPTER I. {#chapter-i.}",
        "# CHAPTER II. {#chapter-ii.}",
    ]
    assert "A TALE\n\nBY\n\nANN AUTHOR" in chapters[0] and "## Part" in chapters[1]
    assert "(a title page) made paragraphs: A TALE; BY; ANN AUTHOR" in report


def test_a_lone_title_heading_over_a_byline_gives_the_chapters_below_it(
    tmp_path: Path, epubcheck: EpubCheck
) -> None:
    """PG's HTML of many novels: `<h1>` the title, a byline, then `<h2>` chapters. Cut at
    its one level-1 heading, the book was one chapter."""
    body = (
        '<h1>THE TALE</h1><p class="center">BY ANN AUTHOR</p><h2>CHAPTER I</h2><p>One.</p>'
        "<h3>A section</h3><p>More.</p><h2>CHAPTER II</h2><p>Two.</p>"
    )
    chapters, report, _ = imported(tmp_path, body, AUTHOR)
    assert [chapter.split("\n")[0] for chapter in chapters] == [
        "# Front matter {.frontmatter}",
        "# CHAPTER I {#chapter-i}",
        "# CHAPTER II {#chapter-ii}",
    ]
    assert "THE TALE\n\nBY ANN AUTHOR" in chapters[0] and "## A section" in chapters[1]
    assert "`THE TALE`, over 2 level-2 headings taken for the book's title" in report
    assert_builds(tmp_path / "project", "book", epubcheck)


def test_an_essays_heading_over_its_opening_keeps_its_sections(tmp_path: Path) -> None:
    opening = "<p>" + "An essay opens with words of its own before its first section. " * 5
    body = f"<h1>On Kings</h1>{opening}</p><h2>First</h2><p>a</p><h2>Second</h2><p>b</p>"
    [chapter], report, _ = imported(tmp_path, body, AUTHOR)
    assert chapter.startswith("# On Kings") and "\n## First" in chapter
    assert "book's title" not in report


def test_a_title_page_in_divs_after_a_notice_and_pgs_page_titles_go_too(
    tmp_path: Path,
) -> None:
    body = (
        f"{HEADER}<h3>There are several editions of this ebook.</h3><p>See them.</p>"
        '<div class="chapter"><h1>A TALE</h1><div class="title"><h2>IN PROSE</h2>'
        "<h3>BY</h3></div><p><br/></p><h2>ANN AUTHOR</h2><h2>STAVE ONE.</h2><p>Text.</p>"
        "<h2>The Project Gutenberg eBook of A Tale, by Ann Author</h2><p><br/></p>"
        f"<h2>STAVE TWO.</h2><p>End.</p></div>{FOOTER}"
    )
    chapters, report, _ = imported(tmp_path, body)
    assert [text.splitlines()[0] for text in chapters] == [
        "# Front matter {.frontmatter}",
        "# STAVE ONE. {#stave-one.}",
        "# STAVE TWO. {#stave-two.}",
    ]
    assert "made paragraphs: A TALE; IN PROSE; BY; ANN AUTHOR" in report
    assert "dropped the heading `The Project Gutenberg eBook of A Tale" in report


@pytest.mark.parametrize(
    "contents",
    [
        '<table><tr><td><a href="#c1">I.</a></td><td>Start</td></tr>'
        '<tr><td><a href="#c2">II.</a></td><td>End</td></tr></table>',
        '<ul><li><a href="#c1">Start</a></li><li><a href="#c2">End</a></li></ul>',
        '<p><a href="#c1">Start</a></p><p><a href="#c2">End</a>, page 9</p>',
        '<p>&#160;</p><div class="contents">I<br/><a href="#c1">Start</a><br/><br/>II<br/>'
        '<a href="#c2">End</a></div><hr/>',  # PG's lines of links in a div
    ],
)
def test_the_sources_own_contents_go_as_the_build_makes_them(tmp_path: Path, contents: str) -> None:
    body = (
        f'<h1>Contents</h1>{contents}<h1 id="c1">Start</h1><p>Text.</p>'
        '<h1 id="c2">End</h1><p>More, see <a href="https://example.org">this</a>.</p>'
    )
    chapters, report, _ = imported(tmp_path, body)
    assert [text.splitlines()[0] for text in chapters] == ["# Start {#c1}", "# End {#c2}"]
    assert "dropped `Contents`, the source's table of contents" in report


def test_a_heading_that_skips_levels_is_raised_and_siblings_stay_siblings(
    tmp_path: Path,
) -> None:
    body = "<h1>One</h1><p>a</p><h4>Deep</h4><p>b</p><h4>Also</h4><p>c</p><h5>Under</h5><p>d</p>"
    [chapter], report, _ = imported(tmp_path, body)
    headings = [line for line in chapter.splitlines() if line.startswith("#")]
    assert [h.split()[0] for h in headings] == ["#", "##", "##", "###"]
    assert "3 headings that skipped a level" in report


def test_headings_in_a_table_are_raised_too(tmp_path: Path) -> None:
    """PG's HTML of *The 'Mind the Paint' Girl* (#21849) lays out its title page and its
    publisher's list in tables of `<h1>`, `<h5>` and `<h6>`: `ebook check` refused the
    draft, a level skipped in a table's cell."""
    body = (
        "<h1>One</h1><p>a</p><table><tr><td><h5>A COMEDY</h5><h6>In Four Acts</h6></td>"
        "</tr></table><h3>The First Act</h3><p>b</p>"
    )
    file = tmp_path / "book.html"
    file.write_text(f"<html><head>{AUTHOR}</head><body>{body}</body></html>", encoding="utf-8")
    result = import_book(file, "book", project=tmp_path / "project")
    [chapter] = texts(result)
    assert "| ## A COMEDY" in chapter and "| ### In Four Acts" in chapter
    assert "\n## The First Act" in chapter
    assert result.problems == []


def test_an_id_used_twice_is_renamed_and_links_go_to_the_first(tmp_path: Path) -> None:
    """PG's HTML of *Two Latin Plays* (#31894): pandoc ids the heading `<h3><a
    id="contents">CONTENTS</a></h3>` by its text, the id of the anchor inside it, and
    `ebook check` refused the draft: duplicate id 'contents'."""
    body = (
        '<h1>One</h1><p><a href="#contents">Contents</a></p>'
        '<h2><a id="contents">CONTENTS</a></h2><p>a</p><p id="contents">b</p>'
    )
    file = tmp_path / "book.html"
    file.write_text(f"<html><head>{AUTHOR}</head><body>{body}</body></html>", encoding="utf-8")
    result = import_book(file, "book", project=tmp_path / "project")
    [chapter] = texts(result)
    assert "[Contents](#contents)" in chapter
    assert "## [CONTENTS]{#contents-2} {#contents}" in chapter
    assert "ids used twice" in (result.chapters[0].parent / "IMPORT.md").read_text("utf-8")
    assert result.problems == []


def test_definitions_without_a_term_are_plain_text_and_keep_their_ids(tmp_path: Path) -> None:
    """LaTeX2HTML's pages (PG's Debian guide, #6527) indent with `<dd>` after an empty
    `<dt>`; pandoc's Markdown of such a list read back as a paragraph `: text` and a
    code block, the anchors in it lost, and `ebook check` refused every link to them."""
    body = (
        '<h1>One</h1><p><a href="#a1">to a1</a> <a href="#nav">to nav</a></p>'
        "<dl><dt></dt><dd><p>First, indented.</p>"
        '<p><a name="a1"></a>Second, <em>marked</em>.</p></dd><dt>Term</dt><dd>Meaning.</dd></dl>'
        '<p><a name="nav" href="elsewhere.html" target="_blank">next</a></p>'
    )
    file = tmp_path / "book.html"
    file.write_text(f"<html><head>{AUTHOR}</head><body>{body}</body></html>", encoding="utf-8")
    result = import_book(file, "book", project=tmp_path / "project")
    [chapter] = texts(result)
    assert "\n\nFirst, indented.\n\n[]{#a1}Second, *marked*.\n\nTerm\n:   Meaning.\n" in chapter
    # A link made its text (its file is not in the book) keeps its id for links to it,
    # not a link's `target`, which EPUBCheck refuses on a span (Modern Icelandic Plays).
    assert "[next]{#nav}" in chapter
    report = (result.chapters[0].parent / "IMPORT.md").read_text("utf-8")
    assert "1 definitions without a term" in report
    assert result.problems == []


def test_a_link_to_a_file_beside_the_source_becomes_its_text(tmp_path: Path) -> None:
    (tmp_path / "music").mkdir()
    (tmp_path / "music" / "song.midi").write_bytes(b"MThd")
    body = '<h1>One</h1><p>[<a href="music/song.midi">Listen</a>] <a href="#x">here</a></p>'
    [chapter], report, _ = imported(tmp_path, body.replace("#x", "https://example.org/"))
    assert "\\[Listen\\]" in chapter and "song.midi" not in chapter
    assert "(https://example.org/)" in chapter
    assert "link to `music/song.midi` kept as its text" in report


def test_pg_stanzas_become_line_blocks(tmp_path: Path, epubcheck: EpubCheck) -> None:
    body = (
        '<h1>Song</h1><div class="poem"><div class="stanza">'
        '<span class="i0">The first line,<br/></span><span class="i2">the second.<br/></span>'
        '</div><div class="stanza"><div class="verse indent0">Then a div,</div>'
        '<div class="verse indent4">and one indented.</div></div></div>'
    )
    [chapter], report, _ = imported(tmp_path, body, AUTHOR)
    assert "| The first line,\n| \u00a0\u00a0the second." in chapter
    assert "| Then a div,\n| \u00a0\u00a0\u00a0\u00a0and one indented." in chapter
    assert "2 stanzas" in report
    assert_builds(tmp_path / "project", "book", epubcheck)
