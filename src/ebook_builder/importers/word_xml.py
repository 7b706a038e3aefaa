"""What pandoc's DOCX reader cannot see, written into `word/document.xml` as what it
keeps, and read back from pandoc's tree.

Pandoc's reader drops empty paragraphs (a scene break typed as blank lines), bookmarks no
link points at (the build's page markers, `page-N`) and bookmarks between paragraphs
(where a section's id sits), and it tells nothing of page breaks. So before it reads a
DOCX, the document is changed in a copy: a run of empty paragraphs becomes a paragraph of
a mark of ours, a page bookmark a run of text holding its number between marks, the
bookmark the build's DOCX opens a list or signature in a quote with a run of a mark (its
tree puts them back in the quote), a bookmark between paragraphs moves into the next.
The marks are private use characters (U+F8FF) around a name, so no manuscript's text
reads as one; `page_markers`, `run_mark` and `back_into_quotes` read them back from the
tree.
"""

from __future__ import annotations

import io
import re
import zipfile
from collections import Counter
from pathlib import Path
from typing import Any

from lxml import etree

from ebook_builder.formats.docx import IN_QUOTE_BOOKMARK
from ebook_builder.formats.docx.ooxml import M_NS, w, xml_bytes
from ebook_builder.importers.packaged import read_xml
from ebook_builder.importers.tree import Node, elements, is_page_marker, lists, page_marker

DOCUMENT = "word/document.xml"
_PAGE_BOOKMARK = re.compile(r"page-(\w+)")  # the id the build gives a page marker
_PAGE_MARK = "\uf8ffebook-import:page\uf8ff"  # on each side of a page marker's number
_PAGE_MARKS = re.compile(f"{_PAGE_MARK}(.*?){_PAGE_MARK}")
_IN_QUOTE_MARK = "\uf8ffebook-import:in-quote\uf8ff"  # opens an item of a quote's list
# Stand in pandoc's input for a run of empty paragraphs: one long enough to be a scene
# break, or one a paragraph longer than the document's spacing (reported, not a break).
BREAK_RUN = "\uf8ffebook-import:scene-break\uf8ff"
SPACING_RUN = "\uf8ffebook-import:spacing\uf8ff"
# What makes a paragraph without text more than space on the page (a picture, a field, a
# note's reference, a symbol, an equation) or a tracked change pandoc resolves: such a
# paragraph is neither empty nor text, so it ends a run and never borders a break.
_CONTENT = frozenset(
    [w(name) for name in ("drawing", "pict", "object", "fldSimple", "fldChar", "instrText")]
    + [w(name) for name in ("footnoteReference", "endnoteReference", "sym")]
    + [w(name) for name in ("ins", "del", "moveFrom", "moveTo")]
    + [f"{{{M_NS}}}oMath", f"{{{M_NS}}}oMathPara"]
)
_PAGE_BREAKS = ("page", "column")  # `w:br` types that start a new page (or column)
_FALSE = ("0", "false", "off")  # ST_OnOff's false values
_GO_BACK = "_GoBack"  # the bookmark Word keeps at the last edit: no link points at it


def for_pandoc(data: bytes, package: zipfile.ZipFile, source: Path) -> tuple[bytes, int]:
    """The package as pandoc is given it, and the document's spacing (`_mark_empty_runs`).

    Pandoc's reader drops empty paragraphs, bookmarks no link points at and bookmarks
    between paragraphs, so its tree cannot show a scene break typed as blank lines, the
    build's page markers, or where a link to a section leads; so `word/document.xml` is
    changed into what it keeps. The original package, already checked by `open_package`,
    is what the zip checks read; only this copy of it differs, and only when there is
    something to change."""
    document = read_xml(package, DOCUMENT, source, "docx")
    spacing, runs = _mark_empty_runs(document)
    marked = _mark_bookmarks(document)
    moved = _bookmarks_into_paragraphs(document)
    if not runs and not marked and not moved:
        return data, spacing
    return _with_member(package, DOCUMENT, xml_bytes(document)), spacing


def _bookmarks_into_paragraphs(document: Any) -> int:
    """Each bookmark between paragraphs moved into the paragraph after it; how many.

    Pandoc's DOCX writer marks a section so, around its heading (the build's section ids,
    `{#own-id}`); its reader takes a heading's bookmark as the heading's id and points the
    links to it there, but does not see one outside the paragraph."""
    moved = 0
    for bookmark in list(document.iter(w("bookmarkStart"))):
        following = bookmark.getnext()
        in_body = bookmark.getparent().tag == w("body")
        if in_body and following is not None and following.tag == w("p"):
            properties = following.find(w("pPr"))
            following.insert(0 if properties is None else 1, bookmark)
            moved += 1
    return moved


