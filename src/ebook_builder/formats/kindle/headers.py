"""Record 0: the PalmDOC header, the MOBI header, the EXTH block and the full title.

Offsets are from the start of record 0 (MobileRead wiki, "MOBI" › "PalmDOC Header" and
"MOBI Header"; the KF8 fields at 0xC0 and 0xF4–0x104 as the wiki's "KF8" page and
KindleUnpack's header dump name them). Index and record fields count records from this
record 0, so in a combined file the KF8 header's numbers are relative to the KF8 record 0.

    0x00  2  compression: 2 = PalmDOC
    0x04  4  text length (uncompressed bytes of all flows)
    0x08  2  number of text records
    0x0A  2  text record size, 4096
    0x0C  2  encryption: 0 = none
    0x10  4  "MOBI"
    0x14  4  MOBI header length: 264 (0x108), so the header ends at 0x118 and EXTH follows
    0x18  4  book type: 2 = book
    0x1C  4  text encoding: 65001 = UTF-8
    0x20  4  unique id
    0x24  4  file version: 6 (MOBI 6) or 8 (KF8)
    0x28  40 dictionary and extra indexes: none (0xFFFFFFFF)
    0x50  4  first record after the text
    0x54  4  offset of the full title in record 0;  0x58  4  its length
    0x5C  4  language (Windows LANGID: primary | sublanguage << 10)
    0x68  4  minimum reader version: the file version
    0x6C  4  first resource (image) record
    0x80  4  EXTH flags: bit 6 (0x40) = an EXTH block follows the header
    0xA4  4  0xFFFFFFFF;  0xA8 DRM offset 0xFFFFFFFF, count/size/flags 0
    0xC0  8  KF8: FDST record and flow count. MOBI 6: first content record (2 bytes),
             last content record (2), then 1
    0xC8  8  FCIS record, 1;  0xD0  8  FLIS record, 1
    0xE0  8  SRCS record (none), 0
    0xF0  4  extra data flags: which trailing entries the text records carry
    0xF4  4  NCX index record (the table of contents)
    0xF8  4  KF8: fragment index;  0xFC skeleton index;  0x100 DATP (none);  0x104 guide
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

from ebook_builder.formats.kindle.exth import exth_block
from ebook_builder.formats.kindle.records import NULL, RECORD_SIZE

MOBI_HEADER_LENGTH = 0x108
EXTH_PRESENT = 0x40
# KindleGen sets these EXTH flag bits (0x50); calibre's readers test only 0x40.
KF8_EXTH_FLAGS = 0x50
# KindleGen's MOBI 6 half of a combined file sets 0x850.
MOBI6_EXTH_FLAGS = 0x850
# Room left after the title, as KindleGen leaves it: Amazon's services and calibre's
# metadata editor rewrite the EXTH block in place and need space to grow it.
RESERVED = 8192

# Windows primary language ids (the low 10 bits of a LANGID); the MOBI header's language
# field uses them. Readers prefer EXTH 524 (the BCP 47 tag); this is for older ones.
LANGUAGE_IDS = {
    "ar": 0x01, "bg": 0x02, "ca": 0x03, "zh": 0x04, "cs": 0x05, "da": 0x06, "de": 0x07,
    "el": 0x08, "en": 0x09, "es": 0x0A, "fi": 0x0B, "fr": 0x0C, "he": 0x0D, "hu": 0x0E,
    "is": 0x0F, "it": 0x10, "ja": 0x11, "ko": 0x12, "nl": 0x13, "no": 0x14, "nb": 0x14,
    "nn": 0x14, "pl": 0x15, "pt": 0x16, "ro": 0x18, "ru": 0x19, "hr": 0x1A, "sk": 0x1B,
    "sq": 0x1C, "sv": 0x1D, "th": 0x1E, "tr": 0x1F, "ur": 0x20, "id": 0x21, "uk": 0x22,
    "be": 0x23, "sl": 0x24, "et": 0x25, "lv": 0x26, "lt": 0x27, "fa": 0x29, "vi": 0x2A,
    "hy": 0x2B, "eu": 0x2D, "mk": 0x2F, "af": 0x36, "ka": 0x37, "hi": 0x39, "ms": 0x3E,
    "sw": 0x41, "bn": 0x45, "ta": 0x49, "gl": 0x56,
}  # fmt: skip


def language_code(tag: str) -> int:
    """The MOBI header's language number for a BCP 47 tag (0 = neutral when unknown)."""
    return LANGUAGE_IDS.get(tag.split("-")[0].lower(), 0)


