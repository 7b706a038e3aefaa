"""Real public-domain books, from a production nobody here wrote, judged by the real readers.

`tests/fixtures/real-books/` holds a selection of two Standard Ebooks books written as
pandoc Markdown (`SOURCES.md` names the repositories and commits): verse with the
production's indent classes, a shaped poem, endnotes, epigraphs, raster pictures with alt
text, SVG pictures, and the production's `z3998:`/`se:` semantics. Issue 17's rule: whatever
`ebook check` passes builds in every format, EPUBCheck passes 0/0/0, DAISY Ace finds no
violation, calibre reads the Kindle files with the whole TOC, python-docx reads every
chapter heading of the DOCX, and no word of the Markdown is lost.

Each format is built on its own, so that one writer's failure does not hide the others'
verdicts. Marked `readers`, as the other tests that run calibre.
"""

from __future__ import annotations

import shutil
import zipfile
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import yaml
from docx import Document
from lxml import etree

from ebook_builder import api
from ebook_builder.errors import Diagnostic
from ebook_builder.formats import FORMATS
from ebook_builder.markup.xhtml import heading_entries
from ebook_builder.model import TOC_DEPTH
from tests.helpers import REPO, WORD, ace_violations, calibre_epubs, markdown_word_list, run_ace

pytestmark = pytest.mark.readers

FIXTURE = REPO / "tests" / "fixtures" / "real-books"
BOOKS = ("alice-in-wonderland", "leaves-of-grass")
OPF = "{http://www.idpf.org/2007/opf}"
NCX = "{http://www.daisy.org/z3986/2005/ncx/}"
XHTML = "{http://www.w3.org/1999/xhtml}"


@dataclass
class Built:
    """Every format of the two books, or why a format could not be written."""

    project: Path
    out: Path
    files: dict[str, dict[str, Path]] = field(default_factory=dict)  # format -> book -> file
    failures: dict[str, str] = field(default_factory=dict)  # format -> the error
    warnings: list[Diagnostic] = field(default_factory=list)  # what the check and builds said

    def file(self, fmt: str, book_id: str) -> Path:
        if fmt in self.failures:
            pytest.fail(f"the {fmt} build failed: {self.failures[fmt]}")
        return self.files[fmt][book_id]


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Built:
    """The fixture project copied, checked, then built format by format."""
    root = tmp_path_factory.mktemp("real-books")
    project = root / "project"
    shutil.copytree(FIXTURE, project)
    result = Built(project, root / "dist")
    checked = api.check(project, list(BOOKS), warn=result.warnings.append)
    assert [b.book.book_id for b in checked] == list(BOOKS)
    for fmt, writer in FORMATS.items():
        try:
            api.build(project, list(BOOKS), [fmt], result.out, warn=result.warnings.append)
        except Exception as error:  # recorded: judged by that format's tests
            result.failures[fmt] = repr(error)
            continue
        result.files[fmt] = {b: result.out / f"{b}{writer.suffix}" for b in BOOKS}
    return result


def _chapters(book_id: str) -> list[Path]:
    metadata = yaml.safe_load((FIXTURE / "metadata" / f"{book_id}.yaml").read_text())
    return [FIXTURE / "book" / book_id / name for name in metadata["chapters"]]


def _our_toc(project: Path, book_id: str) -> list[str]:
    """The headings our TOC lists, in reading order, down to TOC_DEPTH."""
    book = api.check(project, [book_id])[0]
    return [h.title for c in book.chapters for h in heading_entries(c.body) if h.level <= TOC_DEPTH]


def _spine_text(path: Path) -> str:
    """The text of an EPUB's spine documents but the cover page."""
    with zipfile.ZipFile(path) as archive:
        opf_name = next(n for n in archive.namelist() if n.endswith(".opf"))
        opf = etree.fromstring(archive.read(opf_name))
        base = opf_name.rpartition("/")[0]
        hrefs = {i.get("id"): i.get("href") for i in opf.iter(f"{OPF}item")}
        texts = []
        for ref in opf.iter(f"{OPF}itemref"):
            href = hrefs[ref.get("idref")]
            if "cover" in href:
                continue
            document = etree.fromstring(archive.read(f"{base}/{href}" if base else href))
            texts.append(" ".join(document.find(f"{XHTML}body").itertext()))
    return " ".join(texts)


