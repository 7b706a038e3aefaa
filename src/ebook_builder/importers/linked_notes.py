"""Notes marked only by links, made Markdown notes: a pass of `ebook import` over pandoc's
tree of any source it reads (HTML, EPUB, Markdown), before the tree is split.

Many books mark their notes with nothing but a pair of links: Project Gutenberg's
`<a href="#Footnote_1" class="fnanchor">[1]</a>` leads to a `<div class="footnote">`
(at the end of the book, or after the paragraph) whose `<a href="#FNanchor_1">[1]</a>`
leads back; word processors' HTML and calibre's EPUB of either do the same under other
names (calibre renames every class). No class or epub:type says "note", so the pattern is
the pair itself: a link to an element whose note links back to the reference. A link
without the way back (a table of contents, a cross-reference) stays a link.
"""

from __future__ import annotations

from dataclasses import dataclass

from ebook_builder.importers.tree import (
    ATTR_AT,
    LISTS,
    Node,
    attributed,
    elements,
    list_items,
    nodes,
    plain_text,
)

# Elements whose content is a list of inlines, and where in the content it sits.
_INLINES_AT = {"Para": None, "Plain": None, "Emph": None, "Strong": None, "Span": 1}
_INLINES_AT |= {"Underline": None, "SmallCaps": None, "Superscript": None, "Header": 2}
# A back link this long or shorter is a label (`[1]`, `↩`, `Back`), which the build
# writes its own of; a longer one holds the note's text, and only its link goes.
_LABEL = 6


@dataclass
class _Reference:
    """A link that may be a note reference: where it sits, and the ids a back link from
    the note would name (its own, or that of the empty anchor right before it)."""

    holder: list[Node]
    link: Node
    ids: set[str]


def inline_linked_notes(blocks: list[Node], report: list[str]) -> list[Node]:
    """Each note linked from the text moved into a Markdown note at its reference; the
    blocks that held them dropped, and a heading left over nothing (`FOOTNOTES`) with
    them. Returns the blocks (a note's place removed at any depth)."""
    references = _references(blocks)
    if not references:
        return blocks
    units = _note_units(blocks, set(references))
    moved: set[int] = set()
    for target, unit in units.items():
        reference = references[target]
        if id(unit) in moved or not _is_note(unit, target, reference.ids):
            continue
        at = next((i for i, node in enumerate(reference.holder) if node is reference.link), -1)
        if at < 0 or any(node is reference.link for node in nodes(unit)):
            # The reference went with a note moved before (it was that note's link back),
            # or it sits in this note, which cannot hold itself: it stays a link.
            continue
        moved.add(id(unit))
        content = unit["c"][1] if unit["t"] == "Div" else [unit]
        _strip_note(content, target, reference.ids)
        reference.holder[at] = {"t": "Note", "c": content}
        if at and _is_anchor(reference.holder[at - 1], reference.ids):
            del reference.holder[at - 1]
    if not moved:
        return blocks
    kept, _ = _without(blocks, moved, report)
    report.append(
        f"{len(moved)} notes marked by a link and a link back made notes in the chapters "
        "that cite them"
    )
    return kept


def _references(blocks: list[Node]) -> dict[str, _Reference]:
    """The first link to each `#id`, by the id it points at."""
    found: dict[str, _Reference] = {}
    for holder in elements(blocks, *_INLINES_AT):
        at = _INLINES_AT[holder["t"]]
        inlines = holder["c"] if at is None else holder["c"][at]
        for index, node in enumerate(inlines):
            if node["t"] != "Link" or not node["c"][2][0].startswith("#"):
                continue
            target = node["c"][2][0][1:]
            names = {node["c"][0][0]} - {""}
            if index and inlines[index - 1]["t"] == "Span" and not inlines[index - 1]["c"][1]:
                names |= {inlines[index - 1]["c"][0][0]} - {""}
            if target and names and target not in found:
                found[target] = _Reference(inlines, node, names)
    return found


def _note_units(blocks: list[Node], targets: set[str]) -> dict[str, Node]:
    """For each target id, the block that would be its note: the div that carries the id,
    or the div that opens with the block holding it and holds no other target (PG's
    `<div class="footnote"><p><a id="Footnote_1">`), else that block alone. The walk goes
    into list items, so a list of notes gives one note per item, not the list to the first
    note cited."""
    chains: dict[str, list[Node]] = {}
    stack: list[tuple[list[Node], list[Node]]] = [(blocks, [])]
    while stack:
        level, chain = stack.pop()
        for block in level:
            if block["t"] == "Div":
                if block["c"][0][0] in targets:
                    chains.setdefault(block["c"][0][0], [*chain, block])
                stack.append((block["c"][1], [*chain, block]))
                continue
            if block["t"] in LISTS:
                stack += [(item, [*chain, block]) for item in list_items(block)]
                continue
            for element in attributed(block):
                name = element["c"][ATTR_AT[element["t"]]][0]
                if name in targets:
                    chains.setdefault(name, [*chain, block])
    held: dict[int, int] = {}
    for chain in chains.values():
        for div in chain[:-1]:
            held[id(div)] = held.get(id(div), 0) + 1
    units: dict[str, Node] = {}
    for target, chain in chains.items():
        unit = chain[-1]
        if unit["t"] != "Div" and len(chain) > 1:
            around = chain[-2]  # a div, or the list whose item holds the unit
            if around["t"] == "Div" and held[id(around)] == 1 and around["c"][1][0] is unit:
                unit = around
        units[target] = unit
    return units


