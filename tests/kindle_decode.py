"""Readers of the Kindle structures our writers make, for the byte-layout tests.

They decode records, EXTH blocks and INDX indexes the way a Kindle reader does (TAGX,
control bytes, IDXT offsets), so a test can check what the writer wrote without trusting
the writer's own idea of the layout. calibre and KindleUnpack read the whole files in
test_kindle_readers.py.
"""

from __future__ import annotations

import struct

from ebook_builder.formats.kindle.indexes import CNCX_RECORD_LIMIT, Entry
from ebook_builder.formats.kindle.palmdb import ENTRY_SIZE, HEADER_SIZE


def read_records(data: bytes) -> list[bytes]:
    """Split a PDB file back into its records."""
    (count,) = struct.unpack_from(">H", data, 76)
    offsets = [
        struct.unpack_from(">I", data, HEADER_SIZE + ENTRY_SIZE * i)[0] for i in range(count)
    ]
    offsets.append(len(data))
    return [data[offsets[i] : offsets[i + 1]] for i in range(count)]


def trailing_entries(record: bytes, flags: int) -> tuple[bytes, dict[int, bytes]]:
    """A text record's compressed text and its trailing entries by extra-data flag bit,
    stripped as a reader does: from the highest bit down, each from the record's end, its
    size a backward variable-width integer in its last bytes; bit 0's entry (the multibyte
    bytes) last, its size in the low two bits of its final byte. The entries are returned
    without their size bytes."""
    entries: dict[int, bytes] = {}
    for bit in range(15, 0, -1):
        if flags & (1 << bit):
            size = 0
            width = 0
            for byte in reversed(record[-4:]):
                size |= (byte & 0x7F) << (7 * width)
                width += 1
                if byte & 0x80:
                    break
            entries[bit] = record[-size:-width]
            record = record[:-size]
    if flags & 1:
        count = record[-1] & 3
        entries[0] = record[-1 - count : -1]
        record = record[: -count - 1]
    return record, entries


def strip_trailing(record: bytes, flags: int) -> bytes:
    """A text record without its trailing entries, as a reader sees it."""
    return trailing_entries(record, flags)[0]


def read_exth(block: bytes) -> list[tuple[int, bytes]]:
    """The records (type, data) of an EXTH block; the count in its header must agree."""
    if block[:4] != b"EXTH":
        raise ValueError("not an EXTH block")
    length, count = struct.unpack_from(">II", block, 4)
    body = block[12:length]
    records = []
    position = 0
    while position < len(body):
        kind, size = struct.unpack_from(">II", body, position)
        records.append((kind, body[position + 8 : position + size]))
        position += size
    if len(records) != count:
        raise ValueError(f"EXTH says {count} records, holds {len(records)}")
    return records


def read_varint(data: bytes, position: int) -> tuple[int, int]:
    """A forward variable-width integer at `position`: (value, bytes used)."""
    value = 0
    used = 0
    while True:
        byte = data[position + used]
        used += 1
        value = (value << 7) | (byte & 0x7F)
        if byte & 0x80:
            return value, used


def read_index(records: list[bytes], first: int) -> tuple[list[Entry], dict[int, str]]:
    """The entries and CNCX strings of the index whose main record is `records[first]`,
    decoded the way a reader does: TAGX, control bytes, IDXT offsets."""
    main = records[first]
    if main[:4] != b"INDX":
        raise ValueError("not an INDX record")
    (count,) = struct.unpack_from(">I", main, 24)
    (cncx_count,) = struct.unpack_from(">I", main, 52)
    (tagx_start,) = struct.unpack_from(">I", main, 180)
    if main[tagx_start : tagx_start + 4] != b"TAGX":
        raise ValueError("no TAGX block")
    tagx_length, control_count = struct.unpack_from(">II", main, tagx_start + 4)
    rows = [tuple(main[p : p + 4]) for p in range(tagx_start + 12, tagx_start + tagx_length, 4)]
    entries = []
    for record in records[first + 1 : first + 1 + count]:
        idxt, number = struct.unpack_from(">II", record, 20)
        offsets = [struct.unpack_from(">H", record, idxt + 4 + 2 * i)[0] for i in range(number)]
        for position in offsets:
            size = record[position]
            name = record[position + 1 : position + 1 + size]
            cursor = position + 1 + size
            controls = record[cursor : cursor + control_count]
            cursor += control_count
            found: list[tuple[int, int, int]] = []  # tag, groups, values per group
            byte = 0
            for tag, per_entry, mask, end in rows:
                if end:
                    byte += 1
                    continue
                bits = controls[byte] & mask
                if bits:
                    shift = (mask & -mask).bit_length() - 1
                    found.append((tag, bits >> shift, per_entry))
            values: dict[int, list[int]] = {}
            for tag, groups, per_entry in found:
                for _ in range(groups * per_entry):
                    value, used = read_varint(record, cursor)
                    cursor += used
                    values.setdefault(tag, []).append(value)
            entries.append(Entry(name, values))
    strings: dict[int, str] = {}
    for number, record in enumerate(records[first + 1 + count : first + 1 + count + cncx_count]):
        position = 0
        while position < len(record) and record[position]:
            size, used = read_varint(record, position)
            text = record[position + used : position + used + size].decode("utf-8")
            strings[number * CNCX_RECORD_LIMIT + position] = text
            position += used + size
    return entries, strings
