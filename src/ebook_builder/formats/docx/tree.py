"""The DOCX writer's input: XHTML as pandoc's document tree, made here, not by pandoc.

Pandoc's HTML reader took most of the DOCX writer's time. The XHTML here is the convert
stage's, checked by the validate stage, so its vocabulary is known; this module maps it onto
pandoc's document model (pandoc-types' JSON) as pandoc's reader would, and pandoc only
writes the DOCX. Footnotes become notes at their reference (the DOCX writer makes real Word
footnotes of them), and each stretch of words is one string: the DOCX writer slows down
badly on word-by-word paragraphs.
"""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Iterator
from functools import cache
from typing import Any

from lxml import etree

from ebook_builder.markup.mathml import MATH, tex_source
from ebook_builder.markup.xhtml import EPUB_TYPE, HTML_MAX_SPAN, XHTML_NS, fold_space, html_integer
from ebook_builder.pandoc import convert_texts

Node = dict[str, Any]
BLOCK_TAGS = {
    "address", "article", "aside", "blockquote", "details", "div", "dl", "dd", "dt",
    "figcaption", "figure", "footer", "h1", "h2", "h3", "h4", "h5", "h6", "header", "hgroup",
    "hr", "li", "main", "nav", "ol", "p", "pre", "section", "summary", "table", "ul",
}  # fmt: skip
INLINE_MARKUP = {
    "em": "Emph", "i": "Emph", "cite": "Emph", "dfn": "Emph", "var": "Emph",
    "strong": "Strong", "b": "Strong",
    "sup": "Superscript", "sub": "Subscript",
    "s": "Strikeout", "del": "Strikeout", "strike": "Strikeout",
    "u": "Underline", "ins": "Underline",
}  # fmt: skip
CODE_TAGS = {"code", "samp", "tt"}
LIST_STYLES = {
    "1": "Decimal", "a": "LowerAlpha", "A": "UpperAlpha", "i": "LowerRoman", "I": "UpperRoman"
}  # fmt: skip
# Word's numbering starts at most at 32767 (its "Start at" box); pandoc's JSON reader,
# taking a 64-bit integer, would refuse a larger `start` past 2**63.
MAX_LIST_START = 32767
ALIGNMENTS = {"left": "AlignLeft", "right": "AlignRight", "center": "AlignCenter"}
# Attributes the DOCX writer uses: styles, language and direction (the rest are for HTML).
KEPT_ATTRIBUTES = ("custom-style", "lang", "dir", "width", "height")


@cache
def api_version() -> list[int]:
    """The document-model version the bundled pandoc reads (asked once per process)."""
    return json.loads(convert_texts([""], "markdown", "json")[0])["pandoc-api-version"]


def document_tree(
    bodies: list[etree._Element], language: str, images: dict[str, str] | None = None
) -> Node:
    """Pandoc's document of the XHTML `bodies`, in order, in the book's language.

    `images` gives, by the source an `<img>` names, what the tree takes instead (the DOCX
    writer gives data URIs).
    """
    images = images or {}
    blocks = [block for body in bodies for block in _Reader(body, images).blocks(body)]
    meta = {"lang": {"t": "MetaInlines", "c": [_str(language)]}}
    return {"pandoc-api-version": api_version(), "meta": meta, "blocks": blocks}


def _local(element: etree._Element) -> str:
    name = element.tag
    if not isinstance(name, str):
        return ""
    return name[len(XHTML_NS) + 2 :] if name.startswith(f"{{{XHTML_NS}}}") else name


def _str(text: str) -> Node:
    return {"t": "Str", "c": text}


def _attr(element: etree._Element) -> list[Any]:
    """Id, classes and the attributes the DOCX writer reads, as pandoc's reader gives them.

    The reader strips `data-` and makes classes of `epub:type`.
    """
    pairs = []
    for name in KEPT_ATTRIBUTES:
        value = element.get(f"data-{name}", element.get(name))
        if value is not None:
            pairs.append([name, value])
    language = element.get("{http://www.w3.org/XML/1998/namespace}lang")
    if language and not any(name == "lang" for name, _ in pairs):
        pairs.append(["lang", language])
    classes = element.get("class", "").split() + element.get(EPUB_TYPE, "").split()
    return [element.get("id", ""), classes, pairs]