def _is_note(unit: Node, target: str, names: set[str]) -> bool:
    """Whether `unit` is a note of the reference: it opens with the target (a note starts
    with its label; the paragraph that cites it, which links to it as well, does not),
    links back to one of the reference's ids, and holds no heading (a heading that links
    back is a chapter's link to its entry in a table of contents)."""
    found = elements(unit, "Link", "Header")
    return (
        _opens_with(unit, target)
        and not any(node["t"] == "Header" for node in found)
        and any(node["c"][2][0][1:] in names for node in found)
    )


def _opens_with(unit: Node, target: str) -> bool:
    """Whether no letter or digit comes before the element of id `target` in `unit`."""
    before: list[str] = []
    for node in nodes(unit):
        at = ATTR_AT.get(node["t"])
        if at is not None and isinstance(node["c"], list) and node["c"][at][0] == target:
            return not any(char.isalnum() for char in "".join(before))
        if node["t"] == "Str":
            before.append(node["c"])
    return False


def _strip_note(content: list[Node], target: str, names: set[str]) -> None:
    """The note's own target anchor and its label linking back taken out (the build writes
    its own number and back link); a longer back link keeps its text."""
    for holder in elements(content, *_INLINES_AT):
        at = _INLINES_AT[holder["t"]]
        inlines = holder["c"] if at is None else holder["c"][at]
        kept: list[Node] = []
        for node in inlines:
            if _is_anchor(node, {target}):
                continue
            if node["t"] == "Link" and node["c"][2][0][1:] in names:
                if len(plain_text(node["c"][1])) > _LABEL:
                    kept += node["c"][1]
                continue
            kept.append(node)
        while kept and kept[0]["t"] in ("Space", "SoftBreak"):
            del kept[0]
        inlines[:] = kept
    if content and content[0]["t"] == "Div" and content[0]["c"][0][0] == target:
        content[0]["c"][0][0] = ""
    content[:] = [block for block in content if not _is_empty_text(block)]


def _is_anchor(node: Node, names: set[str]) -> bool:
    """An empty span whose id is one of `names`: an `<a id>` pandoc kept as a place."""
    return node["t"] == "Span" and not node["c"][1] and node["c"][0][0] in names


def _is_empty_text(block: Node) -> bool:
    """A paragraph emptied of everything (its label gone)."""
    return block["t"] in ("Para", "Plain") and not block["c"]


def _without(blocks: list[Node], moved: set[int], report: list[str]) -> tuple[list[Node], bool]:
    """`blocks` less the moved notes at any depth, less a div they left with nothing to
    read, and less a heading whose section they left so (`FOOTNOTES`). Also says whether
    anything went."""
    kept: list[Node] = []
    lost_after: list[bool] = []  # per kept block: whether notes went right after it
    lost_first = False
    for block in blocks:
        gone = id(block) in moved
        if block["t"] == "Div" and not gone:
            block["c"][1], lost = _without(block["c"][1], moved, report)
            gone = lost and _blank(block["c"][1])
        elif block["t"] in LISTS and not gone:
            items = list_items(block)
            emptied = []
            for item in items:
                item[:], lost = _without(item, moved, report)
                emptied.append(lost and _blank(item))
            items[:] = [item for item, empty in zip(items, emptied, strict=True) if not empty]
            gone = any(emptied) and not items
        if gone:
            if lost_after:
                lost_after[-1] = True
            else:
                lost_first = True
            continue
        kept.append(block)
        lost_after.append(False)
    if not (lost_first or any(lost_after)):
        return kept, False
    return _drop_bare_headings(kept, lost_after, report), True


def _drop_bare_headings(
    blocks: list[Node], lost_after: list[bool], report: list[str]
) -> list[Node]:
    """A heading whose section (up to the next heading of its level or above) lost notes
    and has nothing left to read is dropped, with the blank blocks under it."""
    ends = [len(blocks)] * len(blocks)  # where each heading's section ends
    open_headings: list[int] = []
    for at, block in enumerate(blocks):
        if block["t"] == "Header":
            while open_headings and blocks[open_headings[-1]]["c"][0] >= block["c"][0]:
                ends[open_headings.pop()] = at
            open_headings.append(at)
    dropped: set[int] = set()
    for at, block in enumerate(blocks):
        end = ends[at]
        if block["t"] != "Header" or at in dropped:
            continue
        if any(lost_after[at:end]) and _blank(blocks[at + 1 : end]):
            dropped.update(range(at, end))
            heading = plain_text(block["c"][2])
            report.append(f"dropped the heading `{heading}`: its notes went inline")
    return [block for at, block in enumerate(blocks) if at not in dropped]


def _blank(blocks: list[Node]) -> bool:
    """Nothing a reader reads or sees: no text, no picture, no page-break marker."""
    return not plain_text(blocks) and not any(
        node["t"] == "Image" or (node["t"] == "Span" and "pagebreak" in node["c"][0][1])
        for node in elements(blocks, "Image", "Span")
    )
