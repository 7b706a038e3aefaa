"""`ebook import` of Markdown and HTML manuscripts: split, notes, links, pictures, refusals."""

from __future__ import annotations

import base64
import io
import os
import re
import zipfile
from pathlib import Path
from typing import Any

import docx
import pytest
import yaml
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from lxml import etree
from PIL import Image
from typer.testing import CliRunner

from ebook_builder import api
from ebook_builder.cli import app
from ebook_builder.errors import ExitCode, InputError, OutputError, UsageError
from ebook_builder.formats import FORMATS
from ebook_builder.importers import ImportResult, import_book
from ebook_builder.markup.xhtml import EPUB_TYPE, TYPE_PREFIXES
from tests.helpers import (
    REPO,
    SHIPPED_BOOKS,
    TOUR,
    EpubCheck,
    ProjectMaker,
    ace_violations,
    chapter_files,
    libreoffice_convert,
    markdown_words,
    run_ace,
)

MARKDOWN = """\
---
title: Three Chapters
author: Jane Doe
---

# The First Chapter

A claim.[^first] See [the last part](#last-part).

![A red square](pictures/red.png)

[^first]: The first chapter's note.

# The Second Chapter

Nothing to note here.

# The Third Chapter

## Last Part {#last-part}

Another claim.[^third]

[^third]: The third chapter's note.
"""

HTML = """\
<!DOCTYPE html>
<html lang="en"><head><title>A Web Book</title>
<meta name="author" content="John Roe"></head>
<body>
<h1>Opening</h1>
<p>A claim<a href="#fn1" id="ref1">1</a>. See <a href="#closing-part">the end</a>.</p>
<p><img src="red.png" alt="A red square"></p>
<section id="closing-part" class="part">
<h1>Closing</h1>
<p>The end.</p>
<ol><li id="fn1">The note, at the end as web pages put it.</li></ol>
</section>
</body></html>
"""


def png() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (16, 16), "red").save(out, "PNG")
    return out.getvalue()


def source(tmp_path: Path, name: str, text: str, picture: str) -> Path:
    path = tmp_path / "src" / name
    (path.parent / picture).parent.mkdir(parents=True, exist_ok=True)
    (path.parent / picture).write_bytes(png())
    path.write_text(text, encoding="utf-8")
    return path


def texts(result: ImportResult) -> list[str]:
    return [path.read_text(encoding="utf-8") for path in result.chapters]


def assert_builds(
    project: Path, book_id: str, epubcheck: EpubCheck, formats: tuple[str, ...] = ("epub",)
) -> Path:
    """The imported book builds in `formats`, the EPUB among them, and its EPUB passes
    EPUBCheck with 0 errors and 0 warnings. Returns the EPUB."""
    written = api.build(project, [book_id], list(formats), project / "dist")
    books = {project / "dist" / f"{book_id}{FORMATS[fmt].suffix}" for fmt in formats}
    assert books <= set(written)
    epub = project / "dist" / f"{book_id}.epub"
    report = epubcheck.check(epub)
    assert report.clean, report.messages
    return epub


def test_markdown_splits_at_level_one_headings_keeping_notes(
    tmp_path: Path, epubcheck: EpubCheck
) -> None:
    file = source(tmp_path, "book.md", MARKDOWN, "pictures/red.png")
    project = tmp_path / "project"
    result = import_book(file, "three", project=project)
    assert [p.name for p in result.chapters] == [
        "01-the-first-chapter.md",
        "02-the-second-chapter.md",
        "03-the-third-chapter.md",
    ]
    first, second, third = texts(result)
    assert "The first chapter's note." in first and "third chapter's note" not in first
    assert "The third chapter's note." in third and "first chapter's note" not in third
    assert "[^" not in second
    assert "(03-the-third-chapter.md#last-part)" in first
    assert "![A red square](images/red.png)" in first
    assert (project / "book" / "three" / "images" / "red.png").read_bytes() == png()
    metadata = yaml.safe_load(result.metadata.read_text(encoding="utf-8"))
    assert metadata["title"] == "Three Chapters"
    assert metadata["creators"] == ["Jane Doe"]
    assert metadata["chapters"] == [p.name for p in result.chapters]
    report = (project / "book" / "three" / "IMPORT.md").read_text(encoding="utf-8")
    assert "split into 3 chapters" in report and "`language` set to `en`" in report
    assert result.problems == []
    with zipfile.ZipFile(assert_builds(project, "three", epubcheck)) as epub:
        names = epub.namelist()
    assert any(name.endswith("red.png") for name in names)


def test_html_splits_at_h1_even_in_a_section_and_links_to_the_note_list(
    tmp_path: Path, epubcheck: EpubCheck
) -> None:
    file = source(tmp_path, "page.html", HTML, "red.png")
    project = tmp_path / "project"
    result = import_book(file, "web-book", project=project)
    opening, closing = texts(result)
    assert "(02-closing.md#fn1)" in opening
    assert "(02-closing.md#closing-part)" in opening
    assert "{#closing-part}" in closing
    assert "![A red square](images/red.png)" in opening
    assert "The note, at the end" in closing
    metadata = yaml.safe_load(result.metadata.read_text(encoding="utf-8"))
    assert (metadata["title"], metadata["language"]) == ("A Web Book", "en")
    assert metadata["creators"] == ["John Roe"]
    assert result.problems == []
    report = (project / "book" / "web-book" / "IMPORT.md").read_text(encoding="utf-8")
    assert "its classes dropped: part" in report
    assert_builds(project, "web-book", epubcheck)


def test_html_notes_listed_at_the_end_become_one_note_each(tmp_path: Path) -> None:
    """A list of notes, each item linking back (`<ol><li id="n1">`), gives one note per
    item: the whole list was made the first note cited, the second reference a link."""
    file = tmp_path / "notes.html"
    file.write_text(
        '<h1>One</h1><p>A claim<a href="#n1" id="r1">1</a> and another<a href="#n2" id="r2">'
        '2</a>.</p><h2>Notes</h2><ol><li id="n1"><p>First note. <a href="#r1">↩</a></p></li>'
        '<li id="n2"><p>Second note. <a href="#r2">↩</a></p></li></ol>',
        encoding="utf-8",
    )
    project = tmp_path / "project"
    (chapter,) = texts(import_book(file, "notes", project=project))
    assert chapter == (
        "# One {#one}\n\nA claim[^1] and another[^2].\n\n[^1]: First note.\n\n[^2]: Second note.\n"
    )
    report = (project / "book" / "notes" / "IMPORT.md").read_text(encoding="utf-8")
    assert "2 notes marked by a link and a link back made notes" in report


@pytest.mark.parametrize(
    "body",
    [
        # A note in a list of one item: the list was taken for a div around it (IndexError).
        '<p>A claim<a href="#n1" id="r1">1</a>.</p><ul><li><p><span id="n1"></span>The note.'
        ' <a href="#r1">↩</a></p></li></ul>',
        # A note whose first citation is its own label: moved into itself, the tree had a
        # cycle, and the import never ended.
        '<div id="n1"><p><a href="#n1" id="r0">1</a> The note. <a href="#r0">↩</a></p></div>'
        '<p>A claim<a href="#n1" id="r1">1</a>.</p>',
        # A note's link back that is also the first link to another id: the reference went
        # with the first note (StopIteration).
        '<p>A<a href="#n1" id="r1">1</a>.</p><p id="n1"><a href="#r1" id="b1">1</a> The note.'
        '</p><p id="r1x">B<a href="#b1">2</a></p><p id="z"><a href="#r1">z</a></p>',
    ],
)
def test_notes_that_cite_themselves_or_sit_alone_in_a_list_import(
    tmp_path: Path, body: str
) -> None:
    """Found by generated pages (`test_fuzz`): every word of the note is kept."""
    file = tmp_path / "notes.html"
    file.write_text(f"<h1>One</h1>{body}", encoding="utf-8")
    (chapter,) = texts(import_book(file, "notes", project=tmp_path / "project"))
    assert "The note." in chapter


def test_ids_markdown_cannot_hold_are_renamed_with_their_links(tmp_path: Path) -> None:
    """HTML allows any id without spaces; pandoc writes `::: {#a/b}`, then reads that
    line back as text (Standard Ebooks' Pepys has `entry-1661-7-18/1661-7-23`)."""
    file = tmp_path / "ids.html"
    file.write_text(
        '<h1 id="h+1">One</h1><div id="a/b"><p>Text <a href="#a/b">back</a>'
        ' <a href="#h+1">top</a>.</p></div><div id="a-b"><p>Taken.</p></div>',
        encoding="utf-8",
    )
    project = tmp_path / "project"
    (chapter,) = texts(import_book(file, "ids", project=project))
    assert chapter == (
        "# One {#h-1}\n\n::: {#a-b-2}\nText [back](#a-b-2) [top](#h-1).\n:::\n\n"
        "::: {#a-b}\nTaken.\n:::\n"
    )
    report = (project / "book" / "ids" / "IMPORT.md").read_text(encoding="utf-8")
    assert "id `a/b` renamed `a-b-2`: Markdown cannot hold it" in report


