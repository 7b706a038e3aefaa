"""KEPUB writer: the EPUB, marked up for the renderer of Kobo's e-readers and apps.

A Kobo reads a sideloaded book with its own renderer (the "kepub" one, with reading
statistics, better typography and pop-up notes) only when the file is named
`*.kepub.epub`, and that renderer finds its way through the text by markup that Kobo adds
to the books it sells. This module takes the EPUB writer's archive and adds that markup to
each content document, as Kobo's own books and kepubify have it:

- every run of text is cut into sentences, each in `<span class="koboSpan"
  id="kobo.P.S">` (P counts blocks of text, S the sentences within one); Kobo stores the
  reading position, bookmarks and highlights as these ids, and they do not work without;
- the body's content is wrapped in `div#book-columns > div#book-inner`, the elements its
  pagination styles and script address;
- a `<style id="kobostylehacks">` keeps those wrappers from adding margins.

The rest is already what a Kobo needs, so it is left as the EPUB writer made it: the cover
image is declared both ways Kobo looks for it, `properties="cover-image"` (the only one the
kepub renderer reads, kepubify found) and `<meta name="cover">` (which Kobo's guidelines name
for the library thumbnail), on a page of its own, first in the spine, which Kobo shows
full screen; notes are `aside`s after their references, which Kobo shows as
pop-ups (its e-ink rule: a link to a later element of 9 to 5,000 characters), with links
back. The navigation document gets no spans: Kobo reads its table of contents from it.
No `kobo.js` is added: the device does without it (kepubify adds none either), and a
script would make every document "scripted" for EPUBCheck.
"""

from __future__ import annotations

import io
import posixpath
import re
import zipfile
from functools import lru_cache
from pathlib import Path
from urllib.parse import unquote

from lxml import etree

from ebook_builder.errors import BookError
from ebook_builder.formats.epub import OPF_NS, package_path, render_epub
from ebook_builder.lines import locate
from ebook_builder.markup.xhtml import HTML_SPACE, XHTML_NS, safe_parser, tag
from ebook_builder.model import ConvertedBook

KOBO_CSS = "div#book-inner { margin-top: 0; margin-bottom: 0; }"
# The ids the markup adds; a chapter's own id equal to one of them would be a duplicate.
RESERVED_ID = re.compile(r"book-columns|book-inner|kobo\.\d+\.\d+")
# A sentence ends at . ! or ?, perhaps with one quote mark or ellipsis, before whitespace
# (kepubify's rule, which matches Kobo's books); the whitespace stays with its sentence.
SENTENCE_END = re.compile(r"[.!?]+['\"”’“…]?[ \t\n\r\f]+")
# Elements whose text Kobo leaves whole. `picture` and `rp` also cannot hold a span.
UNSPANNED = {tag(name) for name in ("script", "style", "pre", "audio", "video", "picture", "rp")}
# Elements that start a new paragraph number, as in Kobo's books.
BLOCKS = {tag(name) for name in ("p", "ol", "ul", "table", "h1", "h2", "h3", "h4", "h5", "h6")}


def write_kepub(converted: ConvertedBook, path: Path) -> None:
    """Write the book as a Kobo EPUB (`.kepub.epub`) at `path`."""
    path.write_bytes(render_kepub(converted))


def render_kepub(converted: ConvertedBook) -> bytes:
    """The `.kepub.epub` file's bytes: the EPUB with Kobo's markup in its content documents.

    Each zip entry keeps the EPUB writer's name, order, date, compression and attributes
    (`mimetype` first and stored), so the file is as reproducible as the `.epub`.
    """
    _check_reserved_ids(converted)
    source = zipfile.ZipFile(io.BytesIO(render_epub(converted)))
    documents = _content_documents(source)
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as target:
        for info in source.infolist():
            data = source.read(info)
            if info.filename in documents:
                data = kobo_document(data)
            entry = zipfile.ZipInfo(info.filename, date_time=info.date_time)
            entry.compress_type = info.compress_type
            entry.create_system = info.create_system
            entry.external_attr = info.external_attr
            target.writestr(entry, data)
    return out.getvalue()


@lru_cache(maxsize=128)
def kobo_document(content: bytes) -> bytes:
    """One XHTML content document with Kobo's style, wrapper divs and sentence spans.

    Kept by content: in `ebook watch`, a rebuild spans again only the chapters edited.
    """
    html = etree.fromstring(content, safe_parser())
    style = etree.SubElement(html.find(tag("head")), tag("style"), type="text/css")
    style.set("id", "kobostylehacks")
    style.text = KOBO_CSS
    body = html.find(tag("body"))
    children = list(body)
    # The wrappers are made inside the body: lxml moving a subtree in from another tree
    # is quadratic in its size (3 s for a chapter of 40,000 sections).
    columns = etree.SubElement(body, tag("div"), id="book-columns")
    inner = etree.SubElement(columns, tag("div"), id="book-inner")
    inner.text, body.text = body.text, None
    inner.extend(children)
    _add_spans(inner, _SpanIds())
    return etree.tostring(html, xml_declaration=True, encoding="utf-8", doctype="<!DOCTYPE html>")


