"""`ebook import` of manuscripts other programs made: two Standard Ebooks productions
(tests/fixtures/epubs/SOURCES.md), a Project Gutenberg HTML book and calibre's EPUB of it
(tests/fixtures/gutenberg/SOURCES.md), LibreOffice's DOCX of one of our books and calibre's
DOCX of an SE book. Each must build in every format, EPUBCheck and Ace clean, with the
source's chapters, words and notes; only the real tools judge."""

from __future__ import annotations

import re
import zipfile
from pathlib import Path

import lxml.html
import pytest
from lxml import etree

from ebook_builder import api
from ebook_builder.formats import FORMATS
from ebook_builder.importers import ImportResult, import_book
from tests.helpers import (
    REPO,
    TOUR,
    WORD,
    EpubCheck,
    ace_violations,
    libreoffice_convert,
    markdown_words,
    run_ace,
    run_calibre,
)
from tests.test_import import assert_builds, h1_titles, marked, notes, partitions, texts

EPUBS = REPO / "tests" / "fixtures" / "epubs"
GUTENBERG = REPO / "tests" / "fixtures" / "gutenberg" / "passamaquoddy" / "17997-h.htm"
PG_EPUB = REPO / "tests" / "fixtures" / "gutenberg" / "pg11-alice.epub"
SE_BOOKS = ("jekyll-and-hyde", "a-day-at-a-time")
XHTML = "{http://www.w3.org/1999/xhtml}"
OPS = "{http://www.idpf.org/2007/ops}"
# The spine documents the import leaves out: the build writes its own title page, and
# the notes of the endnotes page go into the chapters that cite them.
LEFT_OUT = {"titlepage", "halftitlepage", "endnotes"}
# The `epub:type` values the import carries in neither the Markdown's attributes nor its
# report: the partitions (the built chapters' bodies say them), note references
# (Markdown notes) and `chapter` (the build writes it).
CARRIED_ELSEWHERE = {"bodymatter", "frontmatter", "backmatter", "noteref", "chapter"}


def se_epub(name: str, out: Path) -> Path:
    """The EPUB of an SE source folder: `mimetype` first and stored, then the rest."""
    folder, path = EPUBS / name, out / f"{name}.epub"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as package:
        package.write(folder / "mimetype", "mimetype", zipfile.ZIP_STORED)
        for file in sorted((folder / "META-INF").rglob("*")) + sorted((folder / "epub").rglob("*")):
            if file.is_file():
                package.write(file, file.relative_to(folder).as_posix())
    return path


def spine_pages(name: str) -> list[etree._Element]:
    """The SE book's spine documents, parsed, in reading order."""
    opf = etree.parse(str(EPUBS / name / "epub" / "content.opf"))
    ns = {"opf": "http://www.idpf.org/2007/opf"}
    hrefs = {item.get("id"): item.get("href") for item in opf.iterfind(".//opf:item", ns)}
    refs = [ref.get("idref") for ref in opf.iterfind(".//opf:itemref", ns)]
    return [etree.parse(str(EPUBS / name / "epub" / hrefs[ref])).getroot() for ref in refs]


def kept(page: etree._Element) -> bool:
    section = page.find(f"{XHTML}body/{XHTML}section")
    kinds = set((section.get(f"{OPS}type") or "").split()) if section is not None else set()
    return not kinds & LEFT_OUT


def title(page: etree._Element) -> str:
    return " ".join("".join(page.find(f"{XHTML}head/{XHTML}title").itertext()).split())


def chapter_titles(epub: Path) -> list[str]:
    """The level-1 headings of a built book's chapters (less its table of contents')."""
    return [heading for heading in h1_titles(epub) if heading != "Contents"]


def source_words(name: str) -> int:
    """The words of the pages the import keeps, as a reader sees them (less `↩`)."""
    pages = [page for page in spine_pages(name) if kept(page)]
    return sum(len(WORD.findall(" ".join(page.find(f"{XHTML}body").itertext()))) for page in pages)