class _Reader:
    """One chapter's conversion; it knows the chapter's notes by id, and the images."""

    def __init__(self, body: etree._Element, images: dict[str, str]) -> None:
        self.images = images
        self.notes = {
            aside.get("id"): aside
            for aside in body.iter(f"{{{XHTML_NS}}}aside")
            if aside.get(EPUB_TYPE) == "footnote"
        }

    # --- blocks ---

    def blocks(self, parent: etree._Element) -> list[Node]:
        """The blocks of a container: block children, with runs of inline content as Plain."""
        blocks: list[Node] = []
        pending: list[Node] = list(self._text(parent.text))
        for child in parent:
            if _local(child) in BLOCK_TAGS:
                blocks += _plain(pending)
                pending = []
                blocks += self.block(child)
            else:
                pending += self.inline(child)
            pending += self._text(child.tail)
        return blocks + _plain(pending)

    def block(self, element: etree._Element) -> list[Node]:
        name = _local(element)
        if name == "aside" and element.get(EPUB_TYPE) == "footnote":
            return []  # at its reference, as a note
        if name == "p":
            inlines = _trimmed(self.inlines(element))
            return [{"t": "Para", "c": inlines}] if inlines else []
        if name in {"h1", "h2", "h3", "h4", "h5", "h6"}:
            header = [int(name[1]), _attr(element), _trimmed(self.inlines(element))]
            return [{"t": "Header", "c": header}]
        if name == "blockquote":
            return [{"t": "BlockQuote", "c": self.blocks(element)}]
        if name in {"ul", "ol"}:
            return [self._list(element, name)]
        if name == "dl":
            return [self._definitions(element)]
        if name == "hr":
            return [{"t": "HorizontalRule"}]
        if name == "pre":
            return [_code("CodeBlock", element)]
        if name == "table":
            return [self._table(element)]
        if name == "figure":
            return [self._figure(element)]
        attr = _attr(element)
        if name == "section":
            attr[1] = ["section", *attr[1]]
        return [{"t": "Div", "c": [attr, self.blocks(element)]}]

    def _list(self, element: etree._Element, name: str) -> Node:
        items = [self.blocks(item) for item in element if _local(item) == "li"]
        if name == "ul":
            return {"t": "BulletList", "c": items}
        start = max(1, html_integer(element.get("start"), 1, MAX_LIST_START))
        style = LIST_STYLES.get(element.get("type", ""), "DefaultStyle")
        return {"t": "OrderedList", "c": [[start, {"t": style}, {"t": "DefaultDelim"}], items]}

    def _definitions(self, element: etree._Element) -> Node:
        entries: list[list[Any]] = []
        for child in element:
            if _local(child) == "dt":
                entries.append([_trimmed(self.inlines(child)), []])
            elif _local(child) == "dd":
                if not entries:
                    entries.append([[], []])
                entries[-1][1].append(self.blocks(child))
        return {"t": "DefinitionList", "c": entries}

    def _figure(self, element: etree._Element) -> Node:
        captions = [c for c in element if _local(c) == "figcaption"]
        for caption in captions:
            element = _without(element, caption)
        caption_blocks = self.blocks(captions[0]) if captions else []
        return {"t": "Figure", "c": [_attr(element), [None, caption_blocks], self.blocks(element)]}

    def _table(self, element: etree._Element) -> Node:
        caption = next((c for c in element if _local(c) == "caption"), None)
        widths = [_percent(col.get("style", "")) for col in element.iter(f"{{{XHTML_NS}}}col")]
        head_rows, body_rows, foot_rows = [], [], []
        for part in element:
            rows = [r for r in part if _local(r) == "tr"] if _local(part) != "tr" else [part]
            target = {"thead": head_rows, "tfoot": foot_rows}.get(_local(part), body_rows)
            target += [self._row(row) for row in rows]
        columns = max(_evened(rows) for rows in (head_rows, body_rows, foot_rows))
        for rows in (head_rows, body_rows, foot_rows):
            _evened(rows, columns)
        widths += [None] * (columns - len(widths))
        # Alignment stays with each cell, as pandoc's reader leaves it.
        specs = [
            [{"t": "AlignDefault"}, {"t": "ColWidth", "c": w} if w else {"t": "ColWidthDefault"}]
            for w in widths[:columns]
        ]
        blank = ["", [], []]
        caption_blocks = self.blocks(caption) if caption is not None else []
        return {
            "t": "Table",
            "c": [
                _attr(element),
                [None, caption_blocks],
                specs,
                [blank, head_rows],
                [[blank, 0, [], body_rows]],
                [blank, foot_rows],
            ],
        }

    def _row(self, row: etree._Element) -> list[Any]:
        cells = []
        for cell in row:
            if _local(cell) not in {"td", "th"}:
                continue
            rows = html_integer(cell.get("rowspan"), 1, HTML_MAX_SPAN["rowspan"]) or 1
            columns = html_integer(cell.get("colspan"), 1, HTML_MAX_SPAN["colspan"]) or 1
            cells.append([["", [], []], {"t": _alignment(cell)}, rows, columns, self.blocks(cell)])
        return [_attr(row), cells]

    # --- inlines ---

    def inlines(self, parent: etree._Element) -> list[Node]:
        nodes = list(self._text(parent.text))
        for child in parent:
            nodes += self.inline(child)
            nodes += self._text(child.tail)
        return _joined(nodes)

    def inline(self, element: etree._Element) -> list[Node]:
        name = _local(element)
        if not name:
            return []  # a comment or processing instruction
        if element.tag == MATH:
            # Pandoc's DOCX writer makes a Word equation (OMML) of a formula's TeX.
            kind = "DisplayMath" if element.get("display") == "block" else "InlineMath"
            return [{"t": "Math", "c": [{"t": kind}, tex_source(element)]}]
        if name in INLINE_MARKUP:
            return [{"t": INLINE_MARKUP[name], "c": self.inlines(element)}]
        if name in CODE_TAGS:
            return [_code("Code", element)]
        if name == "br":
            return [{"t": "LineBreak"}]
        if name == "bdi":  # as pandoc reads it: its text (Word isolates runs by their script)
            return self.inlines(element)
        if name == "q":
            return [{"t": "Quoted", "c": [{"t": "DoubleQuote"}, self.inlines(element)]}]
        if name == "a":
            return self._link(element)
        if name == "img":
            alt = _joined(list(self._text(element.get("alt", ""))))
            source = element.get("src", "")
            target = [self.images.get(source, source), element.get("title", "")]
            return [{"t": "Image", "c": [_attr(element), alt, target]}]
        if name == "span" and "smallcaps" in element.get("class", "").split():
            return [{"t": "SmallCaps", "c": self.inlines(element)}]
        attr = _attr(element)
        if name != "span":  # as pandoc: `<kbd>`, `<abbr>`, `<mark>` are classes of a span
            attr[1] = [name, *attr[1]]
        return [{"t": "Span", "c": [attr, self.inlines(element)]}]

    def _link(self, element: etree._Element) -> list[Node]:
        if element.get("role") == "doc-backlink":
            return []
        if element.get(EPUB_TYPE) == "noteref":
            aside = self.notes.get(element.get("href", "").lstrip("#"))
            if aside is None:
                return []
            # Text straight in the note is a paragraph of it, as pandoc reads its notes.
            blocks = [{**b, "t": "Para"} if b["t"] == "Plain" else b for b in self.blocks(aside)]
            return [{"t": "Note", "c": blocks}]
        target = [element.get("href", ""), element.get("title", "")]
        return [{"t": "Link", "c": [_attr(element), self.inlines(element), target]}]

    @staticmethod
    def _text(text: str | None) -> Iterator[Node]:
        if text:
            yield _str(fold_space(text))


