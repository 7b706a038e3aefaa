"""The Palm Database (PDB) container that holds every MOBI and KF8 book.

A PDB file is a 78-byte header, a table of 8-byte record entries, two bytes of padding and
then the records themselves, back to back (MobileRead wiki, "PDB" › "Palm Database Format").
Everything else in a Kindle book is a record of this container: record 0 carries the MOBI
header, then come the text records, the indexes, the images, and so on.

    offset  size  field
    0       32    database name, NUL-padded; Kindles show it nowhere but need it to be ASCII
    32      2     attributes (0)
    34      2     version (0)
    36      4     creation date, seconds since 1970 (a Palm date with the top bit clear)
    40      4     modification date
    44      4     last backup date (0)
    48      4     modification number (0)
    52      4     app info offset (0: none)
    56      4     sort info offset (0: none)
    60      4     type "BOOK"
    64      4     creator "MOBI": with the type, what makes a reader treat it as a book
    68      4     unique id seed (2 × record count − 1, as KindleGen writes it)
    72      4     next record list id (0: one list)
    76      2     number of records
    78      8×n   per record: offset from the start of the file (4), attributes (1),
                  unique id (3, KindleGen numbers them 0, 2, 4…)
"""

from __future__ import annotations

import re
import struct
import unicodedata

HEADER = struct.Struct(">32sHHIIIIII4s4sIIH")
ENTRY = struct.Struct(">II")
HEADER_SIZE = HEADER.size  # 78
ENTRY_SIZE = ENTRY.size  # 8
GAP = b"\0\0"  # two bytes between the record list and the first record, by tradition


def database_name(title: str) -> bytes:
    """The 32-byte name field: the title in ASCII with underscores for spaces.

    Palm names are at most 31 bytes and NUL-terminated; old Kindles and PalmOS accept only
    ASCII there, so accents are stripped and anything else becomes an underscore.
    """
    ascii_title = unicodedata.normalize("NFKD", title).encode("ascii", "ignore").decode()
    name = re.sub(r"[^A-Za-z0-9._-]+", "_", ascii_title).strip("_")[:31] or "book"
    return name.encode("ascii").ljust(32, b"\0")


def build(title: str, records: list[bytes], timestamp: int) -> bytes:
    """The whole file: the PDB header, the record list and the records.

    `timestamp` (Unix seconds) fills both dates, so that a rebuild gives the same bytes.
    """
    count = len(records)
    if count > 0xFFFF:
        raise ValueError(f"a Palm database holds at most 65535 records, not {count}")
    stamp = max(0, min(timestamp, 0x7FFFFFFF))  # top bit clear: seconds since 1970
    header = HEADER.pack(
        database_name(title),
        0,
        0,
        stamp,
        stamp,
        0,
        0,
        0,
        0,
        b"BOOK",
        b"MOBI",
        max(0, 2 * count - 1),
        0,
        count,
    )
    offset = HEADER_SIZE + ENTRY_SIZE * count + len(GAP)
    entries = []
    for number, record in enumerate(records):
        # Attributes byte 0, then the 3-byte unique id (2 × number) in the low bits.
        entries.append(ENTRY.pack(offset, (2 * number) & 0xFFFFFF))
        offset += len(record)
    return b"".join([header, *entries, GAP, *records])