def source_notes(name: str) -> int:
    """How many note references the SE book's chapters make."""
    return sum(
        1
        for page in spine_pages(name)
        for link in page.iter(f"{XHTML}a")
        if "noteref" in (link.get(f"{OPS}type") or "").split()
    )


def source_types(name: str) -> set[str]:
    """The `epub:type` values of the pages the import keeps."""
    return {
        value
        for page in spine_pages(name)
        if kept(page)
        for element in page.iter()
        for value in (element.get(f"{OPS}type") or "").split()
    }


def markdown_types(texts: list[str]) -> set[str]:
    """The `epub:type` values and classes that imported Markdown gives its elements."""
    typed = (value for text in texts for value in re.findall(r'epub:type="([^"]*)"', text))
    classes = (name for text in texts for name in re.findall(r"[{\s]\.([\w:.-]+)", text))
    return {value for values in typed for value in values.split()} | set(classes)


def assert_clean_everywhere(project: Path, book_id: str, epubcheck: EpubCheck, out: Path) -> Path:
    """The imported book builds in every format; its EPUB passes EPUBCheck (0 errors, 0
    warnings) and DAISY Ace (0 violations). Returns the EPUB."""
    epub = assert_builds(project, book_id, epubcheck, tuple(FORMATS))
    assert ace_violations(run_ace({book_id: epub}, out)[book_id]) == []
    return epub


def import_clean(file: Path, book_id: str, project: Path) -> ImportResult:
    result = import_book(file, book_id, project=project)
    assert result.problems == []
    return result


@pytest.mark.parametrize("name", SE_BOOKS)
def test_a_standard_ebooks_production_imports_with_its_chapters_words_and_notes(
    tmp_path: Path, epubcheck: EpubCheck, name: str
) -> None:
    project = tmp_path / "project"
    result = import_clean(se_epub(name, tmp_path), name, project)
    epub = assert_clean_everywhere(project, name, epubcheck, tmp_path / "ace")
    pages = [page for page in spine_pages(name) if kept(page)]
    assert chapter_titles(epub) == [title(page) for page in pages]
    report = (project / "book" / name / "IMPORT.md").read_text(encoding="utf-8")
    assert "kept as its text" not in report  # every link between pages found its target
    parts = partitions(epub)  # SE's matter pages stay the matter they were
    assert parts["Imprint"] == "frontmatter" and parts["Colophon"] == "backmatter"
    assert parts["Uncopyright"] == "backmatter"  # as its <body> says, over `copyright-page`
    named = set(re.findall(r"`([^`\s]+)`", report))  # nothing lost without a word
    assert source_types(name) - CARRIED_ELSEWHERE <= named | markdown_types(texts(result))
    imported = texts(result)
    words = sum(map(markdown_words, imported))
    assert abs(words - source_words(name)) <= source_words(name) / 100
    assert notes(imported) == source_notes(name)
    for text in imported:  # each note in the chapter that cites it
        assert set(re.findall(r"\[\^([^\]]+)\](?!:)", text)) == set(
            re.findall(r"^\[\^([^\]]+)\]:", text, re.M)
        )


def test_libreoffices_docx_of_one_of_our_books_imports_clean(
    tmp_path: Path, fixture_project: Path, epubcheck: EpubCheck
) -> None:
    ours = api.build(fixture_project, [TOUR], ["epub", "docx"], tmp_path / "ours")
    epub, docx = sorted(ours, key=lambda path: path.suffix != ".epub")
    (theirs,) = libreoffice_convert([docx], tmp_path / "libreoffice", "docx")
    project = tmp_path / "project"
    result = import_clean(theirs, "tour", project)
    report = (project / "book" / "tour" / "IMPORT.md").read_text(encoding="utf-8")
    assert "3 bookmarks named `page-N` made page markers" in report
    assert "`page_source` is needed" in report  # a DOCX cannot say which print edition
    with result.metadata.open("a", encoding="utf-8") as metadata:  # the field it lacks
        metadata.write("page_source: A Tour of Features, print edition\n")
    built = assert_clean_everywhere(project, "tour", epubcheck, tmp_path / "ace")
    assert h1_titles(built) == h1_titles(epub)
    assert marked(built)["pages"] == marked(epub)["pages"] == ["1", "2", "3"]
    folder = REPO / "tests" / "fixtures" / "project" / "book" / TOUR
    original = [path.read_text(encoding="utf-8") for path in sorted(folder.glob("*.md"))]
    words = sum(map(markdown_words, original))
    assert abs(sum(map(markdown_words, texts(result))) - words) <= words / 100
    assert notes(texts(result)) == notes(original)


