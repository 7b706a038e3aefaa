"""INDX indexes: TAGX, entry coding, record layout, CNCX, and the KF8 tables."""

from __future__ import annotations

import struct

import pytest

from ebook_builder.formats.kindle.indexes import (
    CNCX_RECORD_LIMIT,
    HEADER_LENGTH,
    SKELETON_TAGS,
    Entry,
    Fragment,
    Skeleton,
    Strings,
    Tag,
    TocEntry,
    build_index,
    encode_entry,
    fragment_index,
    guide_index,
    ncx_index,
    skeleton_index,
    tagx,
)
from tests.kindle_decode import read_index

TAGS = [Tag(1, 1, 0x03), Tag(6, 2, 0x0C)]


def test_tagx_block() -> None:
    assert tagx(TAGS) == (
        b"TAGX" + struct.pack(">II", 12 + 12, 1) + bytes([1, 1, 3, 0, 6, 2, 12, 0, 0, 0, 0, 1])
    )


def test_entry_coding() -> None:
    raw = encode_entry(Entry(b"SKEL0000000000", {1: [5, 5], 6: [0, 300, 0, 300]}), TAGS)
    name = b"SKEL0000000000"
    # Control byte: tag 1 twice (0b10 under mask 0b11), tag 6 twice (0b10 under 0b1100).
    expected = bytes([len(name)]) + name + bytes([0b1010]) + b"\x85\x85\x80\x02\xac\x80\x02\xac"
    assert raw == expected


def test_entry_values_must_fit_the_mask() -> None:
    with pytest.raises(ValueError):  # three groups would need the "length follows" code
        encode_entry(Entry(b"x", {1: [1, 2, 3]}), TAGS)
    with pytest.raises(ValueError):  # tag 6 takes pairs
        encode_entry(Entry(b"x", {6: [1, 2, 3]}), TAGS)


def test_record_layout() -> None:
    entries = [Entry(f"{n:03d}".encode(), {1: [n]}) for n in range(3)]
    main, data = build_index(entries, TAGS)
    assert main[:4] == data[:4] == b"INDX"
    assert struct.unpack_from(">I", main, 4)[0] == HEADER_LENGTH
    assert struct.unpack_from(">I", main, 16)[0] == 2
    assert struct.unpack_from(">III", main, 24)[0] == 1  # one data record
    assert struct.unpack_from(">I", main, 36)[0] == 3  # entries
    assert struct.unpack_from(">I", main, 180)[0] == HEADER_LENGTH  # TAGX right after header
    assert main[HEADER_LENGTH : HEADER_LENGTH + 4] == b"TAGX"
    # Geometry: the last name of the data record and its entry count, found through IDXT.
    idxt = struct.unpack_from(">I", main, 20)[0]
    assert main[idxt : idxt + 4] == b"IDXT"
    (geometry,) = struct.unpack_from(">H", main, idxt + 4)
    assert main[geometry : geometry + 6] == b"\x03002\x00\x03"
    # The data record: type 1, its own IDXT of entry offsets.
    assert struct.unpack_from(">I", data, 12)[0] == 1
    idxt, count = struct.unpack_from(">II", data, 20)
    assert count == 3
    offsets = struct.unpack_from(">3H", data, idxt + 4)
    assert data[offsets[0] : offsets[0] + 4] == b"\x03000"
    assert all(len(r) % 4 == 0 for r in (main, data))


def test_entries_must_be_sorted_and_distinct() -> None:
    with pytest.raises(ValueError):
        build_index([Entry(b"b"), Entry(b"a")], TAGS)
    with pytest.raises(ValueError):
        build_index([Entry(b"a"), Entry(b"a")], TAGS)


def test_large_index_rolls_over_into_more_records() -> None:
    entries = [Entry(f"{n:010d}".encode(), {6: [n, n]}) for n in range(12_000)]
    records = build_index(entries, TAGS)
    assert len(records) > 2
    assert all(len(r) < 0x10000 for r in records)
    decoded, _ = read_index(records, 0)
    assert decoded == entries


def test_strings() -> None:
    strings = Strings()
    first = strings.add("Chapter One")
    assert first == 0
    assert strings.add("Chapter One") == first  # stored once
    second = strings.add("Два")
    assert second == 1 + len("Chapter One")
    (record,) = strings.build()
    assert record.startswith(b"\x8bChapter One\x86" + "Два".encode())
    assert len(record) % 4 == 0
    assert Strings().build() == []


def test_strings_spill_into_a_second_record() -> None:
    strings = Strings()
    offsets = [strings.add(f"{n:05d}" + "x" * 1000) for n in range(70)]
    assert offsets[-1] >= CNCX_RECORD_LIMIT  # record 1 starts at 0x10000
    assert len(strings.build()) == 2


def test_skeleton_index_round_trip() -> None:
    records = skeleton_index([Skeleton(2, 0, 500), Skeleton(1, 900, 450)])
    entries, strings = read_index(records, 0)
    assert [e.name for e in entries] == [b"SKEL0000000000", b"SKEL0000000001"]
    assert entries[1].values == {1: [1, 1], 6: [900, 450, 900, 450]}
    assert strings == {}
    assert SKELETON_TAGS[0].mask == 3


def test_fragment_index_round_trip() -> None:
    fragments = [
        Fragment(120, "P-//*[@aid='0']", 0, 0, 0, 4000),
        Fragment(4120, "S-//*[@aid='7']", 0, 1, 4000, 300),
    ]
    records = fragment_index(fragments)
    entries, strings = read_index(records, 0)
    assert [e.name for e in entries] == [b"0000000120", b"0000004120"]
    assert entries[1].values == {2: [16], 3: [0], 4: [1], 6: [4000, 300]}
    assert strings == {0: "P-//*[@aid='0']", 16: "S-//*[@aid='7']"}
    main = records[0]
    assert struct.unpack_from(">I", main, 52)[0] == 1  # one CNCX record


def test_ncx_index_round_trip() -> None:
    toc = [
        TocEntry("One", 0, 10, 90, None, 2, 2, (0, 0)),
        TocEntry("Two", 0, 100, 50, None, None, None, (1, 0)),
        TocEntry("One.1", 1, 40, 60, 0, None, None, (0, 30)),
    ]
    entries, strings = read_index(ncx_index(toc), 0)
    assert [e.name for e in entries] == [b"00", b"01", b"02"]
    assert entries[0].values == {1: [10], 2: [90], 3: [0], 4: [0], 22: [2], 23: [2], 6: [0, 0]}
    assert entries[2].values[21] == [0]
    assert [strings[e.values[3][0]] for e in entries] == ["One", "Two", "One.1"]


def test_guide_index_is_sorted_by_type() -> None:
    records = guide_index([("toc", "Contents", (3, 0)), ("text", "Beginning", (1, 5))])
    entries, strings = read_index(records, 0)
    assert [e.name for e in entries] == [b"text", b"toc"]
    assert entries[0].values == {1: [0], 6: [1, 5]}
    assert strings[0] == "Beginning"
