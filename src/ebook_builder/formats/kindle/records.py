"""Text records, their trailing entries, and the small fixed records of a MOBI/KF8 book.

From the MobileRead wiki, "MOBI":

- The text is cut into records of exactly 4096 uncompressed bytes (the last may be shorter),
  each compressed on its own. A reader finds byte `n` of the book in record `n // 4096`, so
  the cut is at a byte count, even in the middle of a UTF-8 character.
- "Trailing entries" follow the compressed bytes of each text record. Bit 0 of the MOBI
  header's extra-data flags announces the multibyte entry: the bytes that complete a
  character cut at the end of the record, then one byte whose low two bits count them.
  Readers strip `(last byte & 3) + 1` bytes, so every record carries the count byte,
  even when it is 0. Bit 1 announces TBS index data (`tbs.py`), whose size is written
  at its end as a backward variable-width integer (`trailing_entry`).
- FLIS, FCIS and the end-of-file record have fixed contents that readers check for but do
  not use; FDST lists where each flow (XHTML, CSS…) of a KF8 book starts and ends;
  BOUNDARY separates the MOBI 6 and the KF8 halves of a combined file.
"""

from __future__ import annotations

import struct
from collections.abc import Iterable

from ebook_builder.formats.kindle.palmdoc import compress

RECORD_SIZE = 4096
EOF_RECORD = b"\xe9\x8e\r\n"
BOUNDARY = b"BOUNDARY"
NULL = 0xFFFFFFFF

# FLIS: fixed contents (wiki: "FLIS Record").
FLIS = b"FLIS" + struct.pack(">IHHIIHHIII", 8, 65, 0, 0, NULL, 1, 3, 3, 1, NULL)


def forward_varint(value: int) -> bytes:
    """A variable-width integer read from its first byte on: 7 bits per byte, most
    significant first, the high bit set on the last byte (used inside index entries)."""
    if value < 0:
        raise ValueError(f"cannot encode {value}")
    out = bytearray([0x80 | (value & 0x7F)])
    value >>= 7
    while value:
        out.insert(0, value & 0x7F)
        value >>= 7
    return bytes(out)


def backward_varint(value: int) -> bytes:
    """A variable-width integer read from its last byte backwards: the high bit marks the
    first byte (used for the size at the end of a trailing entry)."""
    if value < 0:
        raise ValueError(f"cannot encode {value}")
    out = bytearray([value & 0x7F])
    value >>= 7
    while value:
        out.insert(0, value & 0x7F)
        value >>= 7
    out[0] |= 0x80
    return bytes(out)


def trailing_entry(data: bytes) -> bytes:
    """`data` as a trailing entry: followed by the entry's whole size, itself included,
    as a backward variable-width integer (the last bytes a reader looks at)."""
    width = 1
    while len(backward_varint(len(data) + width)) != width:
        width += 1
    return data + backward_varint(len(data) + width)


def multibyte_overlap(text: bytes, end: int) -> bytes:
    """The bytes after `end` that finish a UTF-8 character begun before `end`."""
    tail = 0
    while tail < 3 and end + tail < len(text) and (text[end + tail] & 0xC0) == 0x80:
        tail += 1
    return text[end : end + tail]


def text_records(
    text: bytes, trailing: Iterable[bytes] | None = None, compressed: bool = True
) -> list[bytes]:
    """The text cut into 4096-byte records, compressed, each with its trailing entries.

    `trailing` gives one TBS entry per record (already a `trailing_entry`), for a header
    that sets extra-data flag bit 1. Readers strip trailing entries from the highest flag
    bit down, starting at the record's end, so the TBS entry (bit 1) comes last, after
    the multibyte entry (bit 0).
    """
    extra = iter(trailing) if trailing is not None else None
    records = []
    for start in range(0, len(text), RECORD_SIZE):
        end = min(start + RECORD_SIZE, len(text))
        body = compress(text[start:end]) if compressed else text[start:end]
        overlap = multibyte_overlap(text, end)
        record = body + overlap + bytes([len(overlap)])
        if extra is not None:
            record += next(extra)
        records.append(record)
    return records


def fcis(text_length: int, kf8: bool = False) -> bytes:
    """FCIS: fixed contents around the text length (wiki: "FCIS Record").

    KindleGen's KF8 halves count two entries where the MOBI 6 layout has one.
    """
    if not kf8:
        return b"FCIS" + struct.pack(">IIIIIIIIHHI", 20, 16, 1, 0, text_length, 0, 32, 8, 1, 1, 0)
    return b"FCIS" + struct.pack(
        ">IIIIIIIIIIHHI", 20, 16, 2, 0, text_length, 0, 40, 0, 40, 8, 1, 1, 0
    )


def fdst(flows: list[tuple[int, int]]) -> bytes:
    """FDST: the start and end of each flow within the text (XHTML first, then CSS)."""
    table = b"".join(struct.pack(">II", start, end) for start, end in flows)
    return b"FDST" + struct.pack(">II", 12, len(flows)) + table
