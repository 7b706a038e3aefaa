"""Pandoc's JSON document tree, as every reader of `ebook import` walks it: its elements
and lists in document order, their ids, and the plain text a reader sees.

Pandoc's readers (Markdown, HTML, DOCX, EPUB) all give this one tree, so each pass over
a source is written once, against it, whichever module holds the pass.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

Node = dict[str, Any]
# Where an element's attributes sit in its content (`Header` has its level first).
ATTR_AT = {"Header": 1, "Div": 0, "Span": 0, "Link": 0, "Image": 0, "Code": 0}
ATTR_AT |= {"CodeBlock": 0, "Table": 0, "Figure": 0}


def nodes(node: Any) -> Iterator[Node]:
    """Every element of pandoc's tree `node`, in document order.

    Walked with a stack of its own: a recursive generator passes each element up through
    every enclosing `yield from`, so a walk cost the elements times their depth (half the
    time of importing a novel's EPUB, walked a dozen times).
    """
    stack = [node]
    while stack:
        current = stack.pop()
        if isinstance(current, list):
            stack.extend(reversed(current))
        elif isinstance(current, dict):
            yield current
            content = current.get("c")
            if isinstance(content, list | dict):  # not a Str's text: no elements in it
                stack.append(content)


def lists(node: Any) -> Iterator[list[Any]]:
    """Every list in pandoc's tree `node`, outermost first; each is yielded before the
    walk goes into it, so a caller may change it in place first."""
    stack = [node]
    while stack:
        current = stack.pop()
        if isinstance(current, list):
            yield current
            stack.extend(item for item in reversed(current) if isinstance(item, list | dict))
        elif isinstance(current.get("c"), list):
            stack.append(current["c"])


LISTS = ("BulletList", "OrderedList")


def list_items(block: Node) -> list[list[Node]]:
    """The items of a bullet or ordered list, each a list of blocks: the list itself, so
    that a pass may change them in place."""
    return block["c"] if block["t"] == "BulletList" else block["c"][1]


def blocks_in(blocks: list[Node]) -> Iterator[Node]:
    """Every block of `blocks` and of the blocks inside them (divs, quotes, lists,
    figures, tables' caption and cells: PG's title pages are laid out in tables, their
    headings in the cells), in document order, without walking the inlines of a
    paragraph: a pass that looks only at blocks (headings, divs) costs the blocks, not
    the book's every word."""
    stack: list[Node] = list(reversed(blocks))
    while stack:
        block = stack.pop()
        yield block
        kind, content = block["t"], block.get("c")
        if kind == "Div" or kind == "Figure":
            inner = content[-1]
        elif kind == "BlockQuote":
            inner = content
        elif kind in LISTS:
            inner = [child for item in list_items(block) for child in item]
        elif kind == "DefinitionList":
            inner = [child for _, meanings in content for meaning in meanings for child in meaning]
        elif kind == "Table":
            _, caption, _, head, bodies, foot = content
            rows = [*head[1], *(row for body in bodies for row in body[2] + body[3]), *foot[1]]
            inner = [*caption[1], *(child for row in rows for cell in row[1] for child in cell[4])]
        else:
            continue
        stack.extend(reversed(inner))


def elements(node: Any, *kinds: str) -> list[Node]:
    """Every element of one of the types `kinds` inside `node`, in document order: one
    walk for all the kinds a pass needs (a novel's tree has a million elements)."""
    wanted = set(kinds)
    return [element for element in nodes(node) if element.get("t") in wanted]


def attributed(node: Any) -> list[Node]:
    """Every element of `node` that carries attributes (id, classes, key-values)."""
    return [
        element
        for element in nodes(node)
        if element.get("t") in ATTR_AT and isinstance(element.get("c"), list)
    ]


def ids(nodes: list[Node]) -> list[str]:
    """Every id set on one of `nodes` (elements that carry attributes), in their order."""
    found = (node["c"][ATTR_AT[node["t"]]][0] for node in nodes)
    return [id_ for id_ in found if id_]


def plain_text(node: Any) -> str:
    """The plain text of a tree node (inlines, blocks or a metadata value): what a reader
    reads on the page, so not a picture's alt text, a note, code or raw markup."""
    parts: list[str] = []

    def walk(item: Any) -> None:
        if isinstance(item, list):
            for child in item:
                walk(child)
        elif isinstance(item, dict):
            kind = item.get("t")
            if kind in ("Str", "MetaString"):
                parts.append(item["c"])
            elif kind in ("Space", "SoftBreak", "LineBreak"):
                parts.append(" ")
            elif kind not in ("Note", "Code", "RawInline", "RawBlock", "Image"):
                walk(item.get("c"))

    walk(node)
    return " ".join("".join(parts).split())


def page_marker(page: str, id_: str = "") -> Node:
    """The build's page-break marker for print page `page`: `[]{.pagebreak page="N"}` in
    its Markdown, with the id links to the page name when it has one."""
    return {"t": "Span", "c": [[id_, ["pagebreak"], [["page", page]] if page else []], []]}


def is_page_marker(node: Any) -> bool:
    """Whether `node` is a page-break marker as `page_marker` makes it."""
    return (
        isinstance(node, dict)
        and node.get("t") == "Span"
        and node["c"][0][1] == ["pagebreak"]
        and not node["c"][1]
    )


def broken_lines(inlines: list[Node]) -> list[list[Node]]:
    """`inlines` cut at each line break into a line block's lines; a soft break is a
    space, and none opens a line."""
    lines: list[list[Node]] = [[]]
    for node in inlines:
        if node["t"] == "LineBreak":
            lines.append([])
        elif node["t"] != "SoftBreak" or lines[-1]:
            lines[-1].append({"t": "Space"} if node["t"] == "SoftBreak" else node)
    return lines