class _SpanIds:
    """Kobo's span ids in document order: `kobo.P.S`, the S-th sentence of block P.

    A block (see `BLOCKS`) only takes a number once text follows it, and an image is a
    block of its own, as in Kobo's books. Both numbers only grow, so ids never repeat.
    """

    def __init__(self) -> None:
        self.block = 0
        self.sentence = 0
        self.new_block = True

    def next(self) -> str:
        if self.new_block:
            self.block, self.sentence, self.new_block = self.block + 1, 0, False
        self.sentence += 1
        return f"kobo.{self.block}.{self.sentence}"


def _add_spans(parent: etree._Element, ids: _SpanIds) -> None:
    """Put the text inside `parent` (its own and its descendants') into Kobo's spans.

    The spans go in beside the children, which stay where they are: taking the children
    out and putting them back would move each whole subtree, and lxml then re-resolves
    the namespace of every element in it, which is quadratic in a long chapter.
    """
    children = list(parent)
    text, parent.text = parent.text or "", None
    _place(parent, None, _sentence_spans(text, parent, ids))
    for child in children:
        tail, child.tail = child.tail or "", None
        before = child.getprevious()
        spanned = _spanned_element(child, ids)
        if spanned is not child:  # the child went into a span: the span takes its place
            if before is None:
                parent.insert(0, spanned)
            else:
                before.addnext(spanned)
        _place(parent, spanned, _sentence_spans(tail, parent, ids))


def _place(
    parent: etree._Element, after: etree._Element | None, pieces: list[str | etree._Element]
) -> etree._Element | None:
    """Put `pieces` (spans, and whitespace left bare) in `parent` right after `after` (at
    its start when None); the last element placed, or `after`."""
    for piece in pieces:
        if isinstance(piece, str):
            if after is None:
                parent.text = (parent.text or "") + piece
            else:
                after.tail = (after.tail or "") + piece
        elif after is None:
            parent.insert(0, piece)
            after = piece
        else:
            after.addnext(piece)
            after = piece
    return after


def _spanned_element(element: etree._Element, ids: _SpanIds) -> etree._Element:
    """The element with its text in spans; an image comes back inside a span of its own.

    SVG, MathML and comments are left alone: only XHTML text is spanned. So is a `<time>`
    without a `datetime` attribute: HTML then reads the date from its text, and allows it
    nothing else (EPUBCheck refuses a span in it).
    """
    name = element.tag
    if not isinstance(name, str) or not name.startswith(f"{{{XHTML_NS}}}") or name in UNSPANNED:
        return element
    if name == tag("time") and element.get("datetime") is None:
        return element
    if name == tag("img"):
        ids.new_block = True
        span = _kobo_span(ids.next())
        span.append(element)
        return span
    if name in BLOCKS:
        ids.new_block = True
    _add_spans(element, ids)
    return element


def _sentence_spans(text: str, parent: etree._Element, ids: _SpanIds) -> list[str | etree._Element]:
    """The text as one span per sentence.

    Whitespace alone stays bare text (the indentation between blocks), except directly in
    a paragraph, where Kobo spans it too: there it separates words.
    """
    pieces: list[str | etree._Element] = []
    if not text:
        return pieces
    for sentence in split_sentences(text):
        if HTML_SPACE.fullmatch(sentence) and parent.tag != tag("p"):
            pieces.append(sentence)
        else:
            span = _kobo_span(ids.next())
            span.text = sentence
            pieces.append(span)
    return pieces


def split_sentences(text: str) -> list[str]:
    """`text` cut after each sentence's closing punctuation and the whitespace after it."""
    cuts = [m.end() for m in SENTENCE_END.finditer(text) if m.end() < len(text)]
    return [text[start:end] for start, end in zip([0, *cuts], [*cuts, len(text)], strict=True)]


def _kobo_span(span_id: str) -> etree._Element:
    return etree.Element(tag("span"), {"class": "koboSpan", "id": span_id})


def _content_documents(epub: zipfile.ZipFile) -> set[str]:
    """The zip names of the XHTML content documents, the navigation document excepted."""
    opf_name = package_path(epub)
    package = etree.fromstring(epub.read(opf_name), safe_parser())
    return {
        posixpath.join(posixpath.dirname(opf_name), unquote(item.get("href", "")))
        for item in package.iter(f"{{{OPF_NS}}}item")
        if item.get("media-type") == "application/xhtml+xml"
        and "nav" not in item.get("properties", "").split()
    }


def _check_reserved_ids(converted: ConvertedBook) -> None:
    """Refuse a chapter id that Kobo's markup adds (`book-inner`, `kobo.3.1`…).

    The id would appear twice in the document, and Kobo would find the wrong element.
    """
    for chapter in converted.chapters:
        for element in chapter.body.iter():
            value = element.get("id")
            if value and RESERVED_ID.fullmatch(value):
                raise BookError(
                    f"id {value!r} is used by Kobo's markup in the .kepub.epub: choose another",
                    path=chapter.source.display_path,
                    line=locate(chapter.source.text, value),
                )
