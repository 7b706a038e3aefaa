"""Large chapters converted in pieces, so that an edit reconverts a few pages, not a chapter.

Pandoc reads Markdown at a few microseconds a byte: a 40 KB chapter costs it a fifth of
a second, and one chapter is all that an editor's save changes. So a chapter is cut at
blank lines into pieces of a few kilobytes, each converted (and cached) on its own, and
their HTML is joined into the chapter's. The pieces also share out a book whose largest
chapter would otherwise keep one core busy while the other waits.

A cut must not change what pandoc makes. So it only falls between top-level blocks,
before a paragraph or heading and never inside a fenced block, and a chapter is not cut
at all when it holds anything whose meaning reaches across blocks: notes and link
definitions (numbered or looked up in the whole document), raw HTML or TeX, tables,
rules and setext headings, definition and example lists, TeX macros, code in a named
language (its blocks are numbered) and divs that open with a heading. Where the cuts
fall depends on the text around them (content-defined, as in rsync), not on offsets, so
that an edit early in a chapter leaves the later pieces as they were, and cached.
"""

from __future__ import annotations

import re
import zlib
from collections.abc import Iterator, Sequence

from lxml import etree

from ebook_builder.xhtml import tag

SPLIT_ABOVE = 12_000  # a chapter shorter than this is converted whole
PIECE_MINIMUM = 4_000  # characters before a cut is considered
PIECE_MAXIMUM = 16_000  # characters after which any safe place is cut
CUT_ONE_IN = 6  # of the places past the minimum, the share where a cut falls (by hash)

# Markdown whose meaning depends on more than one block: never cut a chapter holding it.
# Anywhere: notes, example lists, TeX macros.
_WHOLE_DOCUMENT_MARKS = ("[^", "^[", "(@", "\\newcommand", "\\renewcommand", "\\def")
# At the start of a line:
_WHOLE_DOCUMENT_LINE = re.compile(
    r"""[ ]{0,3}\[[^\]\n]*\]:                       # link and note definitions
    |[ \t]*<                                   # raw HTML blocks and comments
    |[ \t]*\\begin\{                             # raw TeX
    |[ \t]*\|                                  # line blocks, pipe tables
    |[ ]{0,3}(?:`{3,}|~{3,})[ \t]*[^`~\s]         # code to highlight: numbered blocks
    |[ \t]*(?=[-=_*+|:\ \t]*$)(?:[|:\ \t]*[-=_*+]){3}  # rules, tables, setext headings
    |[ ]{0,3}[:~][ \t]                         # definition lists
    """,
    re.VERBOSE,
)
# A line that opens or closes a fenced code block or div.
_CODE_FENCE = re.compile(r"[ ]{0,3}(`{3,}|~{3,})")
_DIV_FENCE = re.compile(r"[ ]{0,3}:{3,}[ \t]*(\S?)")
# A block that may start a piece: a paragraph or an ATX heading, not a list item.
_LIST_ITEM = re.compile(r"(?:[-*+]|\(?(?:\d+|#|[A-Za-z]|[ivxlcdmIVXLCDM]+)[.)])(?:[ \t]|$)")
_HEADING = re.compile(r"#{1,6}(?:[ \t]|$)")
# The same, on any line of a block.
_DIV_LINE = re.compile("^" + _DIV_FENCE.pattern, re.MULTILINE)
_HEADING_LINE = re.compile("^" + _HEADING.pattern, re.MULTILINE)
_PLAIN_START = "\"'“‘«„‚(*_[!¡¿…—–"


def split_markdown(text: str) -> list[str]:
    """`text` as pieces that pandoc converts to what it makes of the whole (see above)."""
    if len(text) <= SPLIT_ABOVE or _spans_blocks(text):
        return [text]
    blocks = list(_blocks(text))
    if any(_DIV_LINE.search(block) and _HEADING_LINE.search(block) for block in blocks):
        return [text]  # pandoc makes a section of a div that opens with a heading
    pieces, piece, size = [], [], 0
    for block in blocks:
        if piece and _cut_between(piece[-1], block, size):
            pieces.append("".join(piece))
            piece, size = [], 0
        piece.append(block)
        size += len(block)
    pieces.append("".join(piece))
    return pieces


def _spans_blocks(text: str) -> bool:
    """Whether `text` holds Markdown whose meaning reaches beyond its block (see above)."""
    if any(mark in text for mark in _WHOLE_DOCUMENT_MARKS):
        return True
    return any(_WHOLE_DOCUMENT_LINE.match(line) for line in text.splitlines())


def _cut_between(before: str, block: str, size: int) -> bool:
    """Whether a piece `size` long, ending with `before`, ends before `block`.

    The choice hangs on the hash of the block before, so an edit moves the cuts only
    around itself.
    """
    if size < PIECE_MINIMUM or not _may_start_piece(block):
        return False
    return size >= PIECE_MAXIMUM or zlib.crc32(before.encode()) % CUT_ONE_IN == 0


def _blocks(text: str) -> Iterator[str]:
    """The text in runs of lines, each ending with the blank lines after it, that no
    fenced block straddles."""
    block: list[str] = []
    code_fence, divs, blank = "", 0, False
    for line in text.splitlines(keepends=True):
        stripped = line.strip()
        if blank and stripped and not code_fence and not divs:
            yield "".join(block)
            block = []
        block.append(line)
        blank = not stripped
        code = _CODE_FENCE.match(line)
        div = _DIV_FENCE.match(line)
        if code_fence:
            if code and code.group(1)[0] == code_fence[0] and len(code.group(1)) >= len(code_fence):
                code_fence = "" if not line[code.end() :].strip() else code_fence
        elif code:
            code_fence = code.group(1)
        elif div:
            divs = divs + 1 if div.group(1) else max(divs - 1, 0)
    if block:
        yield "".join(block)


def _may_start_piece(block: str) -> bool:
    """Whether a piece may begin with `block`: a paragraph or heading at the margin."""
    first = block[:1]
    if _HEADING.match(block):
        return True
    if not (first.isalnum() or first in _PLAIN_START):
        return False
    return not _LIST_ITEM.match(block)


def join_sections(bodies: Sequence[etree._Element]) -> etree._Element:
    """One `<body>` from the pieces' bodies, sectioned as pandoc sections the whole.

    With `--section-divs`, pandoc wraps each heading and what follows it, up to a heading
    of its level or higher, in a `<section class="levelN">`. A piece's leading blocks
    belong in the innermost section still open from the pieces before; a section of level
    N, in the innermost one of a lower level.
    """
    body = bodies[0]
    for piece in bodies[1:]:
        for element in list(piece):
            _open_section(body, _level(element)).append(element)
            element.tail = "\n"
    _tidy_tails(body)
    return body


def _level(element: etree._Element) -> int:
    """The heading level of a pandoc section, or 7 for any other block (below all levels)."""
    if element.tag != tag("section"):
        return 7
    for name in element.get("class", "").split():
        if name.startswith("level") and name[5:].isdigit():
            return int(name[5:])
    return 7


def _open_section(body: etree._Element, level: int) -> etree._Element:
    """The innermost open section (the last one, at any depth) of a level below `level`."""
    holder = body
    while len(holder) and _level(holder[-1]) < level:
        holder = holder[-1]
    return holder


def _tidy_tails(body: etree._Element) -> None:
    """Pandoc's layout: a line break after every block, none after the last at the top."""
    for section in body.iter(tag("section")):
        if len(section):
            section[-1].tail = "\n"
    for element in body:
        element.tail = "\n"
    if len(body):
        body[-1].tail = None
