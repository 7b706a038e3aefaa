"""Trailing byte sequences (TBS): which NCX entries touch each text record.

A Kindle learns the current chapter, and where the next and previous ones are, from the
text record it is showing, without searching the NCX index: each text record ends with a
TBS trailing entry (extra-data flag bit 1, after the multibyte entry) naming the index
entries that start, end, run through or lie inside the record. The layout is not published
by Amazon; it is known from KindleGen's output as the MobileRead wiki ("MOBI" › "TBS
indexing") and calibre describe it (calibre's MOBI 6 writer, `writer2/indexer.py`, class
`TBS`; its KF8 writer, `writer8/tbs.py`). calibre's `--inspect-mobi` recomputes the KF8
sequences from the NCX and reports every record that disagrees as "TBS mismatch".

A sequence is a forward variable-width integer holding a value shifted left past some flag
bits, then the numbers the flags announce, in this order: 0b0010 a variable-width integer,
0b0100 one byte (a count), 0b0001 a variable-width integer. The first sequence of a record
has 3 flag bits; later ones 4, the fourth (0b1000) marking a new strand. An entry "starts"
in a record when it begins there and goes on past its end, "ends" when it began before and
stops inside, "completes" when it lies wholly inside, and "spans" when it runs through.

Each record's sequence is wrapped as a trailing entry (`records.trailing_entry`), so a
record that no entry touches still carries the one size byte.
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass
from itertools import pairwise

from ebook_builder.formats.kindle.indexes import TocEntry
from ebook_builder.formats.kindle.records import RECORD_SIZE, forward_varint, trailing_entry

# Flags of a sequence: which numbers follow its value.
SPANS_FLAG = 0b0001  # the last entry of this layer runs through the record (number: 0)
TYPE_FLAG = 0b0010  # first sequence of a record: the TBS type (MOBI 6 books: 0)
COUNT_FLAG = 0b0100  # how many entries the sequence stands for (one byte)
STRAND_FLAG = 0b1000  # a later strand, its value counted back from the previous one

# KF8: KindleGen writes type 8, and type 5 in the books where some strand would have to
# count forward from the previous one (calibre, writer8/tbs.py, `NegativeStrandIndex`).
KF8_TYPE = 8
KF8_TYPE_BACKWARDS = 5
COUNT_LIMIT = 255  # the count is one byte; a record of 4096 bytes never holds more headings


def _sequence(value: int, flags: dict[int, int], flag_bits: int) -> bytes:
    """One sequence: the value and its flags, then the numbers the flags announce."""
    word = value << flag_bits
    for flag in flags:
        word |= flag
    out = forward_varint(word)
    if TYPE_FLAG in flags:
        out += forward_varint(flags[TYPE_FLAG])
    if COUNT_FLAG in flags:
        out += bytes([min(flags[COUNT_FLAG], COUNT_LIMIT)])
    if SPANS_FLAG in flags:
        out += forward_varint(flags[SPANS_FLAG])
    return out


def _record_bounds(text_length: int) -> list[tuple[int, int]]:
    return [
        (start, min(start + RECORD_SIZE, text_length))
        for start in range(0, text_length, RECORD_SIZE)
    ]


# --- MOBI 6: a flat index ------------------------------------------------------------------


def book_sequences(entries: list[TocEntry], text_length: int) -> list[bytes]:
    """The TBS trailing entry of each MOBI 6 text record, for a flat NCX of a book.

    The MOBI 6 index is flat (every entry at depth 0, in text order, none overlapping), and
    a book (not a periodical) then has one sequence per record, as calibre's MOBI 6 writer
    and KindleGen write it:

    - no entry touches the record: nothing;
    - one entry spans it: the entry's index with flags 0b011 and two zeros;
    - exactly one entry starts or ends there and no other touches it: flags 0b010, a zero;
    - otherwise: the first touching entry, flags 0b110, a zero, and the touching count.
    """
    starts = [entry.position for entry in entries]
    ends = [entry.position + entry.length for entry in entries]
    sequences = []
    for start, _ in _record_bounds(text_length):
        end = start + RECORD_SIZE
        first = bisect.bisect_right(ends, start)  # the first entry ending after `start`
        touching = range(first, bisect.bisect_left(starts, end, lo=first))
        if not touching:
            data = b""
        elif len(touching) == 1 and starts[first] < start and ends[first] > end:
            data = _sequence(first, {TYPE_FLAG: 0, SPANS_FLAG: 0}, 3)
        elif len(touching) == 1 and (starts[first] < start or ends[first] > end):
            data = _sequence(first, {TYPE_FLAG: 0}, 3)
        else:
            data = _sequence(first, {TYPE_FLAG: 0, COUNT_FLAG: len(touching)}, 3)
        sequences.append(trailing_entry(data))
    return sequences


# --- KF8: a hierarchical index, in strands --------------------------------------------------


@dataclass(frozen=True)
class _Touch:
    """An NCX entry touching a record: its place in the index, and how it touches."""

    index: int
    depth: int
    parent: int | None
    spans: bool


def _touches(
    ordered: list[tuple[int, TocEntry]], bounds: list[tuple[int, int]]
) -> list[list[_Touch]]:
    """For each record [start, end) of `bounds` (in order), the entries touching it;
    `ordered` is (index, entry) by position, index order for ties (a parent before the
    child that starts with it). One sweep: an entry joins when the records reach its start
    and leaves once they pass its end, so a book of many headings costs no more per record
    than the entries that record touches."""
    touching: list[list[_Touch]] = []
    active: list[tuple[int, TocEntry]] = []
    waiting = iter(ordered)
    pending = next(waiting, None)
    for start, end in bounds:
        while pending is not None and pending[1].position < end:
            active.append(pending)
            pending = next(waiting, None)
        active = [(n, e) for n, e in active if e.position + e.length > start]
        touching.append(
            [
                _Touch(n, e.depth, e.parent, e.position < start and e.position + e.length > end)
                for n, e in active
            ]
        )
    return touching


def _strand(head: _Touch, rest: list[_Touch]) -> list[_Touch]:
    """`head`, then down through first children; at the bottom, the siblings that follow
    it in the index, until one of them has children of its own (which then go on down).
    Taken entries leave `rest`."""
    child = next((touch for touch in rest if touch.parent == head.index), None)
    if child is not None:
        rest.remove(child)
        return [head, *_strand(child, rest)]
    chain = [head]
    current = head.index
    for touch in list(rest):
        if touch.depth == head.depth and touch.parent == head.parent and touch.index == current + 1:
            current += 1
            rest.remove(touch)
            if any(other.parent == touch.index for other in rest):
                return chain + _strand(touch, rest)
            chain.append(touch)
    return chain


def _layers(touches: list[_Touch]) -> list[list[list[_Touch]]]:
    """The record's strands, each a list of layers: its entries at one depth."""
    rest = list(touches)
    strands = []
    while rest:
        layers: dict[int, list[_Touch]] = {}
        for touch in _strand(rest.pop(0), rest):
            layers.setdefault(touch.depth, []).append(touch)
        strands.append(list(layers.values()))
    return strands