def _code(kind: str, element: etree._Element) -> Node:
    """Code, with its language only where pandoc highlighted it in the XHTML (`sourceCode`).

    Pandoc's DOCX writer colours code whose classes name a language, so the DOCX is
    coloured where the EPUB is, and nowhere else.
    """
    identifier, classes, pairs = _attr(element)
    if "sourceCode" not in classes:
        classes = []
    return {"t": kind, "c": [[identifier, classes, pairs], "".join(element.itertext())]}


def _joined(nodes: list[Node]) -> list[Node]:
    """Adjacent strings as one, runs of spaces as one space, no space around a line break.

    Every string is folded already (`fold_space`): only where two meet can spaces pile up.
    """
    joined: list[Node] = []
    for node in nodes:
        previous = joined[-1]["t"] if joined else None
        if node["t"] == "Str" and previous == "LineBreak":
            node = _str(node["c"].lstrip(" "))
        if node["t"] == "LineBreak" and previous == "Str":
            joined[-1] = _str(joined[-1]["c"].rstrip(" "))
        if node["t"] == "Str" and previous == "Str":
            text = joined[-1]["c"]
            joined[-1] = _str(text + (node["c"].lstrip(" ") if text.endswith(" ") else node["c"]))
        elif node["t"] != "Str" or node["c"]:
            joined.append(node)
    return [node for node in joined if node["t"] != "Str" or node["c"]]


