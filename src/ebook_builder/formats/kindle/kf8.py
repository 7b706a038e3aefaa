"""The KF8 section: record 0 (version 8) and every record after it, in KindleGen's order.

    0             MOBI header (version 8), EXTH, full title
    1 … n         text records: flow 0 (the XHTML), flow 1 (the CSS), PalmDOC-compressed,
                  each with its multibyte and TBS trailing entries (`tbs.kf8_sequences`)
    n + 1 …       FRAG index, SKEL index, NCX index, guide index (each: main, data, CNCX)
    …             resources (cover, images, thumbnail, fonts) — in a combined file they sit in the
                  MOBI 6 half instead, and `first_resource` points past the KF8 indexes
    …             FDST, FLIS, FCIS, end-of-file

Record numbers in the header count from this section's record 0 (MobileRead wiki, "KF8").
"""

from __future__ import annotations

from dataclasses import dataclass

from ebook_builder.formats.kindle import exth, headers, indexes, records, tbs
from ebook_builder.formats.kindle.navigation import toc_entries
from ebook_builder.formats.kindle.resources import collect
from ebook_builder.formats.kindle.text import KF8Text, build_text, embed_uri
from ebook_builder.model import ConvertedBook, once_per_book
from ebook_builder.stylesheet import book_css


def stylesheet(converted: ConvertedBook) -> bytes:
    """The book's stylesheet, flow 1 of the text: its fonts are resource records.

    A font's address is `kindle:embed:XXXX` with no `?mime=` (which images have): the
    readers of KF8 (KindleUnpack, calibre) replace only the `kindle:embed:XXXX` of a
    font's address, and a query left behind breaks the `url()`.
    """
    fonts = collect(converted).fonts
    return book_css(converted, lambda font: embed_uri(fonts[font.style]))


@once_per_book
def book_text(converted: ConvertedBook) -> KF8Text:
    """The text layer, made once for the .azw3 and the .mobi (whose KF8 halves share it)."""
    return build_text(converted, collect(converted).by_href)


@dataclass
class KF8Section:
    """The section's records (record 0 first) and the text layer they were made from."""

    records: list[bytes]
    text: KF8Text


@dataclass
class _TextAndIndexes:
    """The records after record 0 up to the resources: the same in the .azw3 and the .mobi."""

    text_records: list[bytes]
    text_length: int
    flows: list[tuple[int, int]]
    fragment_index: list[bytes]
    skeleton_index: list[bytes]
    ncx_index: list[bytes]
    guide_index: list[bytes]


@once_per_book
def _text_and_indexes(converted: ConvertedBook) -> _TextAndIndexes:
    """Made once for both Kindle files: compressing the text and encoding the indexes is
    most of a Kindle writer's time in a long book."""
    text = book_text(converted)
    # Flow 0: the XHTML; flow 1: the stylesheet.
    pieces = [text.text, stylesheet(converted)]
    flows = []
    position = 0
    for piece in pieces:
        flows.append((position, position + len(piece)))
        position += len(piece)
    whole = b"".join(pieces)
    toc = toc_entries(text.toc, len(text.text), kf8=True)
    start = (text.start.fragment, text.start.fragment_offset)
    return _TextAndIndexes(
        text_records=records.text_records(whole, trailing=tbs.kf8_sequences(toc, len(whole))),
        text_length=len(whole),
        flows=flows,
        fragment_index=indexes.fragment_index(text.fragments),
        skeleton_index=indexes.skeleton_index(text.skeletons),
        ncx_index=indexes.ncx_index(toc),
        guide_index=indexes.guide_index([("text", "Beginning", start)]),
    )


def build_section(
    converted: ConvertedBook, ids: exth.BookIds, include_resources: bool = True
) -> KF8Section:
    """The KF8 records; with `include_resources` false the images are left to the caller
    (the MOBI 6 half of a combined file holds them for both halves)."""
    resources = collect(converted)
    text = book_text(converted)
    shared = _text_and_indexes(converted)
    out: list[bytes] = [b""]  # record 0 is filled in last
    out += shared.text_records
    first_non_text = len(out)
    fragment_index = len(out)
    out += shared.fragment_index
    skeleton_index = len(out)
    out += shared.skeleton_index
    ncx_index = len(out)
    out += shared.ncx_index
    guide_index = len(out)
    out += shared.guide_index

    first_resource = len(out)
    resource_count = 0
    if include_resources:
        out += resources.records
        resource_count = len(resources.records)
    fdst_index = len(out)
    out.append(records.fdst(shared.flows))
    flis_index = len(out)
    out.append(records.FLIS)
    fcis_index = len(out)
    out.append(records.fcis(shared.text_length, kf8=True))
    out.append(records.EOF_RECORD)

    meta = converted.book.metadata
    exth_records = exth.metadata_records(meta, ids)
    exth_records += exth.resource_records(resources.cover, resources.thumbnail, resource_count)
    # KF8 names its cover image as the text does, with a 1-based kindle:embed number.
    exth_records.append((exth.COVER_URI, embed_uri(resources.cover).encode()))
    exth_records.append((exth.START_READING, exth.number(text.start.offset)))
    out[0] = headers.record0(
        headers.MobiHeader(
            version=8,
            text_length=shared.text_length,
            text_record_count=len(shared.text_records),
            first_non_text=first_non_text,
            first_resource=first_resource,
            title=meta.title,
            language=meta.language,
            unique_id=ids.unique_id,
            exth=exth_records,
            extra_flags=0b11,  # multibyte entries and TBS, as KindleGen's KF8 books
            ncx_index=ncx_index,
            fdst_index=fdst_index,
            fdst_count=len(shared.flows),
            fragment_index=fragment_index,
            skeleton_index=skeleton_index,
            guide_index=guide_index,
            fcis_index=fcis_index,
            flis_index=flis_index,
        )
    )
    return KF8Section(out, text)
