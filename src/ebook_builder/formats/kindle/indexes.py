"""INDX indexes: the tables a Kindle looks things up in (skeletons, fragments, the TOC).

An index is a run of records (MobileRead wiki, "MOBI" › "Index meta record", "TAGX
section", "Variable-width integers"; the KF8 tables on the wiki's "KF8" page):

1. The main INDX record: a 192-byte header, the TAGX table that says how entries are coded,
   then the "geometry" — for each data record, its last entry name and entry count — with
   an IDXT block of 2-byte offsets to those geometry entries. A reader binary-searches the
   geometry to find which data record holds a name.
2. Data INDX records: the same 192-byte header (type 1), the entries, and an IDXT block of
   2-byte offsets to each entry. Offsets are 16-bit, so a record stays under 64 KiB.
3. CNCX records: the strings (TOC labels, fragment selectors) the entries point into, each
   a forward variable-width length and the UTF-8 bytes. A string's "offset" is its record
   number × 0x10000 plus its position in that record.

An entry is: name length (1 byte), name, control byte(s), then forward variable-width
values. The TAGX table lists per tag: tag number, values per entry, a bit mask into the
control byte, and an end flag (a row with end flag 1 closes a control byte). The bits
under a tag's mask count how many groups of values follow, so a reader can skip a tag.
Entries must be sorted by name: readers binary-search them.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass, field

from ebook_builder.formats.kindle.records import NULL, forward_varint

HEADER_LENGTH = 192
CNCX_RECORD_LIMIT = 0x10000
# An index record's offsets are 16-bit; KindleGen leaves a margin below 64 KiB.
RECORD_LIMIT = 0x10000 - HEADER_LENGTH - 1048


@dataclass(frozen=True)
class Tag:
    """One row of the TAGX table."""

    number: int
    values_per_entry: int
    mask: int


@dataclass
class Entry:
    """An index entry: its name and, per tag number, a flat list of values."""

    name: bytes
    values: dict[int, list[int]] = field(default_factory=dict)


def _align(data: bytes) -> bytes:
    return data + b"\0" * (-len(data) % 4)


def tagx(tags: list[Tag]) -> bytes:
    """The TAGX block for one control byte: the tag rows, then the end-of-byte row."""
    rows = b"".join(bytes([t.number, t.values_per_entry, t.mask, 0]) for t in tags)
    rows += bytes([0, 0, 0, 1])
    return b"TAGX" + struct.pack(">II", 12 + len(rows), 1) + rows


def encode_entry(entry: Entry, tags: list[Tag]) -> bytes:
    """One entry's bytes: name, control byte and the values in TAGX order."""
    control = 0
    values = bytearray()
    for tag in tags:
        found = entry.values.get(tag.number)
        if not found:
            continue
        groups, rest = divmod(len(found), tag.values_per_entry)
        shift = (tag.mask & -tag.mask).bit_length() - 1
        largest = tag.mask >> shift
        if largest > 1:
            largest -= 1  # all bits set would mean "a byte length follows": never needed here
        if rest or groups > largest:
            raise ValueError(f"tag {tag.number}: {len(found)} values do not fit its mask")
        control |= groups << shift
        for value in found:
            values += forward_varint(value)
    if len(entry.name) > 255:
        raise ValueError(f"index name too long: {entry.name!r}")
    return bytes([len(entry.name)]) + entry.name + bytes([control]) + bytes(values)


def _record_header(kind: int, idxt_offset: int, count: int, **fields: int) -> bytes:
    """The 192-byte INDX header; `kind` is 2 for the main record, 1 for data records."""
    header = bytearray(HEADER_LENGTH)
    header[0:4] = b"INDX"
    struct.pack_into(">I", header, 4, HEADER_LENGTH)
    if kind == 1:
        # Data records: type 1 at 12, KindleGen's 0xFFFFFFFF pair at 28.
        struct.pack_into(">IIII", header, 12, 1, 0, idxt_offset, count)
        struct.pack_into(">II", header, 28, NULL, NULL)
    else:
        struct.pack_into(
            ">IIIIIIIIII",
            header,
            16,
            2,  # index type as KindleGen writes it in main records
            idxt_offset,
            fields["records"],
            65001,  # the names and strings are UTF-8
            NULL,  # language: none
            fields["entries"],
            0,  # ORDT: none
            0,  # LIGT: none
            0,
            fields["cncx"],
        )
        struct.pack_into(">I", header, 180, HEADER_LENGTH)  # where TAGX starts
    return bytes(header)