def _trimmed(inlines: list[Node]) -> list[Node]:
    """Inlines without the spaces at their ends (HTML's whitespace at block edges)."""
    inlines = list(inlines)
    if inlines and inlines[0]["t"] == "Str":
        inlines[0] = _str(inlines[0]["c"].lstrip(" "))
    if inlines and inlines[-1]["t"] == "Str":
        inlines[-1] = _str(inlines[-1]["c"].rstrip(" "))
    return [node for node in inlines if node["t"] != "Str" or node["c"]]


def _plain(inlines: list[Node]) -> list[Node]:
    inlines = _trimmed(_joined(inlines))
    return [{"t": "Plain", "c": inlines}] if inlines else []


def _without(element: etree._Element, child: etree._Element) -> etree._Element:
    """A copy of `element` without `child` (the figure's caption goes its own way)."""
    clone = etree.Element(element.tag, dict(element.attrib))
    clone.text = element.text
    for other in element:
        if other is not child:
            clone.append(copy.deepcopy(other))
    return clone


def _evened(rows: list[list[Any]], columns: int = 0) -> int:
    """A table part's rows made even, in place; the columns it needs.

    HTML lets a row be short and a span run past the end of its part; pandoc's DOCX
    writer fails on both. Spans are cut at the part's end and short rows get empty cells
    up to `columns` (the table's widest row).
    """
    taken: dict[int, set[int]] = {number: set() for number in range(len(rows))}
    width = 0
    for number, (_, cells) in enumerate(rows):
        column = 0
        for cell in cells:
            cell[2] = min(cell[2], len(rows) - number)
            while column in taken[number]:
                column += 1
            for down in range(cell[2]):
                taken[number + down].update(range(column, column + cell[3]))
            column += cell[3]
        width = max(width, max(taken[number], default=-1) + 1)
        for _ in range(columns - len(taken[number])):
            cells.append([["", [], []], {"t": "AlignDefault"}, 1, 1, []])
    return width


def _alignment(cell: etree._Element) -> str:
    match = re.search(r"text-align:\s*(\w+)", cell.get("style", ""))
    return ALIGNMENTS.get(match.group(1) if match else cell.get("align", ""), "AlignDefault")


def _percent(style: str) -> float | None:
    match = re.search(r"width:\s*([\d.]+)%", style)
    return float(match.group(1)) / 100 if match else None
