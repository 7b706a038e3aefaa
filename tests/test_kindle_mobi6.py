"""The MOBI 6 text: Mobipocket markup, filepos links, the guide, the inline TOC, the NCX."""

from __future__ import annotations

import re
from itertools import pairwise
from pathlib import Path

import pytest

from ebook_builder import api
from ebook_builder.formats.kindle import exth
from ebook_builder.formats.kindle.indexes import TocEntry
from ebook_builder.formats.kindle.mobi6 import (
    TOC_TITLE,
    build_section,
    build_text,
)
from ebook_builder.formats.kindle.resources import collect
from ebook_builder.formats.kindle.tbs import book_sequences
from ebook_builder.model import ConvertedBook
from tests.kindle_decode import read_exth, read_index, read_varint, trailing_entries

FILEPOS = re.compile(rb"filepos=(\d{10})")


@pytest.fixture(scope="module")
def tour(fixture_project: Path) -> ConvertedBook:
    return api.check(fixture_project, ["feature-tour"])[0]


@pytest.fixture(scope="module")
def text(tour: ConvertedBook) -> bytes:
    return build_text(tour, collect(tour).by_href)[0]


def _after(text: bytes, anchor_text: bytes) -> int:
    """The filepos of the link whose text is `anchor_text`."""
    match = re.search(rb"<a filepos=(\d{10})>" + re.escape(anchor_text) + rb"</a>", text)
    assert match is not None, anchor_text
    return int(match.group(1))


def test_mobipocket_markup(tour: ConvertedBook, text: bytes) -> None:
    assert text.startswith(b"<html><head><guide>")
    assert text.endswith(b"</body></html>")
    # Before each of the three chapters, after each front matter page, before each back.
    assert text.count(b"<mbp:pagebreak/>") == 3 + len(tour.matter)
    for absent in (b"<section", b"<span", b"<aside", b"<figure", b"epub:type", b" id=", b"<em"):
        assert absent not in text
    assert b'<img recindex="00002" alt="A circle drawn in dark ink on a pale background"/>' in text
    assert b'<div align="center">' in text
    assert b'<a href="https://example.org/">' in text
    text.decode("utf-8")  # one UTF-8 stream


def test_every_filepos_is_the_start_of_a_tag(text: bytes) -> None:
    positions = [int(m.group(1)) for m in FILEPOS.finditer(text)]
    assert len(positions) > 10
    for position in positions:
        assert text[position : position + 1] == b"<", text[position : position + 30]


def test_guide(text: bytes) -> None:
    toc, start = (int(m.group(1)) for m in FILEPOS.finditer(text[: text.index(b"</guide>")]))
    assert text[toc:].startswith(b"<h2>" + TOC_TITLE.encode() + b"</h2>")
    assert text[start:].startswith(b"<div>\n<h1>Opening</h1>")


def test_links_land_on_their_targets(text: bytes) -> None:
    assert text[_after(text, b"to a chapter file") :].startswith(b"<div>\n<h1>The Middle Part")
    deeper = _after(text, b"to a section in another file")
    assert text[deeper:].startswith(b"<div>\n<h3>A Deeper Section")
    note = _after(text, b"<sup>1</sup>")
    back = re.match(rb"<div><p><a filepos=(\d{10})>1\.</a> The first note", text[note:])
    assert back is not None  # the note opens with its number, a link back
    assert text[int(back.group(1)) :].startswith(b"<a filepos=")  # to the note reference


def test_inline_table_of_contents(tour: ConvertedBook, text: bytes) -> None:
    _, toc, start = build_text(tour, collect(tour).by_href)
    assert [n.title for n in toc] == ["Opening", "The Middle Part", "Contact Us"]
    assert [c.title for c in toc[1].children] == ["Conclusion"]
    assert [c.title for c in toc[1].children[0].children] == ["A Deeper Section"]
    assert toc[0].position.offset == start
    contents = text.index(b"<h2>" + TOC_TITLE.encode())
    section = text[contents : text.index(b"<mbp:pagebreak/>", contents)]
    assert section.count(b"<blockquote><blockquote><p><a filepos=") == 1  # level 3 indented


