"""KF8 trailing byte sequences: strands of a hierarchical NCX, byte by byte.

The MOBI 6 (flat index) cases are in test_kindle_mobi6.py; calibre's inspector judges both
halves of whole files in test_kindle_readers.py.
"""

from __future__ import annotations

from pathlib import Path

from ebook_builder import api
from ebook_builder.formats.kindle import exth, kf8
from ebook_builder.formats.kindle.indexes import TocEntry
from ebook_builder.formats.kindle.tbs import kf8_sequences
from tests.kindle_decode import trailing_entries


def _entry(
    depth: int, start: int, end: int, parent: int | None = None, children: tuple[int, int] = ()
) -> TocEntry:
    first, last = children or (None, None)
    return TocEntry("x", depth, start, end - start, parent, first, last)


# Byte by byte: the first sequence of a record has 3 flag bits (value << 3 | flags), later
# ones 4 (value << 4 | flags); the high bit ends each variable-width integer. Flags: 0b0010
# type follows, 0b0100 count byte follows, 0b0001 spans (a 0 follows), 0b1000 new strand.
# Each record's entry ends with its size as a backward byte.


def test_chapters_with_sections_in_two_strands() -> None:
    """The feature tour's first records, in KindleGen's index order (depth, then text)."""
    entries = [
        _entry(0, 382, 3037, children=(3, 3)),  # 0: chapter A
        _entry(0, 3037, 4913, children=(4, 4)),  # 1: chapter B
        _entry(0, 4913, 5248),  # 2: chapter C
        _entry(1, 1343, 3037, parent=0),  # 3: A's section
        _entry(1, 3544, 4913, parent=1, children=(5, 5)),  # 4: B's section
        _entry(2, 3830, 4913, parent=4),  # 5: its subsection
    ]
    first, second = kf8_sequences(entries, 5248)
    # Record 0: strand A → A.1 (index 0, type 8; then 3 − 0), strand B → B.1 → B.1.1
    # (2 back from index 3, new strand; then 4 − 1; then 5 − 4).
    assert first == bytes([0b010 | 0x80, 0x88, 0xB0, 2 << 4 | 0b1000 | 0x80, 0xB0, 0x90, 0x87])
    # Record 1: strand B → B.1 → B.1.1 (ending), then C, 3 back from index 5.
    assert second == bytes([1 << 3 | 0b010 | 0x80, 0x88, 0xB0, 0x90, 3 << 4 | 0b1000 | 0x80, 0x86])


def test_many_short_chapters_in_one_record_are_one_sequence() -> None:
    entries = [_entry(0, 100 * n, 100 * (n + 1)) for n in range(5)]
    (only,) = kf8_sequences(entries, 500)
    assert only == bytes([0b110 | 0x80, 0x88, 5, 0x84])  # from entry 0, five of them


def test_a_long_chapter_spans_records_with_its_section() -> None:
    entries = [_entry(0, 0, 10000, children=(1, 1)), _entry(1, 100, 10000, parent=0)]
    first, middle, last = kf8_sequences(entries, 10000)
    assert first == bytes([0b010 | 0x80, 0x88, 1 << 4 | 0x80, 0x84])
    # Both run through record 1: only the deeper one keeps the spans flag (and its 0).
    assert middle == bytes([0b010 | 0x80, 0x88, 1 << 4 | 0b0001 | 0x80, 0x80, 0x85])
    assert last == first


def test_type_5_when_a_strand_would_count_forward() -> None:
    """In reading order (not KindleGen's), chapter B's strand follows index 1 (A's section)
    with index 2: type 8 cannot say that, so the whole book is type 5, distance unsigned."""
    entries = [
        _entry(0, 0, 5000, children=(1, 1)),
        _entry(1, 100, 5000, parent=0),
        _entry(0, 5000, 9000),
    ]
    first, second, third = kf8_sequences(entries, 9000)
    assert first == bytes([0b010 | 0x80, 0x85, 1 << 4 | 0x80, 0x84])
    assert second == bytes([0b010 | 0x80, 0x85, 1 << 4 | 0x80, 1 << 4 | 0x80, 0x85])
    assert third == bytes([2 << 3 | 0b010 | 0x80, 0x85, 0x83])


def test_records_past_the_index_carry_an_empty_entry() -> None:
    assert kf8_sequences([_entry(0, 0, 100)], 5000)[1] == b"\x81"


def test_kf8_records_carry_tbs(fixture_project: Path) -> None:
    tour = api.check(fixture_project, ["feature-tour"])[0]
    section = kf8.build_section(tour, exth.book_ids("id"))
    header = section.records[0]
    flags = int.from_bytes(header[0xF0:0xF4], "big")
    assert flags == 0b11  # multibyte and TBS entries, as KindleGen's KF8 books
    count = int.from_bytes(header[8:10], "big")
    found = [trailing_entries(r, flags)[1][1] for r in section.records[1 : 1 + count]]
    assert found[0][:2] == bytes([0b010 | 0x80, 0x88])  # entry 0, type 8
    # Chapter 1 opens in record 0, after the title page and imprint, and ends in record 1.
    assert found[1][:2] == bytes([0b010 | 0x80, 0x88])
