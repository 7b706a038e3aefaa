"""Whole Kindle files read back with our own decoders: record layout, flows, determinism."""

from __future__ import annotations

import io
import re
import struct
from pathlib import Path

import pytest
from PIL import Image

from ebook_builder import api
from ebook_builder.formats.kindle import exth as exth_module
from ebook_builder.formats.kindle import (
    render_azw3,
    render_mobi,
    thumbnail_name,
    write_azw3,
    write_mobi,
    write_thumbnail,
)
from ebook_builder.formats.kindle.palmdoc import decompress
from ebook_builder.formats.kindle.records import BOUNDARY, EOF_RECORD, NULL
from ebook_builder.formats.kindle.resources import thumbnail_jpeg
from ebook_builder.model import ConvertedBook
from ebook_builder.stylesheet import book_fonts, design_css
from tests.helpers import ProjectMaker
from tests.kindle_decode import read_exth, read_index, read_records, strip_trailing


def _u32(record: bytes, offset: int) -> int:
    return struct.unpack_from(">I", record, offset)[0]


def _exth(record0: bytes) -> dict[int, list[bytes]]:
    found: dict[int, list[bytes]] = {}
    for kind, data in read_exth(record0[16 + _u32(record0, 0x14) :]):
        found.setdefault(kind, []).append(data)
    return found


def _text(records: list[bytes], start: int) -> bytes:
    header = records[start]
    count = struct.unpack_from(">H", header, 8)[0]
    flags = _u32(header, 0xF0)
    text = b"".join(
        decompress(strip_trailing(r, flags)) for r in records[start + 1 : start + 1 + count]
    )
    assert len(text) == _u32(header, 4)
    return text


@pytest.fixture(scope="module")
def tour(fixture_project: Path) -> ConvertedBook:
    return api.check(fixture_project, ["feature-tour"])[0]


@pytest.fixture(scope="module")
def azw3(tour: ConvertedBook) -> bytes:
    return render_azw3(tour)


@pytest.fixture(scope="module")
def mobi(tour: ConvertedBook) -> bytes:
    return render_mobi(tour)


def _check_kf8(records: list[bytes], start: int, book: ConvertedBook, own_resources: bool) -> None:
    """Every record the KF8 header at `records[start]` names is what it should be."""
    header = records[start]
    assert header[16:20] == b"MOBI" and _u32(header, 0x24) == 8

    def at(offset: int) -> bytes:
        return records[start + _u32(header, offset)]

    for offset in (0xF4, 0xF8, 0xFC, 0x104):  # NCX, fragments, skeletons, guide
        assert at(offset)[:4] == b"INDX"
    assert at(0xC0)[:4] == b"FDST" and _u32(header, 0xC4) == 2
    assert at(0xC8)[:4] == b"FCIS" and at(0xD0)[:4] == b"FLIS"
    assert records[-1] == EOF_RECORD
    assert _u32(header, 0x100) == NULL  # no DATP

    text = _text(records, start)
    fdst = at(0xC0)
    flows = struct.unpack_from(">4I", fdst, 12)
    css = text[flows[2] : flows[3]].decode()
    # The design's rules, then a rule per font of the face, each a resource record.
    assert css.startswith(design_css(book.book.metadata))
    fonts = book_fonts(book)
    assert css.count("src: url(kindle:embed:") == len(fonts) > 0
    xhtml = text[flows[0] : flows[1]]
    assert xhtml.count(b"<html") == len(book.documents)  # chapters and matter pages

    skeletons, _ = read_index(records, start + _u32(header, 0xFC))
    fragments, selectors = read_index(records, start + _u32(header, 0xF8))
    assert len(skeletons) == len(book.documents)
    assert sum(s.values[1][0] for s in skeletons) == len(fragments)
    assert all(selectors[f.values[2][0]].startswith(("P-", "S-")) for f in fragments)
    ncx, labels = read_index(records, start + _u32(header, 0xF4))
    assert [labels[e.values[3][0]] for e in ncx if e.values[4] == [0]] == [
        "Opening",
        "The Middle Part",
        "Contact Us",
    ]
    guide, _ = read_index(records, start + _u32(header, 0x104))
    assert [g.name for g in guide] == [b"text"]

    meta = _exth(header)
    assert meta[exth_module.CDE_TYPE] == [b"EBOK"]
    assert meta[exth_module.UPDATED_TITLE] == [book.book.metadata.title.encode()]
    if own_resources:
        first = start + _u32(header, 0x6C)
        cover = first + _u32(meta[exth_module.COVER_OFFSET][0], 0)
        assert records[cover] == book.book.cover.data
        thumbnail = records[first + _u32(meta[exth_module.THUMB_OFFSET][0], 0)]
        with Image.open(io.BytesIO(thumbnail)) as picture:
            assert picture.height == 330
        # cover, circle, thumbnail, then the fonts
        assert _u32(meta[exth_module.RESOURCE_COUNT][0], 0) == 3 + len(fonts)
        font_records = records[first + 3 : first + 3 + len(fonts)]
        assert [record[:4] for record in font_records] == [b"FONT"] * len(fonts)


