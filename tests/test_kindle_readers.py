"""Readers nobody here wrote open our Kindle files: calibre and KindleUnpack.

Marked `readers` (`pytest -m readers` runs just these). calibre comes from the Debian
package `calibre`, KindleUnpack from the PyPI package `mobi` (a test dependency). Without
calibre the calibre tests skip, except in CI (the `CI` environment variable set), where
they fail: CI must run them.

Each file is built, converted and unpacked once per module, calibre's conversions running
side by side, so that the whole module takes seconds, not minutes.
"""

from __future__ import annotations

import io
import shutil
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType

import pytest
from lxml import etree
from lxml import html as lxml_html
from PIL import Image

from ebook_builder import api
from ebook_builder.formats.kindle import write_azw3, write_mobi
from ebook_builder.markup.xhtml import heading_entries, text_of
from ebook_builder.model import ConvertedBook
from tests.helpers import REPO, ProjectMaker, mobi6_half, run_calibre

pytestmark = pytest.mark.readers

TOUR = "feature-tour"
SHIPPED = "russian-revolution-1917"
BOOKS = (TOUR, SHIPPED)
FORMATS = ("azw3", "mobi")
TOC_DEPTH = 3
LANGUAGES = {"en": "eng", "fr": "fra", "de": "deu", "es": "spa", "ru": "rus"}
OPF = "{http://www.idpf.org/2007/opf}"
NCX = "{http://www.daisy.org/z3986/2005/ncx/}"


def _kindleunpack() -> ModuleType:
    try:
        import mobi
        from loguru import logger
    except ImportError:
        pytest.fail("KindleUnpack is missing: pip install mobi (a test dependency)")
    logger.disable("mobi")  # it logs every record at DEBUG level
    return mobi


@dataclass
class Built:
    """One book: our files, and what calibre made of them."""

    book: ConvertedBook
    files: dict[str, Path]
    converted: dict[str, Path] = field(default_factory=dict)  # format -> calibre's EPUB
    meta: dict[str, str] = field(default_factory=dict)  # format -> ebook-meta output
    covers: dict[str, Path] = field(default_factory=dict)


@pytest.fixture(scope="module")
def ours(
    fixture_project: Path,
    shipped: dict[str, dict[str, Path]],
    tmp_path_factory: pytest.TempPathFactory,
) -> dict[str, Built]:
    """Both books in both formats: the fixture book written here, the shipped one as built."""
    out = tmp_path_factory.mktemp("kindle-readers")
    tour = api.check(fixture_project, [TOUR])[0]
    files = {"azw3": out / f"{TOUR}.azw3", "mobi": out / f"{TOUR}.mobi"}
    write_azw3(tour, files["azw3"])
    write_mobi(tour, files["mobi"])
    return {
        TOUR: Built(tour, files),
        SHIPPED: Built(
            api.check(REPO, [SHIPPED])[0], {fmt: shipped[fmt][SHIPPED] for fmt in FORMATS}
        ),
    }


@pytest.fixture(scope="module")
def built(ours: dict[str, Built]) -> dict[str, Built]:
    """What calibre makes of every file: all its runs started at once, then awaited."""
    out = ours[TOUR].files["azw3"].parent
    commands = {}
    for name, entry in ours.items():
        files = entry.files
        files["mobi7"] = out / f"{name}.mobi7.mobi"
        files["mobi7"].write_bytes(mobi6_half(files["mobi"]))
        for fmt, path in files.items():
            entry.converted[fmt] = out / f"{name}.{fmt}.epub"
            commands[name, fmt, "convert"] = ["ebook-convert", str(path), str(entry.converted[fmt])]
        for fmt in FORMATS:
            entry.covers[fmt] = out / f"{name}.{fmt}.cover.jpg"
            commands[name, fmt, "meta"] = [
                "ebook-meta",
                str(files[fmt]),
                f"--get-cover={entry.covers[fmt]}",
            ]
    runs = run_calibre(commands, out / "calibre")
    for name, entry in ours.items():
        for fmt in FORMATS:
            entry.meta[fmt] = runs[name, fmt, "meta"].stdout
    return ours


def _our_toc(book: ConvertedBook) -> list[str]:
    return [h.title for c in book.chapters for h in heading_entries(c.body) if h.level <= TOC_DEPTH]


def _our_words(book: ConvertedBook) -> int:
    """The words of the chapters and of the pages made from the metadata."""
    return sum(len(text_of(document.body).split()) for document in book.documents)


