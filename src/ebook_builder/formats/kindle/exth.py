"""The EXTH header: the book's metadata, inside record 0 right after the MOBI header.

Layout (MobileRead wiki, "MOBI" › "EXTH Header"): the ASCII bytes "EXTH", the header length
(4 bytes, counting the 12 header bytes and the records but not the padding), the record
count (4), then records of type (4), length (4, counting these 8 bytes) and data; the whole
is padded with NULs to a multiple of four.

The record types we write, and why a reader wants each:

| type | what | who reads it |
| ---- | ---- | ------------ |
| 100 | author, one record per creator | library view, calibre |
| 101, 103, 105, 106 | publisher, description, subject (one each), date | calibre, Kindle details |
| 104 | ISBN: the Kindle edition's, else the identifier's if `urn:isbn:` | stores, calibre |
| 108 | contributor, one record each (the name: EXTH has no role) | KindleUnpack, calibre (1) |
| 109 | rights | calibre, KindleUnpack |
| 113, 504 | ASIN | Kindles name the cover thumbnail after it |
| 501 | cdetype `EBOK` | Kindles file the book under Books and show its cover |
| 503 | the full title | Kindles show it instead of the 31-byte PDB name |
| 524 | language (BCP 47) | dictionary and hyphenation choice |
| 525 | `horizontal-lr` | KF8 renderers' writing mode |
| 129 | the cover as a `kindle:embed:` URI (KF8 header only) | KF8 readers' cover |
| 201, 202, 203 | cover and thumbnail (places among the images); "fake cover" 0 | library |
| 116 | where reading starts (a text position) | "Go to › Beginning" |
| 121 | record number of the KF8 header, in the MOBI 6 header of a combined file | KF8 readers |
| 125 | how many resource records follow | KF8 readers |
| 204–207 | the software that built the file, as a version | Kindle firmware (see `CREATOR`) |

(1) calibre shows the last contributor record as the "book producer".

What EXTH cannot carry: a series (no record type for it is known, on the MobileRead wiki's
list or in calibre's and KindleUnpack's readers; Kindles take a book's series from Amazon's
catalogue), a contributor's role, and sort names (calibre derives the sort name from an
author record written "Last, First", which would also be the name shown).
"""

from __future__ import annotations

import base64
import hashlib
import struct
from dataclasses import dataclass

from ebook_builder.model import Metadata

AUTHOR = 100
PUBLISHER = 101
DESCRIPTION = 103
ISBN = 104
CONTRIBUTOR = 108
RIGHTS = 109
SUBJECT = 105
PUBLISHED = 106
START_READING = 116
ASIN = 113
KF8_HEADER = 121
RESOURCE_COUNT = 125
COVER_URI = 129
COVER_OFFSET = 201
THUMB_OFFSET = 202
FAKE_COVER = 203
CDE_TYPE = 501
UPDATED_TITLE = 503
CDE_CONTENT_KEY = 504
LANGUAGE = 524
WRITING_MODE = 525

# Records 204–207: creator software, major, minor, build. Kindle firmware reads them as the
# version of the tool that made the file; we state the KindleGen 2.9 (Linux) values, the
# newest layout whose features (KF8 alongside MOBI 6) this writer follows — as calibre does.
CREATOR = ((204, 201), (205, 2), (206, 9), (207, 0))


@dataclass(frozen=True)
class BookIds:
    """Numbers derived from the book's identifier: the ASIN and the MOBI unique id."""

    asin: str
    unique_id: int


def book_ids(identifier: str) -> BookIds:
    """An ASIN-style id and a MOBI unique id, both derived from the book's identifier.

    The ASIN is 10 upper-case letters and digits, like Amazon's; it starts with "EB" so that
    it never equals a store ASIN (those start with "B0" or are ISBN-10s), which would make a
    Kindle fetch another book's cover. The same identifier always gives the same ids.
    """
    digest = hashlib.sha256(identifier.encode("utf-8")).digest()
    asin = "EB" + base64.b32encode(digest).decode("ascii")[:8]
    return BookIds(asin, int.from_bytes(digest[:4], "big"))


def exth_block(records: list[tuple[int, bytes]]) -> bytes:
    """Serialise EXTH records (type, data) into the padded EXTH block."""
    body = b"".join(struct.pack(">II", kind, len(data) + 8) + data for kind, data in records)
    count = len(records)
    length = 12 + len(body)
    padding = b"\0" * (-length % 4)
    return b"EXTH" + struct.pack(">II", length, count) + body + padding


def number(value: int) -> bytes:
    """A 4-byte big-endian number, the form of every numeric EXTH record."""
    return struct.pack(">I", value)


def metadata_records(meta: Metadata, ids: BookIds) -> list[tuple[int, bytes]]:
    """The descriptive records, in the order KindleGen writes them."""
    records: list[tuple[int, bytes]] = [(AUTHOR, c.encode()) for c in meta.creator_names]
    if meta.publisher:
        records.append((PUBLISHER, meta.publisher.encode()))
    if meta.description:
        records.append((DESCRIPTION, meta.description.encode()))
    isbn = meta.isbn.kindle or _isbn(meta.identifier)
    if isbn:
        records.append((ISBN, isbn.encode()))
    records += [(SUBJECT, s.encode()) for s in meta.subjects]
    if meta.date:
        records.append((PUBLISHED, meta.date.encode()))
    records += [(CONTRIBUTOR, c.name.encode()) for c in meta.contributors]
    if meta.rights:
        records.append((RIGHTS, meta.rights.encode()))
    records += [
        (ASIN, ids.asin.encode()),
        (CDE_TYPE, b"EBOK"),
        (UPDATED_TITLE, meta.title.encode()),
        (CDE_CONTENT_KEY, ids.asin.encode()),
        (LANGUAGE, meta.language.encode()),
        (WRITING_MODE, b"horizontal-lr"),
    ]
    records += [(kind, number(value)) for kind, value in CREATOR]
    return records


def resource_records(
    cover: int | None, thumbnail: int | None, resource_count: int
) -> list[tuple[int, bytes]]:
    """Where the cover and thumbnail are among the images, and how many resources follow."""
    records = []
    if cover is not None:
        records += [(COVER_OFFSET, number(cover)), (FAKE_COVER, number(0))]
    if thumbnail is not None:
        records.append((THUMB_OFFSET, number(thumbnail)))
    records.append((RESOURCE_COUNT, number(resource_count)))
    return records


def _isbn(identifier: str) -> str | None:
    lowered = identifier.lower()
    if lowered.startswith("urn:isbn:"):
        return identifier[9:].replace("-", "")
    return None