def build_index(
    entries: list[Entry], tags: list[Tag], cncx: list[bytes] | None = None
) -> list[bytes]:
    """The records of one index: main record, data records, then the CNCX records."""
    names = [e.name for e in entries]
    if names != sorted(names) or len(set(names)) != len(names):
        raise ValueError("index entries must have distinct names in sorted order")
    blocks: list[list[bytes]] = [[]]
    size = 0
    for entry in entries:
        raw = encode_entry(entry, tags)
        if blocks[-1] and size + len(raw) + 2 * (len(blocks[-1]) + 1) + 8 > RECORD_LIMIT:
            blocks.append([])
            size = 0
        blocks[-1].append(raw)
        size += len(raw)
    data_records = []
    geometry = []
    for block, last_names in zip(blocks, _last_names(blocks, entries), strict=True):
        body = _align(b"".join(block))
        offsets = []
        position = HEADER_LENGTH
        for raw in block:
            offsets.append(position)
            position += len(raw)
        idxt = _align(b"IDXT" + b"".join(struct.pack(">H", o) for o in offsets))
        header = _record_header(1, HEADER_LENGTH + len(body), len(block))
        data_records.append(header + body + idxt)
        geometry.append(bytes([len(last_names)]) + last_names + struct.pack(">H", len(block)))
    table = _align(tagx(tags))
    geometry_offsets = []
    position = HEADER_LENGTH + len(table)
    for item in geometry:
        geometry_offsets.append(position)
        position += len(item)
    geometry_block = _align(b"".join(geometry))
    idxt = _align(b"IDXT" + b"".join(struct.pack(">H", o) for o in geometry_offsets))
    strings = cncx or []
    main = _record_header(
        2,
        HEADER_LENGTH + len(table) + len(geometry_block),
        0,
        records=len(data_records),
        entries=len(entries),
        cncx=len(strings),
    )
    return [main + table + geometry_block + idxt, *data_records, *strings]


def _last_names(blocks: list[list[bytes]], entries: list[Entry]) -> list[bytes]:
    """The name of the last entry of each data record."""
    names = []
    count = 0
    for block in blocks:
        count += len(block)
        names.append(entries[count - 1].name if count else b"")
    return names


class Strings:
    """CNCX: a string table whose offsets entries store (record × 0x10000 + position)."""

    def __init__(self) -> None:
        self.records: list[bytearray] = [bytearray()]
        self.offsets: dict[str, int] = {}

    def add(self, text: str) -> int:
        """The offset of `text`, adding it if it is new."""
        if text in self.offsets:
            return self.offsets[text]
        data = text.encode("utf-8")
        raw = forward_varint(len(data)) + data
        if len(self.records[-1]) + len(raw) > CNCX_RECORD_LIMIT - 4:
            self.records.append(bytearray())
        offset = (len(self.records) - 1) * CNCX_RECORD_LIMIT + len(self.records[-1])
        self.records[-1] += raw
        self.offsets[text] = offset
        return offset

    def build(self) -> list[bytes]:
        """The CNCX records (none when no string was added)."""
        if not self.offsets:
            return []
        return [_align(bytes(r)) for r in self.records]


# --- The KF8 tables -----------------------------------------------------------------------

# SKEL: one entry per XHTML file ("skeleton"). Tag 1: number of fragments; tag 6: start and
# length of the skeleton in the text. KindleGen writes each value group twice (count 2 under
# the mask), and readers take the first, so we do the same.
SKELETON_TAGS = [Tag(1, 1, 0x03), Tag(6, 2, 0x0C)]