def test_azw3_layout(azw3: bytes, tour: ConvertedBook) -> None:
    assert azw3[60:68] == b"BOOKMOBI"
    records = read_records(azw3)
    _check_kf8(records, 0, tour, own_resources=True)


def test_mobi_layout(mobi: bytes, tour: ConvertedBook) -> None:
    records = read_records(mobi)
    header = records[0]
    assert _u32(header, 0x24) == 6
    kf8 = _u32(_exth(header)[exth_module.KF8_HEADER][0], 0)
    assert records[kf8 - 1] == BOUNDARY
    _check_kf8(records, kf8, tour, own_resources=False)
    # Both halves share the images, which the MOBI 6 half holds.
    first_image = _u32(header, 0x6C)
    assert records[first_image] == tour.book.cover.data
    assert records[first_image + 1] == tour.images[0].source.read_bytes()
    assert _u32(records[kf8], 0x6C) + kf8 > first_image  # KF8's "first resource": past its text
    text = _text(records, 0)
    assert text.startswith(b"<html><head><guide>") and b"<mbp:pagebreak/>" in text
    assert _exth(header)[exth_module.AUTHOR] == [b"Test Author", b"Second Author"]


def test_rebuilds_are_byte_identical(tour: ConvertedBook, azw3: bytes, mobi: bytes) -> None:
    assert render_azw3(tour) == azw3
    assert render_mobi(tour) == mobi


def test_dates_come_from_the_metadata(azw3: bytes, tour: ConvertedBook) -> None:
    created, modified = struct.unpack_from(">II", azw3, 36)
    assert created == modified == int(tour.book.metadata.modified.timestamp())


def test_writers_write_files(tour: ConvertedBook, tmp_path: Path, azw3: bytes) -> None:
    write_azw3(tour, tmp_path / "book.azw3")
    write_mobi(tour, tmp_path / "book.mobi")
    assert (tmp_path / "book.azw3").read_bytes() == azw3
    assert (tmp_path / "book.mobi").read_bytes()[60:68] == b"BOOKMOBI"


def test_thumbnail(tour: ConvertedBook, tmp_path: Path) -> None:
    name = thumbnail_name(tour)
    assert re.fullmatch(r"thumbnail_EB[A-Z2-7]{8}_EBOK_portrait\.jpg", name)
    asin = name.split("_")[1].encode()
    assert asin in render_azw3(tour)  # the id the device matches the thumbnail by
    write_thumbnail(tour, tmp_path / name)
    with (
        Image.open(tmp_path / name) as picture,
        Image.open(io.BytesIO(tour.book.cover.data)) as cover,
    ):
        assert picture.format == "JPEG" and picture.height == 330
        assert abs(picture.width / picture.height - cover.width / cover.height) < 0.01


def test_webp_and_svg_pictures(make_project: ProjectMaker) -> None:
    """WebP becomes PNG (Kindles cannot show WebP), and so does SVG, in both halves (MOBI 6
    cannot draw SVG): every Kindle shows the picture."""
    book_dir = make_project.book(
        "pics", {"01-a.md": "# Pictures\n\n![A red square](sq.webp)\n\n![A circle](c.svg)\n"}
    )
    buffer = io.BytesIO()
    Image.new("RGB", (40, 30), (200, 0, 0)).save(buffer, "WEBP")
    (book_dir / "sq.webp").write_bytes(buffer.getvalue())
    (book_dir / "c.svg").write_text(
        '<?xml version="1.0"?>\n<svg xmlns="http://www.w3.org/2000/svg" width="9" height="9">'
        '<circle cx="4" cy="4" r="3"/></svg>'
    )
    book = api.check(make_project.root, ["pics"])[0]
    records = read_records(render_azw3(book))
    header = records[0]
    text = _text(records, 0)
    assert _u32(header, 0xC4) == 2  # flows: the text and the stylesheet, no SVG
    # Resources: the cover, c.svg and sq.webp (in the order of their names), the thumbnail.
    assert b'src="kindle:embed:0002?mime=image/png"' in text
    assert b'src="kindle:embed:0003?mime=image/png"' in text
    first = _u32(header, 0x6C)
    assert records[first + 1].startswith(b"\x89PNG") and records[first + 2].startswith(b"\x89PNG")
    mobi = read_records(render_mobi(book))
    old = _text(mobi, 0)
    assert b'<img recindex="00002" alt="A circle"/>' in old
    assert b'<img recindex="00003" alt="A red square"/>' in old


def test_thumbnail_of_a_transparent_png_cover_is_white() -> None:
    buffer = io.BytesIO()
    Image.new("RGBA", (200, 300), (0, 0, 0, 0)).save(buffer, "PNG")
    with Image.open(io.BytesIO(thumbnail_jpeg(buffer.getvalue()))) as picture:
        assert picture.size == (220, 330)
        assert min(picture.getpixel((10, 10))) > 245