def _mark_bookmarks(document: Any) -> int:
    """Each bookmark of the build's own in a paragraph replaced by a run of text pandoc
    keeps (`_bookmark_mark`); how many."""
    count = 0
    for bookmark in list(document.iter(w("bookmarkStart"))):
        mark = _bookmark_mark(bookmark.get(w("name"), ""))
        if mark is not None and bookmark.getparent().tag == w("p"):
            run = etree.Element(w("r"))
            etree.SubElement(run, w("t")).text = mark
            bookmark.getparent().replace(bookmark, run)
            count += 1
    return count


def _bookmark_mark(name: str) -> str | None:
    """The text standing for a bookmark the build's DOCX writes: a page marker's
    (`page-N`, the marker's id) as N between `_PAGE_MARK`s; an `IN_QUOTE_BOOKMARK` (an
    item of a list, or a signature, in a block quote) as `_IN_QUOTE_MARK`. None for any
    other bookmark."""
    if found := _PAGE_BOOKMARK.fullmatch(name):
        return f"{_PAGE_MARK}{found[1]}{_PAGE_MARK}"
    return _IN_QUOTE_MARK if name.startswith(IN_QUOTE_BOOKMARK) else None


def back_into_quotes(blocks: list[Node], report: list[str]) -> None:
    """Each list (or signature) that `_mark_bookmarks` marked put back into the block
    quote around it, at any depth: pandoc's reader reads a quote, the list, and the rest
    of the quote as three blocks."""
    count = 0
    for held in lists(blocks):
        at = 0
        while at < len(held):
            if not _marked_in_quote(held[at]):
                at += 1
                continue
            count += 1
            start, end = at, at + 1
            if start and held[start - 1].get("t") == "BlockQuote":
                start -= 1
            if end < len(held) and held[end].get("t") == "BlockQuote":
                end += 1
            inner = [
                c for b in held[start:end] for c in (b["c"] if b["t"] == "BlockQuote" else [b])
            ]
            held[start:end] = [{"t": "BlockQuote", "c": inner}]
            at = start + 1
    if count:
        report.append(f"{count} lists or signatures marked as in a block quote put back in it")


def _marked_in_quote(block: Any) -> bool:
    """Whether `block` is a list or a signature that `_IN_QUOTE_MARK` marks as in a
    quote; the marks are taken off."""
    kind = block.get("t") if isinstance(block, dict) else None
    signature = kind == "Div" and "signature" in block["c"][0][1]
    if kind not in ("BulletList", "OrderedList") and not signature:
        return False
    marks = [node for node in elements(block, "Str") if node["c"].startswith(_IN_QUOTE_MARK)]
    for node in marks:
        node["c"] = node["c"].removeprefix(_IN_QUOTE_MARK)
    return bool(marks)


def _mark_empty_runs(document: Any) -> tuple[int, int]:
    """How many empty paragraphs the document usually puts between two paragraphs of
    text (its spacing), and how many runs of them it marks: each run that may be a scene
    break replaced by one paragraph of `BREAK_RUN` (or of `SPACING_RUN`, for a run
    just one longer than the spacing).

    A run counts only between two paragraphs of text at the top of the body (not in a
    table or a content control), with no page turn on either side: the empty paragraphs
    authors leave after a title, at the end, or before or after a page break (a chapter's
    usual start) are spacing. A run before a heading is spacing too, which only pandoc
    knows (heading styles, by name or inheritance), so `_breaks_from_runs` decides there.

    A break is a run of at least two more empty paragraphs than the spacing: Word users
    who double-space by hand type one empty paragraph after each (spacing 1), and one
    more than usual is a slip of the Enter key in such a manuscript as in any other
    (spacing 0, where a lone empty paragraph is no break). The spacing is the commonest
    gap between two paragraphs of text, so it is the document's own habit, not a guess
    of ours.
    """
    body = document.find(w("body"))
    children = list(body) if body is not None else []
    gaps = _gaps([_paragraph_kind(child) for child in children])
    if not gaps:
        return 0, 0
    lengths = Counter(end - start for start, end in gaps)
    spacing = min(lengths, key=lambda length: (-lengths[length], length))
    runs = [(start, end) for start, end in gaps if end - start > spacing]
    for start, end in runs:
        mark = BREAK_RUN if end - start >= spacing + 2 else SPACING_RUN
        body.replace(children[start], _marked_paragraph(mark))
        for child in children[start + 1 : end]:
            body.remove(child)
    return spacing, len(runs)