def test_calibres_docx_of_a_standard_ebooks_production_imports_clean(
    tmp_path: Path, epubcheck: EpubCheck
) -> None:
    name = "jekyll-and-hyde"
    docx = tmp_path / f"{name}.docx"
    run_calibre({name: ["ebook-convert", str(se_epub(name, tmp_path)), str(docx)]}, tmp_path)
    project = tmp_path / "project"
    result = import_clean(docx, name, project)
    built = assert_clean_everywhere(project, name, epubcheck, tmp_path / "ace")
    chapters = [title(page) for page in spine_pages(name) if kept(page)]
    assert chapter_titles(built) == chapters
    words = sum(map(markdown_words, texts(result)))
    assert abs(words - source_words(name)) <= source_words(name) / 100


def gutenberg_book() -> list[lxml.html.HtmlElement]:
    """The PG book's elements between its `*** START` and `*** END` lines: the book itself,
    without PG's header and licence."""
    body = lxml.html.parse(str(GUTENBERG)).getroot().body
    lines = [" ".join(element.text_content().split()) for element in body]
    start = next(at for at, line in enumerate(lines) if "START OF THE PROJECT GUTENBERG" in line)
    end = next(at for at, line in enumerate(lines) if "END OF THE PROJECT GUTENBERG" in line)
    return list(body)[start + 1 : end]


def gutenberg_words() -> int:
    """The words a reader reads in the PG book, less its page numbers (`[Pg 12]`) and its
    notes' labels (`[1]`), which the build numbers itself."""
    book = gutenberg_book()
    for element in book:
        for label in [*of_class(element, "span", "pagenum"), *of_class(element, "a", "fnanchor")]:
            label.drop_tree()
        for label in of_class(element, "span", "label"):
            label.drop_tree()
    return sum(len(WORD.findall(element.text_content())) for element in book)


def of_class(element: lxml.html.HtmlElement, tag: str, name: str) -> list[lxml.html.HtmlElement]:
    """`element` and its descendants that are `<tag class="… name …">`."""
    test = f"contains(concat(' ', normalize-space(@class), ' '), ' {name} ')"
    return element.xpath(f"descendant-or-self::{tag}[{test}]")


def gutenberg_count(tag: str, name: str) -> int:
    return sum(len(of_class(element, tag, name)) for element in gutenberg_book())


def headings(epub: Path, level: int) -> list[str]:
    """The headings of `level` in a built book's chapters, in reading order."""
    with zipfile.ZipFile(epub) as package:
        names = sorted(n for n in package.namelist() if re.search(r"(?<!nav)\.xhtml$", n))
        pages = [etree.fromstring(package.read(name)) for name in names]
    found = [h for page in pages for h in page.iter(f"{XHTML}h{level}")]
    return [" ".join("".join(h.itertext()).split()) for h in found]


def page_breaks(epub: Path) -> int:
    """The page-break markers of a built book (its page list's targets)."""
    with zipfile.ZipFile(epub) as package:
        pages = [
            etree.fromstring(package.read(name))
            for name in package.namelist()
            if name.endswith(".xhtml") and not name.endswith("nav.xhtml")
        ]
    return sum(
        1
        for page in pages
        for element in page.iter()
        if "pagebreak" in (element.get(f"{OPS}type") or "").split()
    )