def _kf8_record(strands: list[list[list[_Touch]]], tbs_type: int) -> bytes | None:
    """One record's bytes, or None when type 8 cannot say it (a strand that would count
    forward from the previous one's last entry).

    Each layer is one sequence: its first entry's index relative to its parent (absolute
    at the top), the number of entries when more than one, and the spans flag when its last
    entry runs through the record (kept on the deepest of consecutive spanning layers only).
    The first layer of a later strand counts back from the previous layer's last entry.
    """
    sequences: list[tuple[int, dict[int, int]]] = []
    last = 0
    for number, strand in enumerate(strands):
        own: list[tuple[int, dict[int, int]]] = []
        for layer in strand:
            flags: dict[int, int] = {}
            if layer[-1].spans:
                flags[SPANS_FLAG] = 0
            if not sequences and not own:
                flags[TYPE_FLAG] = tbs_type
            if len(layer) > 1:
                flags[COUNT_FLAG] = len(layer)
            value = layer[0].index - (layer[0].parent or 0)
            if number and not own:
                value = last - layer[0].index
                if value >= 0:
                    flags[STRAND_FLAG] = 0
                elif tbs_type == KF8_TYPE_BACKWARDS:
                    value = -value
                else:
                    return None
            last = layer[-1].index
            own.append((value, flags))
        for this, following in pairwise(own):
            if SPANS_FLAG in this[1] and SPANS_FLAG in following[1]:
                del this[1][SPANS_FLAG]
        sequences += own
    return b"".join(
        _sequence(value, flags, 3 if position == 0 else 4)
        for position, (value, flags) in enumerate(sequences)
    )


def kf8_sequences(entries: list[TocEntry], text_length: int) -> list[bytes]:
    """The TBS trailing entry of each KF8 text record, for the NCX `entries` in index order.

    The KF8 index is hierarchical, so a record's entries are grouped into strands: chains
    from an entry down through its descendants, with runs of consecutive siblings at the
    bottom (calibre, writer8/tbs.py, from KindleGen's output). The book's type is 8 unless
    some record needs 5, which then holds for every record.
    """
    ordered = sorted(enumerate(entries), key=lambda item: (item[1].position, item[0]))
    bounds = _record_bounds(text_length)
    strands = [_layers(touches) for touches in _touches(ordered, bounds)]
    encoded = [_kf8_record(record, KF8_TYPE) for record in strands]
    if any(data is None for data in encoded):
        encoded = [_kf8_record(record, KF8_TYPE_BACKWARDS) for record in strands]
    return [trailing_entry(data or b"") for data in encoded]