def _epub_words_and_toc(path: Path) -> tuple[int, list[str], list[str]]:
    """Words of the spine documents (but calibre's cover page), all TOC labels, top level."""
    with zipfile.ZipFile(path) as archive:
        opf_name = next(n for n in archive.namelist() if n.endswith(".opf"))
        opf = etree.fromstring(archive.read(opf_name))
        base = opf_name.rpartition("/")[0]
        hrefs = {i.get("id"): i.get("href") for i in opf.iter(f"{OPF}item")}
        words = 0
        for ref in opf.iter(f"{OPF}itemref"):
            href = hrefs[ref.get("idref")]
            if "titlepage" in href:
                continue
            document = lxml_html.fromstring(archive.read(f"{base}/{href}" if base else href))
            body = document.find(".//body")
            words += len("".join(body.itertext()).split())
        ncx = etree.fromstring(
            archive.read(next(n for n in archive.namelist() if n.endswith(".ncx")))
        )
    labels = [
        t.text for t in ncx.iter(f"{NCX}text") if t.getparent().getparent().tag == f"{NCX}navPoint"
    ]
    nav_map = ncx.find(f"{NCX}navMap")
    top = [p.find(f"{NCX}navLabel/{NCX}text").text for p in nav_map.findall(f"{NCX}navPoint")]
    return words, labels, top


def _fields(output: str) -> dict[str, str]:
    fields = {}
    for line in output.splitlines():
        name, colon, value = line.partition(":")
        if colon:
            fields[name.strip()] = value.strip()
    return fields


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("name", BOOKS)
def test_ebook_meta_reads_the_metadata_and_cover(
    built: dict[str, Built], name: str, fmt: str
) -> None:
    entry = built[name]
    meta = entry.book.book.metadata
    fields = _fields(entry.meta[fmt])
    assert fields["Title"] == meta.title
    assert fields["Author(s)"].split(" & ") == list(meta.creator_names)
    assert fields["Languages"] == LANGUAGES[meta.language.split("-")[0]]
    # calibre scales the cover it saves down to its own maximum size: compare the shape.
    with Image.open(entry.covers[fmt]) as cover:
        shape = cover.width / cover.height
    with Image.open(io.BytesIO(entry.book.book.cover.data)) as original:
        assert abs(shape - original.width / original.height) < 0.01


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("name", BOOKS)
def test_calibre_converts_with_our_toc_and_words(
    built: dict[str, Built], name: str, fmt: str
) -> None:
    entry = built[name]
    words, labels, top = _epub_words_and_toc(entry.converted[fmt])
    assert labels == _our_toc(entry.book)
    assert top == [c.title for c in entry.book.chapters]
    ours = _our_words(entry.book)
    assert abs(words - ours) <= 0.01 * ours, (words, ours)


@pytest.mark.parametrize("name", BOOKS)
def test_calibre_reads_the_mobi6_half(built: dict[str, Built], name: str) -> None:
    """Old Kindles read only the MOBI 6 half: calibre reads it alone, TOC page and all."""
    entry = built[name]
    words, labels, _ = _epub_words_and_toc(entry.converted["mobi7"])
    assert labels == _our_toc(entry.book)
    toc_page = 3 + sum(len(title.split()) for title in _our_toc(entry.book))
    ours = _our_words(entry.book) + toc_page
    assert abs(words - ours) <= 0.01 * ours, (words, ours)


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("name", BOOKS)
def test_kindleunpack_unpacks_with_the_same_cover(
    ours: dict[str, Built], name: str, fmt: str
) -> None:
    mobi = _kindleunpack()
    entry = ours[name]
    folder, extracted = mobi.extract(str(entry.files[fmt]))
    try:
        root = Path(folder)
        assert Path(extracted) == root / "mobi8" / f"{name}.epub"
        covers = list((root / "mobi8" / "OEBPS" / "Images").glob("cover*"))
        assert [c.read_bytes() for c in covers] == [entry.book.book.cover.data]
        ncx = etree.parse(str(root / "mobi8" / "OEBPS" / "toc.ncx"))
        labels = [t.text for t in ncx.iter(f"{NCX}text")][1:]  # after the book title
        assert labels == _our_toc(entry.book)
        if fmt == "mobi":
            html = (root / "mobi7" / "book.html").read_text(encoding="utf-8")
            assert entry.book.chapters[-1].title in html
            # The MOBI 6 index lists every heading too, flat, in reading order.
            flat = etree.parse(str(root / "mobi7" / "toc.ncx"))
            assert [t.text for t in flat.iter(f"{NCX}text")][1:] == _our_toc(entry.book)
            mobi7_covers = list((root / "mobi7" / "Images").glob("cover*"))
            assert [c.read_bytes() for c in mobi7_covers] == [entry.book.book.cover.data]
    finally:
        shutil.rmtree(folder, ignore_errors=True)


# --- Trailing byte sequences -----------------------------------------------------------------

