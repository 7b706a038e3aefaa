"""`ebook import` of manuscripts other programs made: two Standard Ebooks productions
(tests/fixtures/epubs/SOURCES.md), LibreOffice's DOCX of one of our books and calibre's
DOCX of an SE book. Each must build in every format, EPUBCheck and Ace clean, with the
source's chapters, words and notes; only the real tools judge."""

from __future__ import annotations

import re
import zipfile
from pathlib import Path

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