def test_a_note_inside_a_note_follows_it_with_its_text(tmp_path: Path) -> None:
    """Markdown has no note in a note: pandoc's writer dropped the inner note's text (a
    poem quoted in one of Dante's notes has notes of its own)."""
    file = tmp_path / "notes.md"
    file.write_text("# One\n\nText^[Outer^[Inner^[Deepest.].] end.] more.\n", encoding="utf-8")
    project = tmp_path / "project"
    (chapter,) = texts(import_book(file, "notes", project=project))
    assert chapter == (
        "# One {#one}\n\nText[^1][^2][^3] more.\n\n"
        "[^1]: Outer end.\n\n[^2]: Inner.\n\n[^3]: Deepest.\n"
    )
    report = (project / "book" / "notes" / "IMPORT.md").read_text(encoding="utf-8")
    assert "2 notes cited inside notes moved to follow the note citing them" in report


def test_text_before_the_first_heading_is_a_headed_front_matter_chapter(
    tmp_path: Path, epubcheck: EpubCheck
) -> None:
    file = tmp_path / "notes.md"
    text = "---\nauthor: A Writer\n---\n\nAn opening line.\n\n# Only Chapter\n\nText.\n"
    file.write_text(text, encoding="utf-8")
    project = tmp_path / "project"
    result = import_book(file, "notes", project=project)
    assert [p.name for p in result.chapters] == ["01-front-matter.md", "02-only-chapter.md"]
    front, _ = texts(result)
    assert front.startswith("# Front matter {.frontmatter}\n\nAn opening line.")
    report = (project / "book" / "notes" / "IMPORT.md").read_text(encoding="utf-8")
    assert "before the first level-1 heading is chapter 1" in report
    metadata = yaml.safe_load(result.metadata.read_text(encoding="utf-8"))
    assert metadata["title"] == "Only Chapter"
    assert result.problems == []
    assert_builds(project, "notes", epubcheck)


def test_without_headings_the_text_is_one_chapter_under_its_title(tmp_path: Path) -> None:
    file = tmp_path / "essay.md"
    file.write_text("---\ntitle: An Essay\n---\n\nJust prose.\n", encoding="utf-8")
    project = tmp_path / "project"
    result = import_book(file, "essay", project=project)
    [chapter] = texts(result)
    assert chapter == "# An Essay\n\nJust prose.\n"
    assert result.chapters[0].name == "01-an-essay.md"
    report = (project / "book" / "essay" / "IMPORT.md").read_text(encoding="utf-8")
    assert "no level-1 heading" in report and "`creators` is needed" in report
    metadata = yaml.safe_load(result.metadata.read_text(encoding="utf-8"))
    assert metadata["creators"] == []
    assert any("creator" in line for line in result.problems)


def test_picture_outside_the_source_folder_becomes_its_alt_text(tmp_path: Path) -> None:
    (tmp_path / "secret.png").write_bytes(png())
    file = tmp_path / "src" / "book.md"
    file.parent.mkdir()
    file.write_text(
        "# One\n\n![Secret](../secret.png) text\n\n![Secret](../secret.png) again\n",
        encoding="utf-8",
    )
    result = import_book(file, "one", project=tmp_path / "project")
    [chapter] = texts(result)
    assert "Secret text" in chapter and "secret.png" not in chapter
    assert not (tmp_path / "project" / "book" / "one" / "images").exists()
    report = (tmp_path / "project" / "book" / "one" / "IMPORT.md").read_text(encoding="utf-8")
    # Said once, with how often: a site's every page has the same navigation pictures.
    assert report.count("`../secret.png` not taken") == 1
    assert "`../secret.png` not taken (not a file inside the source's folder) (2 times)" in report


def test_a_picture_held_in_its_data_address_is_written_out(tmp_path: Path) -> None:
    """HTML saved as one file holds its pictures in `data:` addresses."""
    encoded = base64.b64encode(png()).decode("ascii")
    file = tmp_path / "page.html"
    file.write_text(
        f'<h1>One</h1><p><img src="data:image/png;base64,{encoded}" alt="A square"/>'
        '<img src="data:text/html,<b>x</b>" alt="Not a picture"/></p>',
        encoding="utf-8",
    )
    result = import_book(file, "data", project=tmp_path / "project")
    [text] = texts(result)
    assert "![A square](images/picture.png)" in text and "Not a picture" in text
    [picture] = [path for path in result.others if path.parent.name == "images"]
    assert picture.read_bytes() == png()


def test_an_existing_book_is_never_overwritten(tmp_path: Path) -> None:
    file = source(tmp_path, "book.md", MARKDOWN, "pictures/red.png")
    project = tmp_path / "project"
    first = import_book(file, "three", project=project)
    before = {p: p.read_bytes() for p in (project / "book").rglob("*") if p.is_file()}
    with pytest.raises(UsageError, match="already exists"):
        import_book(file, "three", project=project)
    after = {p: p.read_bytes() for p in (project / "book").rglob("*") if p.is_file()}
    assert after == before
    assert first.metadata.read_text(encoding="utf-8").count("chapters:") == 1


@pytest.mark.parametrize(
    ("name", "data", "message"),
    [
        ("page.html", bytes(range(256)) * 4, r"page\.html: not HTML: not UTF-8"),
        ("page.html", b"\x00\x01\x02binary\x03" * 10, r"page\.html: not HTML: binary data"),
        ("book.md", "Caf\u00e9\n".encode("latin-1"), r"book\.md: not Markdown: not UTF-8"),
        (  # deeper than the build reads, and than Python decodes pandoc's tree
            "deep.html",
            b"<title>T</title><h1>One</h1>" + b"<div>" * 3000 + b"x" + b"</div>" * 3000,
            r"deep\.html: nested more than 100 levels deep",
        ),
    ],
)
def test_a_file_that_is_not_its_kind_is_refused_in_one_line(
    tmp_path: Path, name: str, data: bytes, message: str
) -> None:
    file = tmp_path / name
    file.write_bytes(data)
    with pytest.raises(InputError, match=message) as caught:
        import_book(file, "bad", project=tmp_path / "project")
    assert "\n" not in str(caught.value)
    assert not (tmp_path / "project").exists()


def test_an_unknown_suffix_names_the_kinds(tmp_path: Path) -> None:
    file = tmp_path / "book.rtf"
    file.write_text("{\\rtf1}", encoding="utf-8")
    with pytest.raises(
        UsageError, match=r"unknown suffix '\.rtf': give --kind web, pdf-text, markdown, html"
    ):
        import_book(file, "bad", project=tmp_path / "project")
    assert not (tmp_path / "project").exists()


def test_cli_prints_what_it_wrote_and_the_verdict(tmp_path: Path) -> None:
    file = source(tmp_path, "book.md", MARKDOWN, "pictures/red.png")
    project = tmp_path / "project"
    args = ["import", str(file), "--book-id", "three", "--project", str(project)]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == ExitCode.OK, result.output
    assert f"wrote {project / 'metadata' / 'three.yaml'}" in result.output
    assert result.output.rstrip().endswith("ebook check: the book is ready to build")
    again = CliRunner().invoke(app, args)
    assert again.exit_code == ExitCode.BAD_USAGE
    assert "already exists" in again.output


def test_cli_lists_what_check_still_finds_and_exits_0(tmp_path: Path) -> None:
    file = tmp_path / "anonymous.md"
    file.write_text("# Only Chapter\n\nText.\n", encoding="utf-8")
    project = tmp_path / "project"
    args = ["import", str(file), "--book-id", "anon", "--project", str(project)]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == ExitCode.OK, result.output
    assert "ebook check: 1 problem to fix before a build:" in result.output
    assert "at least one creator is required" in result.output


