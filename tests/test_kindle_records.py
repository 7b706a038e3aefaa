"""Text records, trailing entries, variable-width integers and the fixed records."""

from __future__ import annotations

import struct

import pytest

from ebook_builder.formats.kindle.palmdoc import decompress
from ebook_builder.formats.kindle.records import (
    EOF_RECORD,
    FLIS,
    RECORD_SIZE,
    backward_varint,
    fcis,
    fdst,
    forward_varint,
    multibyte_overlap,
    text_records,
    trailing_entry,
)
from tests.kindle_decode import strip_trailing, trailing_entries


@pytest.mark.parametrize(
    ("value", "forward", "backward"),
    [
        (0, b"\x80", b"\x80"),
        (0x7F, b"\xff", b"\xff"),
        (0x80, b"\x01\x80", b"\x81\x00"),
        (0x3FFF, b"\x7f\xff", b"\xff\x7f"),
        (0x4000, b"\x01\x00\x80", b"\x81\x00\x00"),
    ],
)
def test_variable_width_integers(value: int, forward: bytes, backward: bytes) -> None:
    assert forward_varint(value) == forward
    assert backward_varint(value) == backward


def test_multibyte_overlap_finishes_a_cut_character() -> None:
    text = b"ab" + "—".encode()  # the dash is E2 80 94
    assert multibyte_overlap(text, 3) == b"\x80\x94"
    assert multibyte_overlap(text, 4) == b"\x94"
    assert multibyte_overlap(text, 2) == b""
    assert multibyte_overlap(text, 5) == b""


def test_text_is_cut_every_4096_bytes_even_inside_a_character() -> None:
    text = b"a" * (RECORD_SIZE - 1) + "—".encode() + b"b" * 10
    records = text_records(text)
    assert len(records) == 2
    first = records[0]
    # Trailing entry: the two bytes that finish the dash, then their count.
    assert first.endswith(b"\x80\x94\x02")
    assert decompress(strip_trailing(first, 1)) == text[:RECORD_SIZE]
    assert records[1].endswith(b"\x00")  # the count byte is always there
    joined = b"".join(decompress(strip_trailing(r, 1)) for r in records)
    assert joined == text


def test_trailing_entry_ends_with_its_own_size() -> None:
    assert trailing_entry(b"") == b"\x81"
    assert trailing_entry(b"\x82\x88") == b"\x82\x88\x83"
    # 127 bytes of data: with one size byte the entry would be 128, which needs two.
    long = trailing_entry(b"x" * 127)
    assert len(long) == 129 and long[-2:] == backward_varint(129)


def test_tbs_entries_follow_the_multibyte_entry() -> None:
    text = b"a" * (RECORD_SIZE - 1) + "—".encode() + b"b" * 900
    tbs = [trailing_entry(b"\x81"), trailing_entry(b"\x82\x88")]
    records = text_records(text, trailing=tbs)
    assert records[0].endswith(b"\x80\x94\x02\x81\x82")  # overlap, count, TBS, size
    body, entries = trailing_entries(records[0], 0b11)
    assert entries == {1: b"\x81", 0: b"\x80\x94"}
    assert decompress(body) == text[:RECORD_SIZE]
    assert trailing_entries(records[1], 0b11)[1] == {1: b"\x82\x88", 0: b""}
    assert [decompress(strip_trailing(r, 0b11)) for r in records] == [
        text[:RECORD_SIZE],
        text[RECORD_SIZE:],
    ]


def test_uncompressed_records() -> None:
    assert text_records(b"plain", compressed=False) == [b"plain\x00"]


def test_fixed_records() -> None:
    assert len(FLIS) == 36 and FLIS.startswith(b"FLIS\0\0\0\x08\0\x41")
    assert bytes([0xE9, 0x8E, 0x0D, 0x0A]) == EOF_RECORD
    short = fcis(1234)
    assert short[:4] == b"FCIS" and struct.unpack_from(">I", short, 20)[0] == 1234
    assert len(short) == 44
    kf8 = fcis(1234, kf8=True)
    assert struct.unpack_from(">II", kf8, 12) == (2, 0)
    assert struct.unpack_from(">I", kf8, 20)[0] == 1234


def test_fdst_lists_the_flows() -> None:
    record = fdst([(0, 100), (100, 150)])
    assert record == b"FDST" + struct.pack(">IIIIII", 12, 2, 0, 100, 100, 150)