def test_section_records(tour: ConvertedBook) -> None:
    resources = collect(tour)
    section = build_section(tour, resources, exth.book_ids("id"))
    records = section.records
    header = records[0]
    assert header[16:20] == b"MOBI" and int.from_bytes(header[0x24:0x28], "big") == 6
    ncx = int.from_bytes(header[0xF4:0xF8], "big")
    entries, strings = read_index(records, ncx)
    # Flat, in reading order: "next chapter" on an old Kindle steps through every heading.
    assert [strings[e.values[3][0]] for e in entries] == [
        "Opening",
        "Conclusion",
        "The Middle Part",
        "Conclusion",
        "A Deeper Section",
        "Contact Us",
    ]
    assert all(set(e.values) == {1, 2, 3, 4} and e.values[4] == [0] for e in entries)
    positions = [e.values[1][0] for e in entries]
    assert positions == sorted(positions)
    assert all(e.values[1][0] + e.values[2][0] == f.values[1][0] for e, f in pairwise(entries))
    first_image = int.from_bytes(header[0x6C:0x70], "big")
    assert records[first_image] == tour.book.cover.data
    assert records[-2] == b"FLIS" + records[-2][4:] and records[-1][:4] == b"FCIS"
    exth_start = 16 + int.from_bytes(header[0x14:0x18], "big")
    found = dict(read_exth(header[exth_start:]))
    assert int.from_bytes(found[exth.KF8_HEADER], "big") == len(records) + 1


def _entry(position: int, length: int) -> TocEntry:
    return TocEntry("x", 0, position, length, None, None, None)


# Each expected TBS entry below is: the sequence (first byte: index << 3 | flags, the high
# bit ending the variable-width integer), then the entry's size as one backward byte.


def test_tbs_where_entries_start_end_and_lie_inside() -> None:
    entries = [_entry(100, 200), _entry(300, 9000), _entry(9300, 500)]
    first, second, third = book_sequences(entries, 3 * 4096)
    # Record 0: entry 0 lies inside it, entry 1 starts in it: first entry 0, two touching.
    assert first == bytes([0b110 | 0x80, 0x80, 2]) + bytes([0x84])
    # Record 1 (4096–8191): entry 1 runs through it.
    assert second == bytes([1 << 3 | 0b011 | 0x80, 0x80, 0x80, 0x84])
    # Record 2: entry 1 ends, entry 2 lies inside: two touching, from entry 1.
    assert third == bytes([1 << 3 | 0b110 | 0x80, 0x80, 2, 0x84])


def test_tbs_for_a_single_start_and_an_empty_record() -> None:
    first, second = book_sequences([_entry(4000, 50)], 2 * 4096)
    assert first == bytes([0b110 | 0x80, 0x80, 1, 0x84])  # wholly inside: "complete"
    assert second == b"\x81"  # nothing: just the size byte
    (only,) = book_sequences([_entry(10, 5000)], 4096)
    assert only == bytes([0b010 | 0x80, 0x80, 0x83])


def test_tbs_for_many_short_chapters_in_one_record() -> None:
    entries = [_entry(50 + 100 * n, 100) for n in range(12)] + [_entry(1250, 7000)]
    first, second, third = book_sequences(entries, 3 * 4096)
    assert first == bytes([0b110 | 0x80, 0x80, 13, 0x84])  # from entry 0, 13 touching
    assert second == bytes([12 << 3 | 0b011 | 0x80, 0x80, 0x80, 0x84])  # entry 12 spans
    assert third == bytes([12 << 3 | 0b010 | 0x80, 0x80, 0x83])  # entry 12 ends


def test_tbs_for_one_chapter_over_many_records() -> None:
    sequences = book_sequences([_entry(0, 5 * 4096)], 6 * 4096)
    starts = bytes([0b010 | 0x80, 0x80, 0x83])  # begins at the record's first byte
    spans = bytes([0b011 | 0x80, 0x80, 0x80, 0x84])
    ends = starts  # ends at the record's last byte: "ends", the same bytes as "starts"
    assert sequences == [starts, spans, spans, spans, ends, b"\x81"]


def test_every_text_record_carries_the_tbs_of_the_index(tour: ConvertedBook) -> None:
    """Decoded from the section's bytes: the header announces TBS, and each record's
    sequence names the first index entry that touches it."""
    records = build_section(tour, collect(tour), exth.book_ids("id")).records
    header = records[0]
    flags = int.from_bytes(header[0xF0:0xF4], "big")
    assert flags == 0b11  # multibyte and TBS entries
    entries, _ = read_index(records, int.from_bytes(header[0xF4:0xF8], "big"))
    spans = [(e.values[1][0], e.values[1][0] + e.values[2][0]) for e in entries]
    count = int.from_bytes(header[8:10], "big")
    for number, record in enumerate(records[1 : 1 + count]):
        start, end = number * 4096, (number + 1) * 4096
        touching = [n for n, (a, b) in enumerate(spans) if a < end and b > start]
        tbs = trailing_entries(record, flags)[1][1]
        if not touching:
            assert tbs == b""
            continue
        word, used = read_varint(tbs, 0)
        assert word >> 3 == touching[0]
        kind = word & 0b111
        if len(touching) == 1 and spans[touching[0]][0] < start and spans[touching[0]][1] > end:
            assert (kind, tbs[used:]) == (0b011, b"\x80\x80")
        elif kind == 0b110:
            assert tbs[used:] == bytes([0x80, len(touching)])
        else:
            assert (kind, tbs[used:], len(touching)) == (0b010, b"\x80", 1)