def test_a_failure_while_moving_into_place_leaves_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    file = source(tmp_path, "book.md", MARKDOWN, "pictures/red.png")
    project = tmp_path / "project"
    renames: list[Path] = []
    real_rename = os.rename

    def rename(staged: Path, target: Path) -> None:
        if renames:  # the book folder is in place; the metadata file fails
            raise OSError(28, "No space left on device")
        real_rename(staged, target)
        renames.append(target)
        assert target.is_dir()

    monkeypatch.setattr("ebook_builder.importers.draft.os.rename", rename)
    with pytest.raises(OutputError, match="No space left on device"):
        import_book(file, "three", project=project)
    assert renames == [project / "book" / "three"]
    assert [p for p in project.rglob("*") if p.is_file()] == []
    assert not (project / "book" / "three").exists()
    assert list(project.glob(".import-*")) == []


def test_a_manuscript_without_text_is_refused(tmp_path: Path) -> None:
    file = tmp_path / "empty.md"
    file.write_text("---\ntitle: Nothing\n---\n\n", encoding="utf-8")
    with pytest.raises(InputError, match=r"empty\.md: no text to import"):
        import_book(file, "empty", project=tmp_path / "project")
    assert not (tmp_path / "project").exists()


@pytest.fixture(scope="module")
def packaged(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """The shipped books as EPUB and DOCX, built once for this module: by file name."""
    out = tmp_path_factory.mktemp("packaged")
    return {path.name: path for path in api.build(REPO, list(SHIPPED_BOOKS), ["epub", "docx"], out)}


XHTML = "{http://www.w3.org/1999/xhtml}"


def epub_pages(epub: Path) -> list[Any]:
    """The EPUB's XHTML documents, parsed, in name order (the chapter files are numbered
    in reading order), less the pages a build makes from the metadata, which an import
    drops (its title page, imprint, dedication and colophon)."""
    with zipfile.ZipFile(epub) as package:
        names = sorted(n for n in package.namelist() if n.endswith(".xhtml"))
        pages = [etree.fromstring(package.read(name)) for name in names]
    return [page for page in pages if not page.xpath(MADE_PAGE, namespaces={"x": XHTML[1:-1]})]


MADE_PAGE = "x:body/x:section[contains(concat(' ', @class, ' '), ' from-metadata ')]"


def h1_titles(epub: Path) -> list[str]:
    """The level-1 headings a reader sees, chapter by chapter (the cover page and the
    table of contents hold none)."""
    heads = [h for page in epub_pages(epub) for h in page.iter(f"{XHTML}h1")]
    return [" ".join("".join(h.itertext()).split()) for h in heads]


def marked(epub: Path) -> dict[str, list[str]]:
    """What a reader finds in the EPUB besides its running text, in order: each note's
    text, each page marker's number, each block quote's text and each quoted paragraph's
    (a paragraph in a block quote, not in a list there)."""
    pages = epub_pages(epub)
    quotes = [e for page in pages for e in page.iter(f"{XHTML}blockquote")]

    def texts(elements: Any) -> list[str]:
        return [" ".join("".join(e.itertext()).split()) for e in elements]

    return {
        "notes": texts(e for page in pages for e in page.iter(f"{XHTML}aside")),
        "pages": [
            e.get("aria-label", "")
            for page in pages
            for e in page.iter()
            if e.get(EPUB_TYPE) == "pagebreak"
        ],
        "quotes": texts(quotes),
        "quoted paragraphs": texts(
            p for quote in quotes for p in quote.iter(f"{XHTML}p") if p.getparent() is quote
        ),
    }


def notes(texts: list[str]) -> int:
    return sum(len(re.findall(r"^\[\^[^\]]+\]:", text, re.M)) for text in texts)


@pytest.mark.parametrize("suffix", [".epub", ".docx"])
@pytest.mark.parametrize("book_id", SHIPPED_BOOKS)
def test_a_shipped_book_imported_back_keeps_its_chapters_words_notes_pages_and_quotes(
    tmp_path: Path, packaged: dict[str, Path], epubcheck: EpubCheck, book_id: str, suffix: str
) -> None:
    project = ProjectMaker(tmp_path / "project").root
    result = import_book(packaged[f"{book_id}{suffix}"], book_id, project=project)
    assert result.problems == []
    epub = assert_builds(project, book_id, epubcheck, tuple(FORMATS))
    assert h1_titles(epub) == h1_titles(packaged[f"{book_id}.epub"])
    assert marked(epub) == marked(packaged[f"{book_id}.epub"])
    original = [path.read_text(encoding="utf-8") for path in chapter_files(book_id)]
    imported = texts(result)
    words, words_back = sum(map(markdown_words, original)), sum(map(markdown_words, imported))
    assert abs(words_back - words) <= words / 100
    assert notes(imported) == notes(original)
    assert (project / "covers" / f"{book_id}.jpg").is_file()


@pytest.fixture(scope="module")
def tour_packaged(
    fixture_project: Path, tmp_path_factory: pytest.TempPathFactory
) -> dict[str, Path]:
    """The feature tour (notes, a picture, a table, verse) as EPUB and DOCX: by suffix."""
    out = tmp_path_factory.mktemp("tour-packaged")
    written = api.build(fixture_project, [TOUR], ["epub", "docx"], out)
    return {path.suffix: path for path in written if path.stem == TOUR}


@pytest.mark.parametrize("suffix", [".epub", ".docx"])
def test_the_feature_tour_imported_back_keeps_its_notes_and_picture(
    tmp_path: Path, tour_packaged: dict[str, Path], epubcheck: EpubCheck, suffix: str
) -> None:
    project = tmp_path / "project"
    result = import_book(tour_packaged[suffix], "tour", project=project)
    assert result.problems == []
    assert_builds(project, "tour", epubcheck)
    assert h1_titles(project / "dist" / "tour.epub") == h1_titles(tour_packaged[".epub"])
    folder = REPO / "tests" / "fixtures" / "project" / "book" / TOUR
    original = [path.read_text(encoding="utf-8") for path in sorted(folder.glob("*.md"))]
    imported = texts(result)
    assert sum(map(markdown_words, imported)) == sum(map(markdown_words, original))
    assert notes(imported) == notes(original) == 3
    [picture] = [path for path in result.others if path.parent.name == "images"]
    assert "![A circle drawn in dark ink on a pale" in "".join(imported)
    assert Image.open(picture).size == Image.open(folder / "images" / "circle.png").size


EPUB2_OPF = """<?xml version="1.0" encoding="UTF-8"?>
<package xmlns="http://www.idpf.org/2007/opf" version="2.0" unique-identifier="uid">
<metadata xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:opf="http://www.idpf.org/2007/opf">
<dc:title>An Old Book</dc:title><dc:creator opf:role="aut">Ann Author</dc:creator>
<dc:creator opf:role="edt">Ed Editor</dc:creator><dc:language>fr</dc:language>
<dc:identifier id="uid">isbn:9780000000000</dc:identifier><dc:date>2001-05-06</dc:date>
<dc:rights>Public domain</dc:rights><dc:subject>History</dc:subject>
<meta name="calibre:series" content="Old Books"/><meta name="cover" content="cover-image"/>
</metadata>
<manifest>
<item id="ncx" href="toc.ncx" media-type="application/x-dtbncx+xml"/>
<item id="cover-image" href="Images/cover.jpg" media-type="image/jpeg"/>
<item id="cover" href="Text/cover.xhtml" media-type="application/xhtml+xml"/>
<item id="c1" href="Text/ch1.xhtml" media-type="application/xhtml+xml"/>
<item id="c2" href="Text/ch2.xhtml" media-type="application/xhtml+xml"/>
<item id="dot" href="Images/dot.svg" media-type="image/svg+xml"/>
</manifest>
<spine toc="ncx"><itemref idref="cover"/><itemref idref="c1"/><itemref idref="c2"/></spine>
</package>"""
DOT = '<svg xmlns="http://www.w3.org/2000/svg" width="20" height="20"><circle r="8"/></svg>'


def page(body: str) -> str:
    return (
        '<?xml version="1.0" encoding="UTF-8"?><html xmlns="http://www.w3.org/1999/xhtml">'
        f"<head><title>x</title></head><body>{body}</body></html>"
    )


def epub2(path: Path, **chapters: str | bytes) -> Path:
    """An EPUB 2 as Sigil writes one: the OPF in `OEBPS/`, documents in `Text/`;
    `chapters` (`ch1`, `ch2`, `cover`) replace those documents, and a name with a `/`
    the member of that name (`OEBPS/toc.ncx`)."""
    jpeg = io.BytesIO()
    Image.new("RGB", (60, 90), "navy").save(jpeg, "JPEG")
    container = (
        '<container version="1.0" xmlns="urn:oasis:names:tc:opendocument:xmlns:container">'
        '<rootfiles><rootfile full-path="OEBPS/content.opf"'
        ' media-type="application/oebps-package+xml"/></rootfiles></container>'
    )
    members: dict[str, str | bytes] = {
        "mimetype": "application/epub+zip",
        "META-INF/container.xml": container,
        "OEBPS/content.opf": EPUB2_OPF,
        "OEBPS/toc.ncx": '<ncx xmlns="http://www.daisy.org/z3986/2005/ncx/" version="2005-1"/>',
        "OEBPS/Images/cover.jpg": jpeg.getvalue(),
        "OEBPS/Images/dot.svg": DOT,
        "OEBPS/Text/cover.xhtml": page('<div><img src="../Images/cover.jpg" alt="Cover"/></div>'),
        "OEBPS/Text/ch1.xhtml": page(
            '<h1 id="one">Chapter One</h1><p><b>Bold</b>, <i>italic</i>, x<sup>2</sup> and '
            '<span style="font-variant: small-caps">caps</span>; see '
            '<a href="ch2.xhtml#two">later</a>.</p>'
            '<p><img src="../Images/dot.svg" alt="A dot"/></p>'
        ),
        "OEBPS/Text/ch2.xhtml": page(
            '<h1>Chapter Two</h1><h2 id="two">A Section</h2><blockquote><p>Quoted.</p>'
            '</blockquote><p>Back to <a href="ch1.xhtml">the start</a>.</p>'
        ),
    }
    members |= {
        name if "/" in name else f"OEBPS/Text/{name}.xhtml": text for name, text in chapters.items()
    }
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as package:
        for name, data in members.items():
            package.writestr(name, data)
    return path


def test_documents_sharing_ids_keep_each_links_target_and_utf16_is_read(
    tmp_path: Path, epubcheck: EpubCheck
) -> None:
    """Each document of an EPUB is written apart, so two may use one id (`n1`); each
    link must still reach the place it named. EPUB allows UTF-16 documents too, and many
    use HTML's entities without the DTD that declares them."""
    ch1 = page(
        '<h1>One</h1><p id="n1">First&nbsp;n1.</p><p><a href="#n1">here</a> and '
        '<a href="ch2.xhtml#n1">there</a>.</p>'
    )
    ch2 = page(
        '<h1>Two</h1><p id="n1">Second n1.</p><p><a href="#n1">here</a> and '
        '<a href="ch1.xhtml#n1">back</a>.</p>'
    )
    source = epub2(tmp_path / "ids.epub", ch1=ch1, ch2=ch2.encode("utf-16"))
    project = tmp_path / "project"
    result = import_book(source, "ids", project=project)
    one, two = (text.replace("\n", " ") for text in texts(result))
    assert "[]{#n1}First\u00a0n1." in one and "[here](#n1)" in one
    assert "[there](02-two.md#ch2-n1)" in one
    assert "[]{#ch2-n1}Second n1." in two
    assert "[here](#ch2-n1)" in two and "[back](01-one.md#n1)" in two
    report = (project / "book" / "ids" / "IMPORT.md").read_text(encoding="utf-8")
    assert "1 ids used by an earlier page renamed" in report
    assert result.problems == []
    assert_builds(project, "ids", epubcheck)


def test_pictures_framed_in_svg_are_pictures_and_such_a_cover_page_is_dropped(
    tmp_path: Path, epubcheck: EpubCheck
) -> None:
    """calibre and many EPUB 2 books set the cover page, and full-page pictures, as an
    `<svg>` framing one `<image>`; pandoc would keep that as raw HTML."""
    framed = (
        '<div><svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink"'
        ' viewBox="0 0 60 90"><title>{alt}</title><image width="60" height="90"'
        ' xlink:href="../Images/{name}"/></svg></div>'
    )
    cover = page(framed.format(alt="", name="cover.jpg"))
    ch1 = page("<h1>One</h1><p>Text.</p>" + framed.format(alt="A dot", name="dot.svg"))
    project = tmp_path / "project"
    result = import_book(epub2(tmp_path / "svg.epub", cover=cover, ch1=ch1), "svg", project=project)
    one, _ = texts(result)
    assert "![A dot](images/dot.svg)" in one and "<svg" not in one
    report = (project / "book" / "svg" / "IMPORT.md").read_text(encoding="utf-8")
    assert "dropped OEBPS/Text/cover.xhtml: the cover page" in report
    assert result.problems == []
    assert_builds(project, "svg", epubcheck)


def test_documents_without_headings_are_headed_by_their_table_of_contents_entries(
    tmp_path: Path, epubcheck: EpubCheck
) -> None:
    """Chapter titles set as styled paragraphs, and every document's `<title>` the book's
    (as many converters write): the NCX names each chapter, so each is one."""
    ncx = (
        '<ncx xmlns="http://www.daisy.org/z3986/2005/ncx/" version="2005-1"><navMap>'
        '<navPoint id="a"><navLabel><text>The First</text></navLabel>'
        '<content src="Text/ch1.xhtml"/></navPoint>'
        '<navPoint id="b"><navLabel><text>The Second</text></navLabel>'
        '<content src="Text/ch2.xhtml#start"/></navPoint></navMap></ncx>'
    )
    chapters = {
        name: page(f'<p class="chapter-title">{title}</p><p>Text of {name}.</p>').replace(
            "<title>x</title>", "<title>An Old Book</title>"
        )
        for name, title in (("ch1", "THE FIRST"), ("ch2", "THE SECOND"))
    }
    source = epub2(tmp_path / "nav.epub", **chapters, **{"OEBPS/toc.ncx": ncx})
    project = tmp_path / "project"
    result = import_book(source, "nav", project=project)
    assert [path.name for path in result.chapters] == ["01-the-first.md", "02-the-second.md"]
    assert texts(result)[1].startswith("# The Second\n")
    assert result.problems == []
    assert_builds(project, "nav", epubcheck)


def test_empty_headings_and_unknown_entities_do_not_stop_an_import(
    tmp_path: Path, epubcheck: EpubCheck
) -> None:
    """Converters leave empty `<h1>`s, and sloppy books entities nobody declares and HTML
    that is not XML: the first become paragraphs (an id kept for the links to it), the
    second its text, the third is read as a browser reads it."""
    ch1 = page(
        '<h1>One</h1><p>See <a href="#gone">there</a> &unknown; &eacute;.</p>'
        '<h1 id="gone"> </h1><p>After.</p>'
    )
    ch2 = page("<h1>Two</h1><p>An old book's HTML:<br>a break left open.<p>And a paragraph.")
    project = tmp_path / "project"
    result = import_book(epub2(tmp_path / "odd.epub", ch1=ch1, ch2=ch2), "odd", project=project)
    one, two = texts(result)
    assert "HTML:\\\na break left open.\n\nAnd a paragraph." in two
    assert "&unknown; é." in one.replace("\\", "") and "[there](#gone)" in one
    report = (project / "book" / "odd" / "IMPORT.md").read_text(encoding="utf-8")
    assert "1 headings without text made paragraphs" in report
    assert result.problems == []
    assert_builds(project, "odd", epubcheck)


def test_an_epub2_brings_its_opf_metadata_cover_svg_and_links(
    tmp_path: Path, epubcheck: EpubCheck
) -> None:
    project = tmp_path / "project"
    result = import_book(epub2(tmp_path / "old.epub"), "old", project=project)
    assert result.problems == []
    one, two = texts(result)
    assert one.startswith("# Chapter One {#one}\n")
    assert "**Bold**, *italic*, x^2^ and [caps]{.smallcaps}" in one
    assert "[later](02-chapter-two.md#two)" in one.replace("\n", " ")
    assert "![A dot](images/dot.svg)" in one
    assert "[the start](01-chapter-one.md#one)" in two
    metadata = yaml.safe_load(result.metadata.read_text(encoding="utf-8"))
    assert metadata["title"] == "An Old Book"
    assert metadata["creators"] == ["Ann Author"]
    assert metadata["identifier"] == "isbn:9780000000000"  # the stores know the book by it
    assert (metadata["language"], metadata["date"], metadata["subjects"]) == (
        "fr",
        "2001-05-06",
        ["History"],
    )
    assert metadata["contributors"] == [{"name": "Ed Editor", "role": "editor"}]
    assert (metadata["series"], metadata["rights"]) == ({"name": "Old Books"}, "Public domain")
    report = (project / "book" / "old" / "IMPORT.md").read_text(encoding="utf-8")
    assert "isbn:9780000000000" in report
    assert "Ed Editor" not in report and "Old Books" not in report
    assert "dropped OEBPS/Text/cover.xhtml: the cover page" in report
    assert Image.open(project / "covers" / "old.jpg").size == (60, 90)
    assert_builds(project, "old", epubcheck)


# A hand-made EPUB 3 with the semantics other productions write: each spine document's
# <body> by its name, in reading order.
SEMANTIC_PAGES = {
    "dedication": '<body epub:type="frontmatter"><section id="dedication" epub:type="dedication">'
    "<p>To my mother.</p></section></body>",
    "epigraph": '<body epub:type="frontmatter"><section id="epigraph" epub:type="epigraph">'
    "<blockquote><p>All things pass.</p><cite>An Old Saying</cite></blockquote></section></body>",
    "preface": '<body epub:type="frontmatter"><section id="preface" epub:type="preface">'
    '<h2 epub:type="title">Preface</h2><p>Why this book.</p></section></body>',
    "note": '<body epub:type="frontmatter"><h2>A Note on the Text</h2><p>Spelling kept.</p></body>',
    "chapter": '<body epub:type="bodymatter z3998:fiction"><section id="one" epub:type="chapter">'
    '<header><hgroup epub:type="acme:hg"><h2 epub:type="title">The Letter</h2>'
    '<p epub:type="subtitle">Or, <i epub:type="se:name.vessel.ship">Hope</i></p></hgroup>'
    '<blockquote epub:type="epigraph">'
    "<p>Words fly.</p><cite>A Proverb</cite></blockquote></header>"
    '<p>She read <i epub:type="se:name.publication.book">The Times</i> first'
    '<a href="notes.xhtml#note-1" id="noteref-1" epub:type="noteref">1</a>.</p>'
    '<blockquote epub:type="z3998:letter"><p epub:type="z3998:dateline">Monday.</p>'
    '<p><span epub:type="z3998:salutation">Dear Ann</span>, come home.</p><footer>'
    '<p epub:type="z3998:valediction">Yours,</p><p epub:type="z3998:signature">Ben</p>'
    "</footer></blockquote>"
    '<blockquote epub:type="z3998:poem"><p><span>Roses are red,</span><br/>'
    "<span>violets are blue.</span></p></blockquote>"
    '<section epub:type="z3998:song"><h3>A Song</h3><p><span>La la,</span><br/><span>la.</span>'
    '</p></section><p>After the song.</p><p epub:type="pullquote">Words fly.</p>'
    '<h3 epub:type="bridgehead">Later</h3><p epub:type="acme:mood">Quiet.</p>'
    '<p epub:type="madeup z3998:a&quot;b">Calm <span epub:type="appendix">still</span>.</p>'
    '<p epub:type="subtitle">Not a heading\'s.</p>'
    '<ul><li epub:type="z3998:example">An item.</li></ul><aside><h3>Boxed</h3><p>Boxed in.</p>'
    '</aside><article epub:type="acme:art"><p>Raw.</p></article>'
    '<nav epub:type="acme:nav"><p>Nav.</p></nav>'
    '<table epub:type="acme:grid"><tr><td>1</td></tr></table>'
    "</section></body>",
    "last": '<body epub:type="backmatter"><section id="last" epub:type="chapter">'
    "<h2>Last Words</h2><p>Farewell.</p></section></body>",
    "appendix": '<body epub:type="backmatter"><section id="appendix" epub:type="appendix">'
    '<h2 epub:type="title">Appendix</h2><p>Tables.</p></section></body>',
    "notes": '<body epub:type="backmatter"><section id="notes" epub:type="endnotes">'
    '<h2 epub:type="title">Notes</h2><ol><li id="note-1" epub:type="endnote"><p>Cited.</p></li>'
    '<li id="note-2" epub:type="endnote"><p>Never cited.</p></li></ol></section></body>',
    "colophon": '<body epub:type="backmatter"><section id="colophon" epub:type="colophon">'
    '<h2 epub:type="title">Colophon</h2><p>Set in type.</p></section></body>',
}
EPUB3_OPF = """<?xml version="1.0" encoding="UTF-8"?>
<package xmlns="http://www.idpf.org/2007/opf" version="3.0" unique-identifier="uid">
<metadata xmlns:dc="http://purl.org/dc/elements/1.1/"><dc:title>Semantics</dc:title>
<dc:creator>Ann Author</dc:creator>
<dc:identifier id="uid">urn:uuid:0b5bd9ad-4f6b-4bb6-9f0d-1a8c1d0c6a2e</dc:identifier>
<dc:language>en</dc:language></metadata>
<manifest>{items}</manifest><spine>{refs}</spine></package>"""


def epub3(path: Path, pages: dict[str, str]) -> Path:
    """An EPUB 3 of `pages` (each document's `<body>` by name), in that order."""
    container = (
        '<container version="1.0" xmlns="urn:oasis:names:tc:opendocument:xmlns:container">'
        '<rootfiles><rootfile full-path="EPUB/content.opf"'
        ' media-type="application/oebps-package+xml"/></rootfiles></container>'
    )
    items = "".join(
        f'<item id="{name}" href="{name}.xhtml" media-type="application/xhtml+xml"/>'
        for name in pages
    )
    refs = "".join(f'<itemref idref="{name}"/>' for name in pages)
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as package:
        package.writestr("mimetype", "application/epub+zip")
        package.writestr("META-INF/container.xml", container)
        package.writestr("EPUB/content.opf", EPUB3_OPF.format(items=items, refs=refs))
        for name, body in pages.items():
            package.writestr(
                f"EPUB/{name}.xhtml",
                '<?xml version="1.0" encoding="UTF-8"?><html xmlns="http://www.w3.org/1999/xhtml"'
                ' xmlns:epub="http://www.idpf.org/2007/ops"'
                f' epub:prefix="z3998: {TYPE_PREFIXES["z3998"]} se: {TYPE_PREFIXES["se"]}">'
                f"<head><title>{name.title()}</title></head>{body}</html>",
            )
    return path


def h1_text(heading: etree._Element) -> str:
    return " ".join("".join(heading.itertext()).split())


def built_pages(epub: Path) -> dict[str, etree._Element]:
    """Each chapter of a built EPUB (and its table of contents), parsed, by its first
    level-1 heading."""
    found = {}
    with zipfile.ZipFile(epub) as package:
        for name in package.namelist():
            if name.endswith(".xhtml"):
                page = etree.fromstring(package.read(name))
                heading = next(page.iter(f"{XHTML}h1"), None)
                if heading is not None:
                    found[h1_text(heading)] = page
    return found


def partitions(epub: Path) -> dict[str, str]:
    """Each chapter's partition (its `<body>`'s epub:type) in a built book, by heading."""
    return {
        title: page.find(f"{XHTML}body").get(EPUB_TYPE) for title, page in built_pages(epub).items()
    }


def typed(page: etree._Element, tag: str, epub_type: str) -> list[etree._Element]:
    """The `tag` elements of `page` whose `epub:type` includes `epub_type`."""
    return [e for e in page.iter(f"{XHTML}{tag}") if epub_type in e.get(EPUB_TYPE, "").split()]


def test_an_epubs_note_references_inside_verse_lines_become_their_own_notes(
    tmp_path: Path,
) -> None:
    """Standard Ebooks' plays set each verse line in a `<span>`; a reference in one was
    missed, and the linked-notes pass then made the whole list of notes the first note."""
    pages = {
        "act": '<body epub:type="bodymatter"><section id="act" epub:type="chapter">'
        '<h2 epub:type="title">Act</h2><p><span>And either master<a href="notes.xhtml#note-1"'
        ' id="noteref-1" epub:type="noteref">1</a> the devil</span><br/><span>So haply'
        ' slander<a href="notes.xhtml#note-2" id="noteref-2" epub:type="noteref">2</a></span>'
        "</p></section></body>",
        "notes": '<body epub:type="backmatter"><section id="notes" epub:type="endnotes">'
        '<h2 epub:type="title">Endnotes</h2><ol><li id="note-1" epub:type="endnote"><p>First.'
        ' <a href="act.xhtml#noteref-1" epub:type="backlink">↩</a></p></li>'
        '<li id="note-2" epub:type="endnote"><p>Second.'
        ' <a href="act.xhtml#noteref-2" epub:type="backlink">↩</a></p></li></ol></section></body>',
    }
    project = tmp_path / "project"
    result = import_book(epub3(tmp_path / "play.epub", pages), "play", project=project)
    assert result.problems == []
    (act,) = texts(result)
    assert "master[^1] the devil" in act and "slander[^2]" in act
    assert re.search(r"\[\^1\]:\s+First\.", act) and re.search(r"\[\^2\]:\s+Second\.", act)
    report = (project / "book" / "play" / "IMPORT.md").read_text(encoding="utf-8")
    assert "2 notes at the end made notes in the chapters that cite them" in report


def test_a_kept_notes_section_holds_only_the_notes_no_reference_took(tmp_path: Path) -> None:
    """A note that went inline was also left in the notes page kept for an uncited one:
    its text was in the book twice."""
    pages = {
        "one": '<body><section id="one"><h2>One</h2><p>Said<a href="notes.xhtml#note-1"'
        ' id="noteref-1" epub:type="noteref">1</a>.</p></section></body>',
        "notes": SEMANTIC_PAGES["notes"],
    }
    result = import_book(epub3(tmp_path / "n.epub", pages), "n", project=tmp_path / "project")
    one, notes = texts(result)
    assert "Said[^1]." in one and "[^1]: Cited." in one
    assert "Cited." not in notes.replace("Never cited.", "") and "Never cited." in notes


def test_an_epub_document_whose_headings_are_in_a_table_is_a_chapter_of_its_own(
    tmp_path: Path,
) -> None:
    """The Tractatus numbers its propositions with headings in table cells, where no
    chapter can be cut: taken for the document's heading, they let it run on into the
    preface before it."""
    pages = {
        "preface": '<body epub:type="frontmatter"><section id="preface" epub:type="preface">'
        '<h2 epub:type="title">Preface</h2><p>Why.</p></section></body>',
        "propositions": '<body epub:type="bodymatter"><section id="propositions"><table><tr>'
        "<td><h2>1</h2></td><td><p>The world is everything that is the case.</p></td></tr>"
        "</table></section></body>",
    }
    result = import_book(epub3(tmp_path / "t.epub", pages), "t", project=tmp_path / "project")
    preface, propositions = texts(result)
    assert "The world" not in preface
    assert propositions.startswith("# Propositions {#propositions}\n")
    assert "The world is everything" in propositions and "| # 1 " in propositions


def test_an_epubs_semantics_are_carried_or_reported_and_its_matter_stays_in_place(
    tmp_path: Path, epubcheck: EpubCheck
) -> None:
    project = tmp_path / "project"
    result = import_book(epub3(tmp_path / "s.epub", SEMANTIC_PAGES), "s", project=project)
    assert result.problems == []
    epub = assert_builds(project, "s", epubcheck, tuple(FORMATS))
    pages = built_pages(epub)
    assert partitions(epub) == {
        "Semantics": "frontmatter",  # the title page, made from the metadata
        "Contents": "frontmatter",
        "Dedication": "frontmatter",
        "Epigraph": "frontmatter",
        "Preface": "frontmatter",
        "A Note on the Text": "frontmatter",  # its <body> alone says so
        "The Letter: Or, Hope": "bodymatter",
        "Last Words": "backmatter",  # its <body> says so: a `chapter` is body matter
        "Appendix": "backmatter",
        "Notes": "backmatter",  # the note never cited keeps the page
        "Colophon": "backmatter",
    }
    with zipfile.ZipFile(epub) as package:  # readers open the book at the first chapter
        nav = etree.fromstring(package.read("EPUB/nav.xhtml"))
        [start] = typed(nav, "a", "bodymatter")
        started = etree.fromstring(package.read(f"EPUB/{start.get('href')}"))
    assert h1_text(next(started.iter(f"{XHTML}h1"))) == "The Letter: Or, Hope"
    chapter = pages["The Letter: Or, Hope"]
    [epigraph] = typed(chapter, "div", "epigraph")
    assert (
        epigraph.get("role") == "doc-epigraph" and epigraph.find(f"{XHTML}blockquote") is not None
    )
    [letter] = typed(chapter, "div", "z3998:letter")
    for semantic in ("z3998:dateline", "z3998:valediction"):
        assert len(typed(letter, "div", semantic)) == 1
    [signature] = typed(letter, "div", "z3998:signature")
    assert signature.get("class") == "signature"
    assert [s.text for s in typed(letter, "span", "z3998:salutation")] == ["Dear Ann"]
    [poem] = typed(chapter, "div", "z3998:poem")
    assert "verse" in poem.get("class").split()  # the build sets it as verse
    assert [s.text for s in poem.iter(f"{XHTML}span")] == ["Roses are red,", "violets are blue."]
    [ship] = typed(next(chapter.iter(f"{XHTML}h1")), "span", "se:name.vessel.ship")
    assert "".join(ship.itertext()) == "Hope"  # the subtitle's phrase, in the heading
    [book] = typed(chapter, "span", "se:name.publication.book")
    assert "".join(book.itertext()) == "The Times"
    [song] = typed(chapter, "section", "z3998:song")  # its own, the text after it not
    assert "verse" in song.get("class").split() and "After" not in "".join(song.itertext())
    [pulled] = typed(chapter, "div", "pullquote")
    assert pulled.get("role") == "doc-pullquote"  # Ace asks for the role of the type
    assert [s.text for s in typed(chapter, "span", "bridgehead")] == ["Later"]
    assert ace_violations(run_ace({"s": epub}, tmp_path / "ace")["s"]) == []
    report = (project / "book" / "s" / "IMPORT.md").read_text(encoding="utf-8")
    for line in (
        "epub:type `acme:mood` dropped (1 place): `ebook check` refuses its prefix",
        "epub:type `madeup` dropped (1 place): not in the EPUB Structural Semantics Vocabulary",
        "epub:type `z3998:example` dropped (1 place): pandoc keeps nothing of a `<li>`'s",
        'epub:type `z3998:a"b` dropped (1 place): not a property name',
        "epub:type `appendix` dropped (1 place): a division's semantic on a `<span>`",
        "epub:type `acme:art` dropped (1 place): `ebook check` refuses its prefix",
        "epub:type `acme:grid` dropped (1 place): `ebook check` refuses its prefix",
        "epub:type `acme:hg` dropped (1 place): `ebook check` refuses its prefix",
        "epub:type `acme:nav` dropped (1 place): `ebook check` refuses its prefix",
        "a `<aside>` holding a heading made a div (1 place)",
        "epub:type `subtitle` dropped (1 place): its role, `doc-subtitle`, is a heading's",
        "epub:type `se:name.vessel.ship` carried (1 place) by a span around its <i>",
        "epub:type `title` dropped (5 places): a heading is its title",
        "epub:type `z3998:fiction` dropped (1 place): the build types each chapter's `<body>`",
        "epub:type `z3998:letter` carried (1 place) by a div around its <blockquote>",
        "note.xhtml is front matter, as its <body> says",
        "kept the notes section",
    ):
        assert line in report
    assert "Quiet." in texts(result)[4] and "Calm still." in texts(result)[4]  # text stays


def test_a_folder_of_html_files_is_one_document_in_name_order(
    tmp_path: Path, epubcheck: EpubCheck
) -> None:
    folder = tmp_path / "site"
    (folder / "pictures").mkdir(parents=True)
    (folder / "pictures" / "red.png").write_bytes(png())
    (folder / "b-second.xhtml").write_text(
        '<html><body><h1 id="two">Second</h1><div id="later"><p>Later.</p></div></body></html>',
        encoding="utf-8",
    )
    (folder / "a-first.html").write_text(
        "<html><head><title>Site Book</title><meta name='author' content='Ann Author'/></head>"
        "<body><h1>First</h1>"
        '<p><img src="pictures/red.png" alt="A red square"/> See '
        '<a href="b-second.xhtml#later">later</a> and <a href="b-second.xhtml">two</a>.</p>'
        "</body></html>",
        encoding="utf-8",
    )
    (folder / "notes.txt").write_text("not a page", encoding="utf-8")
    project = tmp_path / "project"
    result = import_book(folder, "site", kind="html", project=project)
    assert [p.name for p in result.chapters] == ["01-first.md", "02-second.md"]
    first, second = texts(result)
    assert "![A red square](images/red.png)" in first
    assert "[later](02-second.md#later)" in first and "[two](02-second.md#two)" in first
    assert second.startswith("# Second {#two}")
    report = (project / "book" / "site" / "IMPORT.md").read_text(encoding="utf-8")
    assert "read 2 HTML files in name order as one document" in report
    assert result.problems == []
    assert_builds(project, "site", epubcheck)
    with pytest.raises(UsageError, match="unknown suffix"):
        import_book(folder, "other", project=project)
    with pytest.raises(InputError, match="a folder is imported only as HTML"):
        import_book(folder, "other", kind="markdown", project=project)


def test_numbers_in_the_names_of_a_folders_pages_count(tmp_path: Path) -> None:
    """LaTeX2HTML's pages (PG's Debian guide, #6527): `node2.html` comes before
    `node10.html`; in character order the chapters came out of order."""
    folder = tmp_path / "site"
    folder.mkdir()
    for number in (1, 2, 10):
        page = f"<html><body><h1>Chapter {number}</h1><p>Text.</p></body></html>"
        (folder / f"node{number}.html").write_text(page, encoding="utf-8")
    result = import_book(folder, "site", kind="html", project=tmp_path / "project")
    assert [p.name for p in result.chapters] == [
        "01-chapter-1.md",
        "02-chapter-2.md",
        "03-chapter-10.md",
    ]


def test_a_word_document_keeps_its_styles_and_a_picture_without_alt_text_is_flagged(
    tmp_path: Path,
) -> None:
    document = docx.Document()
    document.core_properties.title = "A Word Book"
    document.core_properties.author = "Writer, Wanda; Ed Other"
    document.core_properties.language = "en-GB"
    document.core_properties.keywords = "Sea stories; Whaling, Maine"
    document.core_properties.subject = "A tale"
    document.add_heading("First", 1)
    styled = document.add_paragraph()
    styled.add_run("bold").bold = True
    styled.add_run(" and ")
    styled.add_run("italic").italic = True
    styled.add_run(" caps").font.small_caps = True
    styled.add_run("2").font.superscript = True
    document.add_paragraph("A quotation.", style="Quote")
    document.add_picture(io.BytesIO(png()))
    document.add_heading("Deeper", 2)
    document.add_heading("Second", 1)
    document.add_paragraph("More.")
    document.save(tmp_path / "word.docx")
    result = import_book(tmp_path / "word.docx", "word", project=tmp_path / "project")
    first, second = texts(result)
    assert "**bold** and *italic* [caps]{.smallcaps}^2^" in first
    assert "> A quotation." in first
    assert "\n## Deeper {#deeper}\n" in first
    assert second.startswith("# Second {#second}\n")
    [problem] = result.problems
    assert problem.endswith("has no alt text: write ![description](images/image1.png)")
    metadata = yaml.safe_load(result.metadata.read_text(encoding="utf-8"))
    assert (metadata["title"], metadata["creators"], metadata["language"]) == (
        "A Word Book",
        ["Writer, Wanda", "Ed Other"],  # Word's Author field: names apart by `;`
        "en-GB",
    )
    assert metadata["subjects"] == ["Sea stories", "Whaling", "Maine"]
    report = (tmp_path / "project" / "book" / "word" / "IMPORT.md").read_text(encoding="utf-8")
    assert "Word's Subject not carried (a subtitle? a topic?): A tale" in report


def test_a_word_document_without_heading_styles_splits_at_chapter_lines_and_keeps_breaks(
    tmp_path: Path, epubcheck: EpubCheck
) -> None:
    document = docx.Document()
    document.core_properties.title = "Typed Plain"
    document.core_properties.language = "en"
    for line in ("Chapter 1", "It was night.", "* * *", "Morning came.", "❦", "Noon."):
        document.add_paragraph(line)
    document.add_paragraph("§").alignment = WD_ALIGN_PARAGRAPH.CENTER  # an ornament
    document.add_paragraph("Dusk.")
    document.add_paragraph("")
    document.add_paragraph("")  # space before a title in Normal style: not a break
    document.add_paragraph("CHAPTER 2: The Road")
    document.add_paragraph("Chapter and verse were quoted.")  # prose, not a title
    document.save(tmp_path / "plain.docx")
    project = tmp_path / "project"
    result = import_book(tmp_path / "plain.docx", "plain", project=project)
    first, second = texts(result)
    assert first.startswith("# Chapter 1")
    assert second.startswith("# CHAPTER 2: The Road") and "Chapter and verse" in second
    assert "* * *" not in first and "❦" not in first and "§" not in first
    report = (project / "book" / "plain" / "IMPORT.md").read_text(encoding="utf-8")
    assert "no heading styles: 2 paragraphs that read as chapter titles" in report
    assert "3 paragraphs of a scene-break mark" in report
    assert result.problems == []
    with zipfile.ZipFile(assert_builds(project, "plain", epubcheck)) as epub:
        [page] = [n for n in epub.namelist() if "chapter-1" in n and n.endswith(".xhtml")]
        xhtml = epub.read(page).decode()
    assert xhtml.count("<hr") == 3


def rezip(package: Path, out: Path, changes: dict[str, bytes]) -> Path:
    """A copy of `package` with members replaced or added."""
    with zipfile.ZipFile(package) as old, zipfile.ZipFile(out, "w") as new:
        for member in old.infolist():
            if member.filename not in changes:
                new.writestr(member, old.read(member))
        for name, data in changes.items():
            new.writestr(name, data)
    return out


def declare_size(package: Path, member: str, size: int) -> None:
    """Make the central directory declare `size` unpacked bytes for `member`."""
    data = bytearray(package.read_bytes())
    at = data.index(b"PK\x01\x02")
    while True:
        name_length = int.from_bytes(data[at + 28 : at + 30], "little")
        if data[at + 46 : at + 46 + name_length] == member.encode():
            data[at + 24 : at + 28] = size.to_bytes(4, "little")
            break
        at = data.index(b"PK\x01\x02", at + 4)
    package.write_bytes(bytes(data))


ENCRYPTION = b"""<encryption xmlns="urn:oasis:names:tc:opendocument:xmlns:container"
 xmlns:enc="http://www.w3.org/2001/04/xmlenc#"><enc:EncryptedData>
<enc:EncryptionMethod Algorithm="http://www.w3.org/2001/04/xmlenc#aes128-cbc"/>
</enc:EncryptedData></encryption>"""
OLE_MAGIC = bytes.fromhex("d0cf11e0a1b11ae1")  # the first bytes of an OLE compound file
EXTERNAL_PICTURE = (
    b'<Relationship Id="rIdWeb" TargetMode="External" Target="http://example.com/a.png" '
    b'Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/image"/>'
)


def bad_package(kind: str, packaged: dict[str, Path], out: Path) -> Path:
    """Each kind of bad input the EPUB and DOCX readers refuse, made from a good book."""
    epub, docx = (packaged[f"revolutionary-heritage-1917.{s}"] for s in ("epub", "docx"))
    if kind == "text":
        out.write_text("Chapter one.\n", encoding="utf-8")
    elif kind == "password":  # Office's encrypted package: an OLE file, its zip in a stream
        out.write_bytes(OLE_MAGIC + bytes(504) + "EncryptedPackage".encode("utf-16-le"))
    elif kind == "doc":
        out.write_bytes(OLE_MAGIC + bytes(504) + "WordDocument".encode("utf-16-le"))
    elif kind == "drm":
        rezip(epub, out, {"META-INF/encryption.xml": ENCRYPTION})
    elif kind == "zip slip":
        rezip(epub, out, {"../outside.xhtml": b"<html/>"})
    elif kind == "crowd":
        rezip(epub, out, {f"EPUB/empty-{n}.txt": b"" for n in range(10_000)})
    elif kind == "bomb":
        rezip(epub, out, {})
        declare_size(out, "EPUB/cover.jpg", 4_000_000_000)
    elif kind == "lie":
        rezip(epub, out, {})
        declare_size(out, "EPUB/cover.jpg", 1000)
    else:
        with zipfile.ZipFile(docx) as package:
            rels = package.read("word/_rels/document.xml.rels")
        linked = rels.replace(b"</Relationships>", EXTERNAL_PICTURE + b"</Relationships>")
        rezip(docx, out, {"word/_rels/document.xml.rels": linked})
    return out


@pytest.mark.parametrize(
    ("kind", "suffix", "message"),
    [
        ("text", ".epub", r"not EPUB: not a zip package"),
        ("password", ".docx", r"refused: the DOCX is encrypted \(password-protected\)"),
        ("doc", ".docx", r"not DOCX: a Word 97-2003 document \(\.doc\); save it as \.docx"),
        ("drm", ".epub", r"refused: the EPUB is encrypted \(DRM"),
        ("zip slip", ".epub", r"refused: member '\.\./outside\.xhtml' lies outside the package"),
        ("crowd", ".epub", r"refused: 10,0\d\d members in the package; at most 10,000"),
        ("bomb", ".epub", r"refused: unpacks to 3,815 MB; at most 500 MB"),
        ("lie", ".epub", r"not EPUB: member 'EPUB/cover\.jpg' cannot be read"),
        ("linked picture", ".docx", r"refused: a picture linked outside the file \(http://"),
    ],
)
def test_a_bad_package_is_refused_in_one_line_before_pandoc_reads_it(
    tmp_path: Path,
    packaged: dict[str, Path],
    monkeypatch: pytest.MonkeyPatch,
    kind: str,
    suffix: str,
    message: str,
) -> None:
    file = bad_package(kind, packaged, tmp_path / f"bad{suffix}")

    def no_pandoc(*args: object) -> bytes:
        raise AssertionError("pandoc read a package that should have been refused")

    monkeypatch.setattr("ebook_builder.importers.packaged.run_pandoc", no_pandoc)
    with pytest.raises(InputError, match=message) as caught:
        import_book(file, "bad", project=tmp_path / "project")
    assert "\n" not in str(caught.value)
    assert not (tmp_path / "project").exists()


# A manuscript's prose, chapter by chapter: each chapter's paragraphs as scenes, the scenes
# to be parted by a scene break; a paragraph's lines are parted by soft line breaks (verse).
SCENES = {
    "Night Falls": [
        ["It was night on the river.", "The boatmen slept under their coats."],
        ["Morning came grey and slow.", "Nobody spoke of the storm.", "Rain again."],
    ],
    "The Road North": [
        ["They left at noon.", "The road ran north through the pines."],
        ["By evening the hills were blue.", "The driver sang:\nOver the hill\nand far away"],
    ],
}


def typed_manuscript(path: Path, spacing: int, scene_break: int) -> Path:
    """A DOCX typed as Word users type one: a title page (Title style, blank lines, the
    author, a page break), blank lines before each Heading 1 and at the end, `spacing`
    empty paragraphs after every paragraph (one for those who double-space by hand), a
    stray extra one in each chapter (not a break), and `scene_break` empty paragraphs
    between scenes."""
    document = docx.Document()
    document.core_properties.title = "Blank Lines"
    document.core_properties.language = "en"

    def blank(count: int) -> None:
        for _ in range(count):
            document.add_paragraph("")

    document.add_paragraph("Blank Lines", style="Title")
    blank(3)
    document.add_paragraph("by Ann Author")
    blank(4)
    document.add_page_break()
    for title, scenes in SCENES.items():
        document.add_heading(title, 1)
        blank(spacing)
        for number, scene in enumerate(scenes):
            if number:
                blank(scene_break - spacing)  # the last paragraph brought its spacing
            for at, text in enumerate(scene):
                paragraph = document.add_paragraph()
                for line_number, line in enumerate(text.split("\n")):
                    if line_number:
                        paragraph.runs[-1].add_break()  # Shift+Enter: a soft line break
                    paragraph.add_run(line)
                blank(spacing + (number == at == 0))  # one Enter too many: not a break
        blank(3)  # space before the next chapter's heading, or at the end
    document.save(path)
    return path


def assert_scene_breaks(project: Path, book_id: str, epubcheck: EpubCheck) -> None:
    """The imported manuscript builds in every format, EPUBCheck clean, with one `<hr>`
    between each chapter's scenes (and none elsewhere), its verse lines parted by `<br>`,
    and every word of its prose."""
    epub = assert_builds(project, book_id, epubcheck, tuple(FORMATS))
    with zipfile.ZipFile(epub) as package:
        pages = {
            title: next(
                package.read(name).decode()
                for name in package.namelist()
                if name.endswith(f"{re.sub(r'[^a-z]+', '-', title.lower())}.xhtml")
            )
            for title in SCENES
        }
    for title, scenes in SCENES.items():
        page = pages[title]
        body = page.split("</h1>", 1)[1]
        assert body.count("<hr") == len(scenes) - 1, title
        scene_texts = [" ".join(scene) for scene in scenes]
        assert [part.count("<p") for part in body.split("<hr")] == [len(s) for s in scenes]
        text = " ".join(re.sub(r"<[^>]+>", " ", re.sub(r"<br\s*/>", "\n", body)).split())
        assert text == " ".join(scene_texts).replace("\n", " ")
    verse = pages["The Road North"]
    assert re.search(r"sang:<br/>\s*Over the hill<br/>\s*and far away</p>", verse)


@pytest.mark.parametrize(("spacing", "scene_break"), [(0, 2), (1, 3)])
def test_runs_of_empty_paragraphs_in_a_word_manuscript_are_scene_breaks(
    tmp_path: Path, epubcheck: EpubCheck, spacing: int, scene_break: int
) -> None:
    source = typed_manuscript(tmp_path / "blank.docx", spacing, scene_break)
    project = tmp_path / "project"
    result = import_book(source, "blank", project=project)
    assert result.problems == []
    report = (project / "book" / "blank" / "IMPORT.md").read_text(encoding="utf-8")
    assert f"- 2 runs of {scene_break} or more empty paragraphs between paragraphs" in report
    assert ("typed spacing: most paragraphs are followed by 1 empty paragraph" in report) == (
        spacing == 1
    )
    slips = "2 single empty paragraphs" if spacing == 0 else "2 runs of 2 empty paragraphs"
    assert (
        f"- {slips} between paragraphs of text taken as spacing, not scene breaks "
        "(before `The boatmen slept under…`, `The road ran north…`)"
    ) in report
    assert_scene_breaks(project, "blank", epubcheck)


def test_runs_of_empty_paragraphs_libreoffice_wrote_are_scene_breaks(
    tmp_path: Path, epubcheck: EpubCheck
) -> None:
    """LibreOffice writes each empty paragraph with its style and an empty run in it, and
    the page break as a run of an empty paragraph, not as python-docx's bare `<w:p/>`."""
    source = typed_manuscript(tmp_path / "blank.docx", 0, 2)
    (saved,) = libreoffice_convert([source], tmp_path / "libreoffice", "docx")
    project = tmp_path / "project"
    result = import_book(saved, "blank", project=project)
    assert result.problems == []
    report = (project / "book" / "blank" / "IMPORT.md").read_text(encoding="utf-8")
    assert "- 2 runs of 2 or more empty paragraphs between paragraphs of text made" in report
    assert_scene_breaks(project, "blank", epubcheck)


def bookmark(paragraph: docx.text.paragraph.Paragraph, name: str, number: int) -> None:
    """Word's bookmark `name` around nothing at the paragraph's end."""
    start = OxmlElement("w:bookmarkStart")
    start.set(qn("w:id"), str(number))
    start.set(qn("w:name"), name)
    end = OxmlElement("w:bookmarkEnd")
    end.set(qn("w:id"), str(number))
    paragraph._p.append(start)
    paragraph._p.append(end)


def test_empty_paragraphs_by_a_page_turn_a_mark_or_holding_a_link_target_are_no_breaks(
    tmp_path: Path, epubcheck: EpubCheck
) -> None:
    document = docx.Document()
    document.core_properties.title = "Edges"
    document.core_properties.language = "en"
    document.add_heading("Only", 1)
    for number in range(8):  # prose, which sets the spacing: none
        document.add_paragraph(f"Prose paragraph number {number}.")
    link = document.add_paragraph("See ")._p
    hyperlink = OxmlElement("w:hyperlink")
    hyperlink.set(qn("w:anchor"), "there")
    hyperlink.append(document.add_paragraph("the target").runs[0]._r)
    document.paragraphs[-1]._p.getparent().remove(document.paragraphs[-1]._p)
    link.append(hyperlink)
    document.add_paragraph("")
    document.add_paragraph("")
    document.add_page_break()  # an empty paragraph holding a page break
    document.add_paragraph("After the page break.")
    document.add_paragraph("")
    document.add_paragraph("")
    document.add_paragraph("On a new page.").paragraph_format.page_break_before = True
    document.add_paragraph("")
    bookmark(document.add_paragraph(""), "there", 1)  # a link's target: kept
    document.add_paragraph("")
    document.add_paragraph("Before a mark.")
    document.add_paragraph("")
    document.add_paragraph("")
    document.add_paragraph("* * *")  # one break, not three
    document.add_paragraph("")
    document.add_paragraph("")
    document.add_paragraph("After the mark.")
    bookmark(document.add_paragraph(""), "_GoBack", 2)  # Word's last edit: still empty
    document.add_paragraph("")
    document.add_paragraph("The end.")
    document.save(tmp_path / "edges.docx")
    project = tmp_path / "project"
    result = import_book(tmp_path / "edges.docx", "edges", project=project)
    assert result.problems == []
    report = (project / "book" / "edges" / "IMPORT.md").read_text(encoding="utf-8")
    assert "- 1 run of 2 or more empty paragraphs between paragraphs of text made" in report
    assert "kept as its text" not in report
    with zipfile.ZipFile(assert_builds(project, "edges", epubcheck)) as epub:
        [page] = [n for n in epub.namelist() if n.endswith("only.xhtml")]
        xhtml = epub.read(page).decode()
    assert xhtml.count("<hr") == 2
    assert re.search(r"After the mark\.</p>\s*<hr", xhtml)
