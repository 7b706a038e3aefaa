"""The two books this project ships, built from the repository as a user builds them."""

from __future__ import annotations

import zipfile
from pathlib import Path

import pytest
from lxml import etree

from ebook_builder import api
from tests.helpers import REPO, SHIPPED_BOOKS, WORD, chapter_files, curly, markdown_words

XHTML = "{http://www.w3.org/1999/xhtml}"
EPUB_TYPE = "{http://www.idpf.org/2007/ops}type"


def epub_documents(path: Path) -> dict[str, etree._Element]:
    """Every content document but the navigation document and the cover page."""
    with zipfile.ZipFile(path) as archive:
        return {
            name.removeprefix("EPUB/"): etree.fromstring(archive.read(name))
            for name in archive.namelist()
            if name.endswith(".xhtml") and not name.endswith(("nav.xhtml", "cover.xhtml"))
        }


def epub_chapters(path: Path) -> dict[str, etree._Element]:
    """The chapters' documents: the others are the pages made from the metadata."""
    return {name: html for name, html in epub_documents(path).items() if name in CHAPTER_NAMES}


CHAPTER_NAMES = {
    path.with_suffix(".xhtml").name for book_id in SHIPPED_BOOKS for path in chapter_files(book_id)
}


def matter_text(path: Path) -> dict[str, str]:
    """The text of each page made from the metadata, by its `epub:type`."""
    found = {}
    for html in epub_documents(path).values():
        section = html.find(f"{XHTML}body/{XHTML}section")
        if section is not None and "from-metadata" in section.get("class", "").split():
            lines = (" ".join("".join(line.itertext()).split()) for line in section)
            found[section.get(EPUB_TYPE)] = " ".join(lines)
    return found


def nav(path: Path) -> etree._Element:
    with zipfile.ZipFile(path) as archive:
        return etree.fromstring(archive.read("EPUB/nav.xhtml"))


@pytest.mark.parametrize("book_id", SHIPPED_BOOKS)
def test_epubcheck_reports_nothing(shipped_build, book_id, epubcheck):
    report = epubcheck.check(shipped_build[book_id])
    assert (report.fatal, report.errors, report.warnings) == (0, 0, 0), report.messages


@pytest.mark.parametrize("book_id", SHIPPED_BOOKS)
def test_text_keeps_the_words_of_the_markdown(shipped_build, book_id):
    expected = sum(markdown_words(p.read_text(encoding="utf-8")) for p in chapter_files(book_id))
    found = 0
    for body in epub_chapters(shipped_build[book_id]).values():
        for back in body.iter(f"{XHTML}a"):
            if back.get("role") == "doc-backlink":
                back.text = ""
        found += len(WORD.findall("".join(body.find(f"{XHTML}body").itertext())))
    assert abs(found - expected) <= 0.01 * expected, (found, expected)


def test_first_book_toc_lists_ten_essays_with_their_sections(shipped_build):
    files = chapter_files("russian-revolution-1917")
    assert len(files) == 10
    toc = next(
        n
        for n in nav(shipped_build["russian-revolution-1917"]).iter(f"{XHTML}nav")
        if n.get(EPUB_TYPE) == "toc"
    )
    essays = toc.find(f"{XHTML}ol").findall(f"{XHTML}li")
    assert len(essays) == 10
    for essay, path in zip(essays, files, strict=True):
        lines = path.read_text(encoding="utf-8").splitlines()
        title = next(line[2:] for line in lines if line.startswith("# "))
        sections = [line[3:] for line in lines if line.startswith("## ")]
        assert essay.find(f"{XHTML}a").text == curly(title)
        listed = [a.text for a in essay.findall(f"{XHTML}ol/{XHTML}li/{XHTML}a")]
        assert listed == [curly(s) for s in sections]
    assert sum(len(e.findall(f"{XHTML}ol/{XHTML}li")) for e in essays) > 10


def test_second_book_has_a_page_list_of_its_printed_pages(shipped_build):
    path = shipped_build["revolutionary-heritage-1917"]
    page_list = next(n for n in nav(path).iter(f"{XHTML}nav") if n.get(EPUB_TYPE) == "page-list")
    labels = [a.text for a in page_list.iter(f"{XHTML}a")]
    assert labels == [str(n) for n in range(1, len(labels) + 1)]
    assert len(labels) >= 10
    markers = [
        span.get("aria-label")
        for body in epub_chapters(path).values()
        for span in body.iter(f"{XHTML}span")
        if span.get(EPUB_TYPE) == "pagebreak"
    ]
    assert sorted(markers, key=int) == labels


def test_shipped_books_matter_states_only_what_the_pamphlets_do(shipped_build):
    """Title page, imprint and colophon; no dedication, ISBN, rights or edition: the
    pamphlets state none. The second book's imprint names the print edition its page
    list follows; the first has no page list, and so no such line."""
    first = matter_text(shipped_build["russian-revolution-1917"])
    second = matter_text(shipped_build["revolutionary-heritage-1917"])
    group = "Speak Out Now/Revolutionary Workers Group"
    assert first == {
        "titlepage": f"The Russian Revolution of 1917 {group}",
        "copyright-page": f"Published by {group} in 2017.",
        "colophon": f"The Russian Revolution of 1917 was written by {group} and published in"
        " 2017. This ebook was made with ebook-builder. It is set in Source Serif Pro, under"
        " the SIL Open Font License 1.1.",
    }
    assert second["titlepage"] == f"1917: A Part of Our Revolutionary Heritage {group}"
    assert second["copyright-page"] == (
        f"Published by {group}. The page numbers in this ebook are those of 1917: A Part of"
        " Our Revolutionary Heritage (print pamphlet)."
    )
    assert set(second) == {"titlepage", "copyright-page", "colophon"}


def test_shipped_books_rebuild_byte_identical(shipped_build, tmp_path):
    (again,) = api.build(REPO, ["revolutionary-heritage-1917"], ["epub"], tmp_path)
    assert again.read_bytes() == shipped_build["revolutionary-heritage-1917"].read_bytes()


@pytest.mark.parametrize("book_id", SHIPPED_BOOKS)
def test_covers_are_committed(book_id):
    assert (REPO / "covers" / f"{book_id}.jpg").is_file()
