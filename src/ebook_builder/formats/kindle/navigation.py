"""The table of contents both halves share, and its NCX-index form.

Both the KF8 and the MOBI 6 text lay out the book's headings (down to level 3, like the
EPUB's table of contents) and record where each lands; this module nests them and turns
the tree into the entry order the NCX index needs.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ebook_builder.formats.kindle.indexes import TocEntry
from ebook_builder.markup.xhtml import EPUB_TYPE
from ebook_builder.model import ConvertedBook


@dataclass(frozen=True)
class Position:
    """A place in the text: byte offset, and for KF8 the fragment and offset within it."""

    offset: int
    fragment: int = 0
    fragment_offset: int = 0


@dataclass
class TocNode:
    """A heading of the table of contents and the place it points to."""

    title: str
    position: Position
    children: list[TocNode] = field(default_factory=list)


def first_body_chapter(converted: ConvertedBook) -> int:
    """The chapter where reading starts: the first body-matter one (as the EPUB's guide),
    else the first chapter; its number among the chapters."""
    for number, chapter in enumerate(converted.chapters):
        if chapter.body.get(EPUB_TYPE) == "bodymatter":
            return number
    return 0


def nest(flat: list[tuple[int, str, Position]]) -> list[TocNode]:
    """(level, title, position) in reading order, nested by level as the EPUB's TOC is."""
    roots: list[TocNode] = []
    stack: list[tuple[int, TocNode]] = []
    for level, title, position in flat:
        node = TocNode(title, position)
        while stack and stack[-1][0] >= level:
            stack.pop()
        (stack[-1][1].children if stack else roots).append(node)
        stack.append((level, node))
    return roots


def toc_entries(roots: list[TocNode], text_length: int, kf8: bool) -> list[TocEntry]:
    """The nested TOC as NCX entries, sorted by depth then reading order.

    Kindles require that order (all chapters, then all sections…); parents and children
    refer to places in it. An entry's length runs to the next entry at its level or above,
    so that the device can tell which entry a page belongs to. KF8 entries also carry the
    (fragment, offset) pair, the way KF8 readers locate them.
    """
    flat: list[tuple[int, int, TocNode, int | None]] = []  # depth, order, node, parent order

    def walk(nodes: list[TocNode], depth: int, parent: int | None) -> None:
        for node in nodes:
            order = len(flat)
            flat.append((depth, order, node, parent))
            walk(node.children, depth + 1, order)

    walk(roots, 0, None)
    ordered = sorted(flat, key=lambda item: (item[0], item[1]))
    number_of = {order: number for number, (_, order, _, _) in enumerate(ordered)}
    children: dict[int, list[int]] = {}
    for _, order, _, parent in ordered:
        if parent is not None:
            children.setdefault(parent, []).append(number_of[order])
    # The end of an entry: the first later start at the same depth or above.
    ends: dict[int, int] = {}
    open_entries: list[tuple[int, int]] = []  # (depth, order) not yet ended, reading order
    for depth, order, node, _ in flat:
        while open_entries and open_entries[-1][0] >= depth:
            ends[open_entries.pop()[1]] = node.position.offset
        open_entries.append((depth, order))
    entries = []
    for depth, order, node, parent in ordered:
        offset = node.position.offset
        kids = children.get(order)
        end = max(ends.get(order, text_length), offset)
        entries.append(
            TocEntry(
                title=node.title,
                depth=depth,
                position=offset,
                length=end - offset,
                parent=number_of[parent] if parent is not None else None,
                first_child=kids[0] if kids else None,
                last_child=kids[-1] if kids else None,
                pos_fid=(node.position.fragment, node.position.fragment_offset) if kf8 else None,
            )
        )
    return entries