def test_every_format_builds_at_once(built: Built, tmp_path: Path) -> None:
    written = api.build(built.project, None, None, tmp_path)
    assert {p.name for p in written} >= {
        f"{b}{writer.suffix}" for b in BOOKS for writer in FORMATS.values()
    }


def test_nothing_is_lost_in_conversion(built: Built) -> None:
    """No warning: pandoc carries all the Markdown says (a div left unclosed was one)."""
    assert [str(warning) for warning in built.warnings] == []


@pytest.mark.parametrize("fmt", ["epub", "kepub", "azw3", "mobi"])
def test_each_format_builds(built: Built, fmt: str) -> None:
    for book_id in BOOKS:
        assert built.file(fmt, book_id).stat().st_size > 0


@pytest.mark.parametrize("fmt", ["epub", "kepub"])
@pytest.mark.parametrize("book_id", BOOKS)
def test_epubcheck_passes(built: Built, epubcheck, book_id: str, fmt: str) -> None:
    report = epubcheck.check(built.file(fmt, book_id))
    assert report.clean, report.messages


def test_ace_finds_no_violation(built: Built) -> None:
    reports = run_ace({b: built.file("epub", b) for b in BOOKS}, built.out / "ace")
    assert {b: ace_violations(r) for b, r in reports.items()} == {b: [] for b in BOOKS}
    assert {r["earl:result"]["earl:outcome"] for r in reports.values()} == {"pass"}


@pytest.fixture(scope="module")
def calibre_epub(built: Built) -> dict[tuple[str, str], Path]:
    """calibre's EPUB of every Kindle file, all converted side by side."""
    books = {(fmt, book): built.file(fmt, book) for fmt in ("azw3", "mobi") for book in BOOKS}
    return calibre_epubs(books, built.out / "calibre")


@pytest.mark.parametrize("fmt", ["azw3", "mobi"])
@pytest.mark.parametrize("book_id", BOOKS)
def test_calibre_reads_the_whole_toc(
    built: Built, calibre_epub: dict[tuple[str, str], Path], book_id: str, fmt: str
) -> None:
    with zipfile.ZipFile(calibre_epub[fmt, book_id]) as archive:
        ncx = etree.fromstring(
            archive.read(next(n for n in archive.namelist() if n.endswith(".ncx")))
        )
    labels = [
        t.text for p in ncx.iter(f"{NCX}navPoint") for t in p.iterfind(f"{NCX}navLabel/{NCX}text")
    ]
    assert labels == _our_toc(built.project, book_id)


@pytest.mark.parametrize("book_id", BOOKS)
def test_python_docx_reads_every_chapter_heading(built: Built, book_id: str) -> None:
    document = Document(str(built.file("docx", book_id)))
    headings = [p.text for p in document.paragraphs if p.style.name == "Heading 1"]
    book = api.check(built.project, [book_id])[0]
    assert headings == [c.title for c in book.chapters]


@pytest.mark.parametrize("fmt", ["epub", "kepub"])
@pytest.mark.parametrize("book_id", BOOKS)
def test_no_word_of_the_markdown_is_lost(built: Built, book_id: str, fmt: str) -> None:
    expected = Counter(
        word for path in _chapters(book_id) for word in markdown_word_list(path.read_text())
    )
    found = Counter(WORD.findall(_spine_text(built.file(fmt, book_id))))
    assert expected - found == Counter()


def test_the_wrapped_imprint_stays_front_matter(built: Built) -> None:
    with zipfile.ZipFile(built.file("epub", "alice-in-wonderland")) as archive:
        imprint = etree.fromstring(archive.read("EPUB/04-imprint.xhtml"))
        nav = etree.fromstring(archive.read("EPUB/nav.xhtml"))
    epub_type = "{http://www.idpf.org/2007/ops}type"
    assert imprint.find(f"{XHTML}body").get(epub_type) == "frontmatter"
    start = [a.get("href") for a in nav.iter(f"{XHTML}a") if a.get(epub_type) == "bodymatter"]
    assert start == ["02-chapter-1.xhtml"]