@pytest.mark.parametrize("producer", ["gutenberg-html", "calibre-epub"])
def test_a_project_gutenberg_book_imports_with_its_chapters_words_notes_and_pages(
    tmp_path: Path, epubcheck: EpubCheck, producer: str
) -> None:
    source = GUTENBERG
    if producer == "calibre-epub":
        source = tmp_path / "pg.epub"
        run_calibre({producer: ["ebook-convert", str(GUTENBERG), str(source)]}, tmp_path)
    project = tmp_path / "project"
    result = import_clean(source, "pg", project)
    epub = assert_clean_everywhere(project, "pg", epubcheck, tmp_path / "ace")
    # The title page set in headings is front matter; the article is the one chapter,
    # its stories its sections; the emptied FOOTNOTES heading is gone.
    book = gutenberg_book()
    [opening] = [h for e in book for h in e.iter("h2") if h.text_content().startswith("A CON")]
    sections = [" ".join(h.text_content().split()) for h in opening.itersiblings("h3")]
    assert chapter_titles(epub) == ["Front matter", opening.text_content()]
    assert headings(epub, 2) == sections
    imported = texts(result)
    words = sum(map(markdown_words, imported))
    assert abs(words - gutenberg_words()) <= gutenberg_words() / 100
    assert notes(imported) == gutenberg_count("a", "fnanchor") == 33
    for text in imported:  # each note in the chapter that cites it
        assert set(re.findall(r"\[\^([^\]]+)\](?!:)", text)) == set(
            re.findall(r"^\[\^([^\]]+)\]:", text, re.M)
        )
    assert page_breaks(epub) == gutenberg_count("span", "pagenum") == 24
    metadata = (project / "metadata" / "pg.yaml").read_text(encoding="utf-8")
    assert "title: Contribution to Passamaquoddy Folk-Lore" in metadata
    assert "- J. Walter Fewkes" in metadata
    report = (project / "book" / "pg" / "IMPORT.md").read_text(encoding="utf-8")
    assert "Project Gutenberg header" in report and "licence" in report
    for text in imported:  # neither PG's header nor its licence is a page of the book
        assert not re.search(r"START\s+OF|END\s+OF|Release\s+Date|License", text)


def test_project_gutenbergs_own_epub_imports_with_its_chapters_and_words(
    tmp_path: Path, epubcheck: EpubCheck
) -> None:
    """PG's EPUB 2 (its ebookmaker's) of *Alice*: the header and licence, the title page
    set in headings and the contents table go; the chapters are the NCX's."""
    project = tmp_path / "project"
    result = import_clean(PG_EPUB, "alice", project)
    epub = assert_clean_everywhere(project, "alice", epubcheck, tmp_path / "ace")
    with zipfile.ZipFile(PG_EPUB) as package:
        ncx = etree.fromstring(package.read("OEBPS/toc.ncx"))
        opf = etree.fromstring(package.read("OEBPS/content.opf"))
        hrefs = {item.get("id"): item.get("href") for item in opf.iter("{*}item")}
        spine = [hrefs[ref.get("idref")] for ref in opf.iter("{*}itemref")]
        pages = [lxml.html.fromstring(package.read(f"OEBPS/{href}")) for href in spine]
    entries = [" ".join("".join(t.itertext()).split()) for t in ncx.iter("{*}text")]
    assert chapter_titles(epub) == ["Front matter"] + [e for e in entries if e.startswith("CHAP")]
    text = " ".join(" ".join(page.body.text_content().split()) for page in pages)
    book = text.split("***", 2)[2].split("*** END OF")[0]  # between START and END
    title_page, contents_on = book.split("Contents", 1)
    chapters = contents_on.split("Alice’s Evidence", 1)[1]  # less the contents' entries
    words = len(WORD.findall(title_page)) + len(WORD.findall(chapters))
    imported = sum(map(markdown_words, texts(result)))
    assert abs(imported - words) <= words / 100
    assert "Lewis Carroll" in (project / "metadata" / "alice.yaml").read_text(encoding="utf-8")
