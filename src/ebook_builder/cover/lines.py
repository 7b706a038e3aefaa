"""Balanced line breaks for cover type: lines of like width, no word left alone at the end.

A browser or a word processor fills each line greedily, which leaves a title such as "The
Russian Revolution of 1917" as a long line over "of 1917". A cover sets few lines in big
type, so it breaks as a typesetter does by hand (and as CSS `text-wrap: balance` asks): as
few lines as greedy filling needs, and among the ways to break into that many lines, the
one whose lines leave the least room unused, each line's slack counted squared (the
raggedness of Knuth and Plass's line breaking, the last line included, so that it balances
with the others). A last line of one word is avoided wherever another break exists.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from itertools import accumulate, pairwise

Measure = Callable[[str], float]
# Where a line may break inside a word: after a slash or a hyphen or dash ("Now/Revolutionary",
# "Jean-Paul", "1914–1918"); the mark stays at the end of the line.
BREAK_AFTER = re.compile(r"(?<=[/\-\u2010\u2013\u2014])(?=\w)")


@dataclass(frozen=True)
class Piece:
    """A run of text that a line may not break inside; `space` if a space follows it."""

    text: str
    width: float
    space: bool


@dataclass(frozen=True)
class Cost:
    """What a way of setting the first pieces costs: lines first, then raggedness.

    Both add up line by line, so the best setting of a prefix extends to the best setting
    of the whole (dynamic programming), in time linear in the pieces times a line's pieces.
    """

    lines: int
    raggedness: float

    def plus(self, raggedness: float) -> Cost:
        return Cost(self.lines + 1, self.raggedness + raggedness)

    def key(self) -> tuple[int, float]:
        return (self.lines, self.raggedness)


def balanced_lines(text: str, measure: Measure, width: float) -> list[str]:
    """`text` broken into lines no wider than `width` (as `measure` reckons), balanced.

    A piece wider than `width` by itself (a long word in big type) is cut between
    characters, as nothing else can make it fit.
    """
    pieces = _pieces(text, measure, width)
    breaks = _best_breaks(pieces, measure(" "), width)
    return [_line_text(pieces[start:end]) for start, end in pairwise(breaks)]


def breaks_words(text: str, measure: Measure, width: float) -> bool:
    """Whether a word of `text` (up to a break after a slash or hyphen) is wider than `width`."""
    return any(measure(part) > width for word in text.split() for part in BREAK_AFTER.split(word))


def _pieces(text: str, measure: Measure, width: float) -> list[Piece]:
    pieces = []
    for word in text.split():
        parts = BREAK_AFTER.split(word)
        for number, part in enumerate(parts):
            chunks = _cut_to_width(part, measure, width)
            pieces += [Piece(chunk, measure(chunk), space=False) for chunk in chunks[:-1]]
            space = number == len(parts) - 1
            pieces.append(Piece(chunks[-1], measure(chunks[-1]), space))
    return pieces


def _cut_to_width(part: str, measure: Measure, width: float) -> list[str]:
    """`part` whole if it fits `width`, else cut into runs of characters that fit.

    The runs are measured a character at a time (kerning ignored): a word this long is
    no word, and a 5,000-character one must not take 5,000 measures of its prefixes.
    """
    if measure(part) <= width:
        return [part]
    chunks, start, used = [], 0, 0.0
    for index, character in enumerate(part):
        advance = measure(character)
        if used + advance > width and index > start:
            chunks.append(part[start:index])
            start, used = index, 0.0
        used += advance
    return [*chunks, part[start:]]


def _best_breaks(pieces: list[Piece], space: float, width: float) -> list[int]:
    """The break points (piece indexes, 0 and the end included) of the best lines.

    `best[end]` is the cheapest setting of pieces[:end]; each line tried ends at `end` and
    starts as far back as it still fits (a single piece always fits: `_pieces` cut it).
    """
    ends = list(accumulate((piece.width for piece in pieces), initial=0.0))
    spaces = list(accumulate((float(piece.space) for piece in pieces), initial=0.0))
    total = len(pieces)
    best: list[Cost | None] = [Cost(0, 0.0), *[None] * total]
    came_from = [0] * (total + 1)
    for end in range(1, total + 1):
        for start in range(end - 1, -1, -1):
            # spaces between the line's pieces: the last piece's own space is not set
            line = ends[end] - ends[start] + space * (spaces[end - 1] - spaces[start])
            if line > width and end - start > 1:
                break
            before = best[start]
            assert before is not None  # every prefix can be set, a piece to a line
            orphan = end == total and end - start == 1 and start > 0
            cost = before.plus((width - line) ** 2 + (_ORPHAN * width**2 if orphan else 0.0))
            if best[end] is None or cost.key() < best[end].key():  # type: ignore[union-attr]
                best[end], came_from[end] = cost, start
    breaks = [total]
    while breaks[-1] > 0:
        breaks.append(came_from[breaks[-1]])
    return breaks[::-1]


# A last line of one word costs more than any raggedness of the lines above can (each
# line's is below width²), so it is chosen only where every setting has one.
_ORPHAN = 1e6


def _line_text(pieces: list[Piece]) -> str:
    return "".join(piece.text + (" " if piece.space else "") for piece in pieces).rstrip()
