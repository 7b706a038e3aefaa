"""Record 0: the PalmDOC and MOBI header fields at their documented offsets."""

from __future__ import annotations

import struct

import pytest

from ebook_builder.formats.kindle.headers import (
    MOBI_HEADER_LENGTH,
    MobiHeader,
    language_code,
    record0,
)
from ebook_builder.formats.kindle.records import NULL
from tests.kindle_decode import read_exth


def _u32(data: bytes, offset: int) -> int:
    return struct.unpack_from(">I", data, offset)[0]


def _header(version: int) -> MobiHeader:
    return MobiHeader(
        version=version,
        text_length=123_456,
        text_record_count=31,
        first_non_text=32,
        first_resource=40,
        title="Titre – ébauche",
        language="fr-CA",
        unique_id=0xDEADBEEF,
        exth=[(100, b"Auteur")],
        ncx_index=35,
        fdst_index=44,
        fdst_count=2,
        fragment_index=32,
        skeleton_index=34,
        guide_index=38,
        fcis_index=46,
        flis_index=45,
        last_content=43,
    )


def test_kf8_record0() -> None:
    data = record0(_header(8))
    compression, _, text_length, count, size, encryption = struct.unpack_from(">HHIHHH", data)
    assert (compression, text_length, count, size, encryption) == (2, 123_456, 31, 4096, 0)
    assert data[16:20] == b"MOBI"
    assert _u32(data, 0x14) == MOBI_HEADER_LENGTH == 264
    assert (_u32(data, 0x18), _u32(data, 0x1C)) == (2, 65001)  # book, UTF-8
    assert _u32(data, 0x20) == 0xDEADBEEF
    assert _u32(data, 0x24) == _u32(data, 0x68) == 8
    assert all(_u32(data, o) == NULL for o in range(0x28, 0x50, 4))
    assert _u32(data, 0x50) == 32 and _u32(data, 0x6C) == 40
    assert _u32(data, 0x5C) == 0x0C  # French
    assert _u32(data, 0x80) & 0x40  # EXTH present
    assert struct.unpack_from(">II", data, 0xC0) == (44, 2)  # FDST
    assert struct.unpack_from(">IIII", data, 0xC8) == (46, 1, 45, 1)  # FCIS, FLIS
    assert _u32(data, 0xF0) == 1  # multibyte trailing entries
    assert struct.unpack_from(">5I", data, 0xF4) == (35, 32, 34, NULL, 38)
    exth_start = 16 + MOBI_HEADER_LENGTH
    assert data[exth_start : exth_start + 4] == b"EXTH"
    assert read_exth(data[exth_start:]) == [(100, b"Auteur")]
    title_offset, title_length = struct.unpack_from(">II", data, 0x54)
    title = data[title_offset : title_offset + title_length].decode()
    assert title == "Titre – ébauche"
    assert data[title_offset + title_length : title_offset + title_length + 2] == b"\0\0"
    assert len(data) % 4 == 0


def test_mobi6_record0() -> None:
    data = record0(_header(6))
    assert _u32(data, 0x24) == _u32(data, 0x68) == 6
    assert struct.unpack_from(">HHI", data, 0xC0) == (1, 43, 1)  # first/last content
    assert _u32(data, 0x80) == 0x850
    # MOBI 6 has no skeleton, fragment or guide index.
    assert struct.unpack_from(">5I", data, 0xF4) == (35, NULL, NULL, NULL, NULL)


@pytest.mark.parametrize(
    ("tag", "code"), [("en", 0x09), ("en-US", 0x09), ("RU", 0x19), ("zh-Hant", 0x04), ("x", 0)]
)
def test_language_code(tag: str, code: int) -> None:
    assert language_code(tag) == code