# calibre's `--inspect-mobi` recomputes the KF8 half's TBS from its NCX and prints "TBS
# mismatch" for each text record that disagrees. For the MOBI 6 half it only dumps the bytes,
# so this script asks calibre's own MOBI 6 writer (writer2's Indexer, whose TBS code was
# written against KindleGen's books) what it would write for the index calibre reads back.
MOBI6_TBS_JUDGE = """
import sys
from calibre.ebooks.mobi.debug.headers import MOBIFile as Container
from calibre.ebooks.mobi.debug.mobi6 import MOBIFile
from calibre.ebooks.mobi.writer2.indexer import IndexEntry, Indexer

with open(sys.argv[-1], "rb") as stream:
    book = MOBIFile(Container(stream))
indexer = Indexer.__new__(Indexer)
indexer.is_periodical = False
indexer.number_of_text_records = len(book.text_records)
indexer.indices = []
for number, found in enumerate(book.index_record.indices):
    entry = IndexEntry(found.offset, 0)
    entry.length, entry.index = found.size, number
    indexer.indices.append(entry)
indexer.calculate_trailing_byte_sequences()
for number, record in enumerate(book.text_records, start=1):
    if record.trailing_data.get("indexing", b"") != indexer.get_trailing_byte_sequence(number):
        print("MOBI 6 TBS mismatch for record", number)
print("checked", len(book.text_records), "records")
"""

PARAGRAPH = "Lorem ipsum dolor sit amet, consectetur adipiscing elit, sed do eiusmod. " * 4


def _paragraphs(count: int) -> str:
    return "\n\n".join([PARAGRAPH] * count)


def _tbs_books(root: Path) -> None:
    """Books whose index touches text records every way: headings four levels deep, many
    chapters in one record, and one chapter over many records."""
    maker = ProjectMaker(root)
    levels = {}
    for c in range(1, 5):
        body = f"# Chapter {c}\n\n{_paragraphs(c % 3)}\n\n"
        for s in range(1, 4):
            body += f"## Section {c}.{s}\n\n{_paragraphs((c + s) % 4)}\n\n"
            for t in range(1, 3):
                body += f"### Part {c}.{s}.{t}\n\n{_paragraphs((c * s + t) % 5)}\n\n"
                body += f"#### Note {c}.{s}.{t}\n\n{_paragraphs(1)}\n\n"
        levels[f"{c:02d}.md"] = body
    maker.book("levels", levels, title="Levels")
    short = {f"{c:02d}.md": f"# C{c}\n\nShort.\n" for c in range(1, 60)}
    short["07.md"] += "\n## S7\n\nTiny.\n\n### T7\n\nx.\n"
    maker.book("short", short, title="Short")
    long = {
        "01.md": f"# Long\n\n{_paragraphs(200)}\n\n## Late section\n\n{_paragraphs(2)}\n",
        "02.md": "# End\n\nEnd.\n",
    }
    maker.book("long", long, title="Long")


@pytest.fixture(scope="module")
def inspected(
    ours: dict[str, Built],
    shipped: dict[str, dict[str, Path]],
    tmp_path_factory: pytest.TempPathFactory,
) -> dict[str, tuple[str, str]]:
    """calibre's inspector (and, for .mobi, the MOBI 6 judge) on every Kindle file we ship
    or test: by file name, (inspector output and its TBS reports, judge output)."""
    out = tmp_path_factory.mktemp("tbs")
    _tbs_books(out / "project")
    written = api.build(out / "project", ["levels", "short", "long"], list(FORMATS), out)
    files = [path for path in written if path.suffix[1:] in FORMATS]  # not the thumbnails
    files += [shipped[fmt][name] for fmt in FORMATS for name in shipped[fmt]]
    files += [ours[TOUR].files[fmt] for fmt in FORMATS]
    judge = out / "mobi6_tbs.py"
    judge.write_text(MOBI6_TBS_JUDGE, encoding="utf-8")
    commands = {}
    for path in files:
        commands[path.name, "inspect"] = ["calibre-debug", "--inspect-mobi", str(path)]
        if path.suffix == ".mobi":
            commands[path.name, "judge"] = ["calibre-debug", "-e", str(judge), str(path)]
    runs = run_calibre(commands, out / "inspected")
    results = {}
    for path in files:
        inspector = runs[path.name, "inspect"]
        reports = [p.read_text(errors="replace") for p in inspector.folder.rglob("tbs.txt")]
        judge_run = runs.get((path.name, "judge"))
        results[path.name] = (
            "\n".join([inspector.stdout, *reports]),
            judge_run.stdout if judge_run else "",
        )
    return results


def test_calibre_finds_no_tbs_mismatch(inspected: dict[str, tuple[str, str]]) -> None:
    """Old Kindles step by chapter with the TBS of each text record: calibre must compute
    the same sequences from the index as we wrote, in both halves of every file."""
    assert len(inspected) == 2 * 3 + 2 * 2 + 2  # three test books, two shipped, the tour
    for name, (inspector, judge) in inspected.items():
        assert "mismatch" not in inspector, name
        assert "Sequence #0" in inspector, name  # the KF8 report was written and not empty
        if name.endswith(".mobi"):
            assert "mismatch" not in judge and "checked" in judge, (name, judge)