@dataclass
class MobiHeader:
    """The values of record 0 that vary from book to book."""

    version: int  # 6 or 8
    text_length: int
    text_record_count: int
    first_non_text: int
    first_resource: int
    title: str
    language: str
    unique_id: int
    exth: list[tuple[int, bytes]]
    extra_flags: int = 1
    ncx_index: int = NULL
    fdst_index: int = NULL
    fdst_count: int = 0
    fragment_index: int = NULL
    skeleton_index: int = NULL
    guide_index: int = NULL
    fcis_index: int = NULL
    flis_index: int = NULL
    last_content: int = 0  # MOBI 6 only: the last record that holds text or images


def record0(header: MobiHeader) -> bytes:
    """Record 0's bytes."""
    exth = exth_block(header.exth)
    title = header.title.encode("utf-8")
    title_offset = 16 + MOBI_HEADER_LENGTH + len(exth)
    kf8 = header.version >= 8
    exth_flags = KF8_EXTH_FLAGS if kf8 else MOBI6_EXTH_FLAGS
    if kf8:
        content = struct.pack(">II", header.fdst_index, header.fdst_count)
    else:
        content = struct.pack(">HHI", 1, header.last_content, 1)
    palmdoc = struct.pack(
        ">HHIHHHH", 2, 0, header.text_length, header.text_record_count, RECORD_SIZE, 0, 0
    )
    mobi = b"".join(
        [
            b"MOBI",
            struct.pack(">IIII", MOBI_HEADER_LENGTH, 2, 65001, header.unique_id),
            struct.pack(">I", header.version),
            struct.pack(">10I", *[NULL] * 10),  # 0x28–0x4F: no dictionary or extra index
            struct.pack(
                ">IIIIIIII",
                header.first_non_text,
                title_offset,
                len(title),
                language_code(header.language),
                0,  # dictionary input language
                0,  # dictionary output language
                header.version,  # minimum version
                header.first_resource,
            ),
            struct.pack(">IIII", 0, 0, 0, 0),  # 0x70: no Huffman/CDIC compression
            struct.pack(">I", exth_flags),
            b"\0" * 32,  # 0x84: unknown, zero in KindleGen files
            struct.pack(">IIIII", NULL, NULL, 0, 0, 0),  # 0xA4: unknown; no DRM
            b"\0" * 8,  # 0xB8
            content,  # 0xC0
            struct.pack(">IIII", header.fcis_index, 1, header.flis_index, 1),  # 0xC8
            b"\0" * 8,  # 0xD8
            struct.pack(">II", NULL, 0),  # 0xE0: no SRCS (source archive)
            struct.pack(">II", NULL, NULL),  # 0xE8
            struct.pack(">I", header.extra_flags),  # 0xF0
            struct.pack(
                ">IIIII",
                header.ncx_index,
                header.fragment_index if kf8 else NULL,
                header.skeleton_index if kf8 else NULL,
                NULL,  # DATP
                header.guide_index if kf8 else NULL,
            ),
            struct.pack(">IIII", NULL, 0, NULL, 0),  # 0x108–0x117: as KindleGen
        ]
    )
    assert len(mobi) == MOBI_HEADER_LENGTH, len(mobi)
    record = palmdoc + mobi + exth + title
    record += b"\0" * (-len(record) % 4) + b"\0" * RESERVED
    return record