# FRAG: one entry per fragment, named by its insert position (10 decimal digits). Tag 2: the
# CNCX offset of its selector (`P-//*[@aid='X']`, the element it goes into); tag 3: file
# number; tag 4: sequence number; tag 6: its offset among the file's fragments and length.
FRAGMENT_TAGS = [Tag(2, 1, 0x01), Tag(3, 1, 0x02), Tag(4, 1, 0x04), Tag(6, 2, 0x08)]

# NCX (the table of contents; MOBI 6 uses it without tag 6). Tag 1: text position; 2: length
# up to the next entry of the same or a higher level; 3: CNCX offset of the label; 4: depth
# (0 for chapters); 21/22/23: index of the parent, first and last child; 6: fragment number
# and offset into it, the KF8 way to point at the position.
NCX_TAGS = [
    Tag(1, 1, 0x01),
    Tag(2, 1, 0x02),
    Tag(3, 1, 0x04),
    Tag(4, 1, 0x08),
    Tag(21, 1, 0x10),
    Tag(22, 1, 0x20),
    Tag(23, 1, 0x40),
    Tag(6, 2, 0x80),
]

# Guide (KF8 "OTH" index): named by reference type ("text"); tag 1: CNCX offset of the
# title; tag 6: fragment number and offset.
GUIDE_TAGS = [Tag(1, 1, 0x01), Tag(6, 2, 0x02)]


@dataclass(frozen=True)
class Skeleton:
    """A skeleton: one XHTML file with its fragments cut out."""

    fragment_count: int
    start: int
    length: int


@dataclass(frozen=True)
class Fragment:
    """A fragment: a piece of a file's body, stored after its skeleton."""

    insert_position: int  # where it goes in the text once earlier fragments are in place
    selector: str
    file_number: int
    sequence: int
    offset: int  # from the end of the skeleton
    length: int


@dataclass(frozen=True)
class TocEntry:
    """A table of contents entry, already in the order the index stores it."""

    title: str
    depth: int
    position: int
    length: int
    parent: int | None
    first_child: int | None
    last_child: int | None
    pos_fid: tuple[int, int] | None = None


def skeleton_index(skeletons: list[Skeleton]) -> list[bytes]:
    """The SKEL index records."""
    entries = [
        Entry(
            f"SKEL{number:010d}".encode(),
            {
                1: [s.fragment_count, s.fragment_count],
                6: [s.start, s.length, s.start, s.length],
            },
        )
        for number, s in enumerate(skeletons)
    ]
    return build_index(entries, SKELETON_TAGS)


def fragment_index(fragments: list[Fragment]) -> list[bytes]:
    """The FRAG index records with their CNCX of selectors."""
    strings = Strings()
    entries = [
        Entry(
            f"{f.insert_position:010d}".encode(),
            {
                2: [strings.add(f.selector)],
                3: [f.file_number],
                4: [f.sequence],
                6: [f.offset, f.length],
            },
        )
        for f in fragments
    ]
    return build_index(entries, FRAGMENT_TAGS, strings.build())


def ncx_index(toc: list[TocEntry], tags: list[Tag] = NCX_TAGS) -> list[bytes]:
    """The NCX index records with their CNCX of labels; MOBI 6 passes its own `tags`."""
    strings = Strings()
    width = max(2, len(f"{max(len(toc) - 1, 0):X}"))
    entries = []
    for number, item in enumerate(toc):
        values: dict[int, list[int]] = {
            1: [item.position],
            2: [item.length],
            3: [strings.add(item.title)],
            4: [item.depth],
        }
        if item.parent is not None:
            values[21] = [item.parent]
        if item.first_child is not None and item.last_child is not None:
            values[22] = [item.first_child]
            values[23] = [item.last_child]
        if item.pos_fid is not None:
            values[6] = list(item.pos_fid)
        entries.append(Entry(f"{number:0{width}X}".encode(), values))
    return build_index(entries, tags, strings.build())


def guide_index(references: list[tuple[str, str, tuple[int, int]]]) -> list[bytes]:
    """The KF8 guide index: (type, title, (fragment, offset)) sorted by type."""
    strings = Strings()
    entries = [
        Entry(kind.encode(), {1: [strings.add(title)], 6: list(pos_fid)})
        for kind, title, pos_fid in sorted(references)
    ]
    return build_index(entries, GUIDE_TAGS, strings.build())