def _paragraph_kind(element: Any) -> str:
    """`text`, `empty` (no text and nothing else shown: Word's blank line) or `other`
    (a table, a picture, a field, a page turn, a tracked change, a link's target)."""
    if element.tag != w("p") or _turns_page(element):
        return "other"
    if any((text.text or "").strip() for text in element.iter(w("t"))):
        return "text"
    for node in element.iter():
        if node.tag in _CONTENT:
            return "other"
        if node.tag == w("bookmarkStart") and node.get(w("name")) != _GO_BACK:
            return "other"  # a link may point at it; dropping the paragraph would lose it
    return "empty"


def _turns_page(paragraph: Any) -> bool:
    """Whether the paragraph starts or ends with a new page: a page (or column) break in
    it, "page break before" set on it, or a section break (its `w:sectPr`)."""
    properties = paragraph.find(w("pPr"))
    if properties is not None:
        if properties.find(w("sectPr")) is not None:
            return True
        before = properties.find(w("pageBreakBefore"))
        if before is not None and before.get(w("val"), "true") not in _FALSE:
            return True
    return any(br.get(w("type")) in _PAGE_BREAKS for br in paragraph.iter(w("br")))


def _gaps(kinds: list[str]) -> list[tuple[int, int]]:
    """(start, end) of the empty paragraphs between each two successive paragraphs of
    text with nothing else between them (start == end where they touch)."""
    gaps = []
    last_text = None
    for at, kind in enumerate(kinds):
        if kind == "text":
            if last_text is not None:
                gaps.append((last_text + 1, at))
            last_text = at
        elif kind == "other":
            last_text = None
    return gaps


def _marked_paragraph(mark: str) -> Any:
    """A paragraph holding `mark` alone, which pandoc reads as a paragraph of one word."""
    paragraph = etree.Element(w("p"))
    etree.SubElement(etree.SubElement(paragraph, w("r")), w("t")).text = mark
    return paragraph


def _with_member(package: zipfile.ZipFile, name: str, content: bytes) -> bytes:
    """The package's bytes with member `name` replaced by `content`, in memory; stored
    uncompressed, since only pandoc reads it."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_STORED) as copy:
        for member in package.infolist():
            data = content if member.filename == name else package.read(member)
            copy.writestr(zipfile.ZipInfo(member.filename, member.date_time), data)
    return out.getvalue()


def page_markers(blocks: list[Node], report: list[str]) -> None:
    """Each `_PAGE_MARK` text `_mark_bookmarks` left made the page marker it
    stands for, `[]{.pagebreak page="N"}`, in the list of inlines that holds it."""
    count = 0
    for held in lists(blocks):
        if any(_split_page_marks(item) != [item] for item in held):
            held[:] = [piece for item in held for piece in _split_page_marks(item)]
            count += sum(is_page_marker(item) for item in held)
    if count:
        report.append(f"{count} bookmarks named `page-N` made page markers")


def _split_page_marks(node: Any) -> list[Any]:
    """A `Str` cut at each page mark in it, the mark a page-marker span; else `node`."""
    if not isinstance(node, dict) or node.get("t") != "Str" or _PAGE_MARK not in node["c"]:
        return [node]
    pieces = _PAGE_MARKS.split(node["c"])  # text, page, text, page, …, text
    split: list[Any] = []
    for at, piece in enumerate(pieces):
        if at % 2:
            split.append(page_marker(piece))
        elif piece:
            split.append({"t": "Str", "c": piece})
    return split


def run_mark(block: Node) -> str | None:
    """`BREAK_RUN` or `SPACING_RUN` if the block is the paragraph standing for a run
    of empty paragraphs, else None (compared whole: no walk of the block)."""
    if block["t"] != "Para" or len(block["c"]) != 1 or block["c"][0]["t"] != "Str":
        return None
    text = block["c"][0]["c"]
    return text if text in (BREAK_RUN, SPACING_RUN) else None
