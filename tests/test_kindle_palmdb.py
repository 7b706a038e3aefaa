"""The Palm database container: header fields, record list, the name field."""

from __future__ import annotations

import struct

import pytest

from ebook_builder.formats.kindle.palmdb import (
    GAP,
    HEADER_SIZE,
    build,
    database_name,
)
from tests.kindle_decode import read_records


def test_header_layout() -> None:
    records = [b"zero", b"one!!", b"2"]
    data = build("A Book", records, timestamp=1_500_000_000)
    name, attributes, version, created, modified = struct.unpack_from(">32sHHII", data, 0)
    assert name == b"A_Book".ljust(32, b"\0")
    assert (attributes, version) == (0, 0)
    assert created == modified == 1_500_000_000
    assert data[60:68] == b"BOOKMOBI"
    seed, next_list, count = struct.unpack_from(">IIH", data, 68)
    assert (seed, next_list, count) == (5, 0, 3)
    assert HEADER_SIZE == 78


def test_record_list_points_at_each_record() -> None:
    records = [b"zero", b"one!!", b"2"]
    data = build("A Book", records, timestamp=0)
    first = HEADER_SIZE + 8 * len(records) + len(GAP)
    expected = [first, first + 4, first + 9]
    for number, offset in enumerate(expected):
        start, attributes_and_id = struct.unpack_from(">II", data, HEADER_SIZE + 8 * number)
        assert start == offset
        assert attributes_and_id == 2 * number  # attributes 0, unique id 2n
    assert data[first - 2 : first] == b"\0\0"
    assert read_records(data) == records


@pytest.mark.parametrize(
    ("title", "expected"),
    [
        ("The Russian Revolution of 1917", b"The_Russian_Revolution_of_1917"),
        ("Ça, c’est « la » vie", b"Ca_cest_la_vie"),
        ("Никто", b"book"),
        ("x" * 40, b"x" * 31),
    ],
)
def test_database_name_is_short_ascii(title: str, expected: bytes) -> None:
    field = database_name(title)
    assert len(field) == 32
    assert field.rstrip(b"\0") == expected
    assert field[31] == 0  # always NUL-terminated


def test_too_many_records() -> None:
    with pytest.raises(ValueError):
        build("x", [b""] * 0x10000, timestamp=0)
