"""Kindle writers: KF8 (.azw3), combined MOBI 6 + KF8 (.mobi), and the cover thumbnail.

Stage 4 for Kindles, written from the public descriptions of the formats (MobileRead wiki:
"PDB", "MOBI", "KF8"; the Library of Congress's format description of Kindle Format 8) and
checked against what two independent readers, KindleUnpack and calibre, accept. No
KindleGen, no calibre at build time: a `ConvertedBook` in, a Palm database out, the same
bytes on every build (every date comes from the metadata's `modified`).

- `write_azw3`: a KF8 book, for Kindles from the fourth generation on (firmware 4.1 and
  later), the Kindle Fire and the Kindle apps.
- `write_mobi`: the MOBI 6 text for the first Kindles, a BOUNDARY record, then the same
  KF8 section, as KindleGen made them; newer Kindles read the KF8 half.
- `write_thumbnail` and `thumbnail_name`: the picture a Kindle shows in its library for a
  sideloaded book is `system/thumbnails/thumbnail_<ASIN>_EBOK_portrait.jpg`; copying it
  there beside the book keeps the cover after the device's own lookup fails.

Module map: `palmdb` (container), `palmdoc` (compression), `records` (text records and
fixed records), `headers` (record 0), `exth` (metadata), `indexes` (INDX tables), `tbs` (the
trailing byte sequences that tie text records to the NCX index),
`text` (the KF8 text layer), `navigation` (the table of contents), `resources` (images),
`kf8` and `mobi6` (the two halves).
"""

from __future__ import annotations

from pathlib import Path

from ebook_builder.formats.kindle import exth, kf8, mobi6, palmdb, records
from ebook_builder.formats.kindle.resources import collect, thumbnail_jpeg
from ebook_builder.model import ConvertedBook

__all__ = [
    "asin",
    "render_azw3",
    "render_mobi",
    "thumbnail",
    "thumbnail_name",
    "write_azw3",
    "write_mobi",
    "write_thumbnail",
]


def write_azw3(converted: ConvertedBook, path: Path) -> None:
    """Write the book as a KF8 (.azw3) file at `path`."""
    path.write_bytes(render_azw3(converted))


def write_mobi(converted: ConvertedBook, path: Path) -> None:
    """Write the book as a combined MOBI 6 + KF8 (.mobi) file at `path`."""
    path.write_bytes(render_mobi(converted))


def write_thumbnail(converted: ConvertedBook, path: Path) -> None:
    """Write the cover thumbnail (a JPEG 330 pixels high) at `path`.

    Name the file `thumbnail_name(converted)` and copy it to the Kindle's
    `system/thumbnails/` folder.
    """
    path.write_bytes(thumbnail_jpeg(converted.book.cover.data))


def thumbnail(converted: ConvertedBook) -> tuple[str, bytes]:
    """The thumbnail as the companion file of a Kindle book: its name and its bytes."""
    return thumbnail_name(converted), thumbnail_jpeg(converted.book.cover.data)


def asin(converted: ConvertedBook) -> str:
    """The ASIN-style id the Kindle files carry (EXTH 113), derived from the identifier."""
    return exth.book_ids(converted.book.metadata.identifier).asin


def thumbnail_name(converted: ConvertedBook) -> str:
    """The file name a Kindle looks for in `system/thumbnails/` for this book's cover."""
    return f"thumbnail_{asin(converted)}_EBOK_portrait.jpg"


def render_azw3(converted: ConvertedBook) -> bytes:
    """The .azw3 file's bytes."""
    meta = converted.book.metadata
    ids = exth.book_ids(meta.identifier)
    section = kf8.build_section(converted, ids)
    return palmdb.build(meta.title, section.records, _timestamp(converted))


def render_mobi(converted: ConvertedBook) -> bytes:
    """The .mobi file's bytes: MOBI 6 records, BOUNDARY, KF8 records."""
    meta = converted.book.metadata
    ids = exth.book_ids(meta.identifier)
    resources = collect(converted)
    section = kf8.build_section(converted, ids, include_resources=False)
    first = mobi6.build_section(converted, resources, ids)
    all_records = [*first.records, records.BOUNDARY, *section.records]
    return palmdb.build(meta.title, all_records, _timestamp(converted))


def _timestamp(converted: ConvertedBook) -> int:
    return int(converted.book.metadata.modified.timestamp())
