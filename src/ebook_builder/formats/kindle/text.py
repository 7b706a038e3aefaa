"""The KF8 text layer: XHTML files cut into skeletons and fragments, with Kindle links.

What a KF8 reader expects of the text (MobileRead wiki, "KF8"; KindleUnpack's description of
how it rebuilds the files):

- Each XHTML file of the book is stored as a *skeleton* — the file with pieces of its body
  cut out — followed by those pieces, the *fragments*. The SKEL index says where each
  skeleton is; the FRAG index says, for each fragment, where it is inserted (a byte
  position in the file as rebuilt so far, counted from the start of the text) and into
  which element (`P-//*[@aid='X']`, or after which sibling: `S-…`). A Kindle loads the
  fragments of the page it shows, not the whole file, so fragments stay near 8 KiB.
- Elements carry an `aid` attribute, a base-32 number unique in the book, written as the
  last attribute (as KindleGen does): fragment selectors name their parent by it.
- Links inside the book are `kindle:pos:fid:FFFF:off:OOOOOOOOOO`: fragment number (4 base-32
  digits) and the byte offset from the fragment's insert position to the target's `<`
  (10 digits). A target that lies in a skeleton (a split container's start tag) is reached
  through the next fragment, at offset 0, where the container's content begins.
- Images are `kindle:embed:NNNN?mime=…` (1-based resource number in base 32), the stylesheet
  is flow 1: `kindle:flow:0001?mime=text/css`.
- Readers parse the markup as HTML: an empty `<span/>` would open an element that never
  closes, so every empty element that is not void is written `<span></span>`.

Links are first written as fixed-length placeholders and patched once every fragment's place
is known; equal lengths keep every computed position valid.
"""

from __future__ import annotations

import bisect
import re
from dataclasses import dataclass, field
from urllib.parse import unquote, urlsplit

from lxml import etree

from ebook_builder.convert import chapter_files
from ebook_builder.formats.kindle.indexes import Fragment, Skeleton
from ebook_builder.formats.kindle.navigation import Position, TocNode, first_body_chapter, nest
from ebook_builder.formats.kindle.resources import as_pictures
from ebook_builder.markup.xhtml import (
    HEADING_TAGS,
    NSMAP,
    VOID_TAGS,
    XHTML_NS,
    XML_LANG,
    heading_entries,
    tag,
)
from ebook_builder.model import TOC_DEPTH, ConvertedBook

CHUNK_SIZE = 8192
AID = "aid"
CID = "cid"
BASE32 = "0123456789ABCDEFGHIJKLMNOPQRSTUV"
STYLESHEET_HREF = "kindle:flow:0001?mime=text/css"
PROLOGUE = b'<?xml version="1.0" encoding="UTF-8"?>\n<!DOCTYPE html>\n'
_PLACEHOLDER = "kindle:pos:fid:0000:off:{:010d}"
_PLACEHOLDER_RE = re.compile(rb'href="kindle:pos:fid:0000:off:(\d{10})"')
_MARKER_RE = re.compile(rb' [ac]id="(c?[0-9A-V]+)"/?>')


def base32(number: int, width: int) -> str:
    """`number` in the Kindle's base 32 (digits 0-9, A-V), zero-padded to `width`."""
    digits = ""
    while True:
        number, digit = divmod(number, 32)
        digits = BASE32[digit] + digits
        if not number:
            break
    return digits.rjust(width, "0")


def embed_uri(resource: int) -> str:
    """A resource's URI: `resource` counts from 0, the URI from 1, in base 32."""
    return f"kindle:embed:{base32(resource + 1, 4)}"


def embed_href(resource: int, media_type: str) -> str:
    """The `src` of an image."""
    return f"{embed_uri(resource)}?mime={media_type}"


@dataclass
class KF8Text:
    """Flow 0 of a KF8 book and the tables that describe it."""

    text: bytes
    skeletons: list[Skeleton]
    fragments: list[Fragment]
    toc: list[TocNode]
    start: Position  # where reading begins: the first body-matter chapter


@dataclass
class _File:
    """One chapter on its way through the layer."""

    body: etree._Element
    data: bytes = b""
    starts: dict[str, tuple[int, int]] = field(default_factory=dict)
    pieces: list[tuple[int, int, str]] = field(default_factory=list)
    skeleton_start: int = 0
    first_fragment: int = 0


def build_text(
    converted: ConvertedBook,
    image_resources: dict[str, tuple[int, str]],
) -> KF8Text:
    """Flow 0 for `converted`. `image_resources` maps an image href to (resource, media
    type)."""
    documents = converted.documents
    files = [_File(as_pictures(document.body)) for document in documents]
    targets = _rewrite_links(converted, files)
    counter = 0
    for file in files:
        _rewrite_images(file.body, image_resources)
        counter = _add_aids(file.body, counter)
    toc_targets = _toc_targets(files, len(converted.front_matter), len(converted.chapters))
    language = converted.book.metadata.language
    for document, file in zip(documents, files, strict=True):
        file.data = _serialise(file.body, document.title, language)
        file.starts = _start_tags(file.data)
        file.pieces = _fragments(file.data, file.body, file.starts)

    skeletons, fragments, parts = _assemble(files)
    text = b"".join(parts)

    def locate(target: tuple[int, etree._Element | None]) -> Position:
        return _position(files, fragments, *target)

    def patch(match: re.Match[bytes]) -> bytes:
        place = locate(targets[int(match.group(1))])
        href = f"kindle:pos:fid:{base32(place.fragment, 4)}:off:{base32(place.fragment_offset, 10)}"
        return f'href="{href}"'.encode()

    text = _PLACEHOLDER_RE.sub(patch, text)
    toc = nest([(level, title, locate(target)) for level, title, target in toc_targets])
    start = locate((len(converted.front_matter) + first_body_chapter(converted), None))
    return KF8Text(text, skeletons, fragments, toc, start)


def _rewrite_links(
    converted: ConvertedBook, files: list[_File]
) -> list[tuple[int, etree._Element | None]]:
    """Point internal links at placeholders; return the target of each placeholder.

    `files` are the book's documents (`ConvertedBook.documents`); only chapters hold ids.
    """
    ids: dict[str, tuple[int, etree._Element]] = {}
    for number, file in enumerate(files):
        for element in file.body.iter():
            if isinstance(element.tag, str) and element.get("id"):
                ids.setdefault(element.get("id"), (number, element))
    names = chapter_files(converted.chapters)
    file_numbers = {document.file_name: n for n, document in enumerate(converted.documents)}
    targets: list[tuple[int, etree._Element | None]] = []
    for file in files:
        for link in file.body.iter(tag("a")):
            href = link.get("href")
            if href is None:
                continue
            parts = urlsplit(href)
            if parts.scheme or parts.netloc:
                continue
            if parts.path:
                chapter = names.get(unquote(parts.path))
                if chapter is None:
                    continue
                number = file_numbers[chapter]
                found = ids.get(unquote(parts.fragment)) if parts.fragment else None
                target = found if found and found[0] == number else (number, None)
            else:
                target = ids.get(unquote(parts.fragment))
            if target is None:
                continue  # validation refuses broken links; never point into nowhere
            link.set("href", _PLACEHOLDER.format(len(targets)))
            targets.append(target)
    return targets


def _rewrite_images(body: etree._Element, image_resources: dict[str, tuple[int, str]]) -> None:
    """Point images at their resource records; any other becomes its alt."""
    for image in list(body.iter(tag("img"))):
        source = unquote(image.get("src", ""))
        found = image_resources.get(source)
        if found is not None:
            image.set("src", embed_href(*found))
            continue
        stand_in = etree.Element(tag("span"))
        stand_in.set("class", "image-alt")
        stand_in.text = image.get("alt", "")
        stand_in.tail = image.tail
        image.getparent().replace(image, stand_in)


def _add_aids(body: etree._Element, counter: int) -> int:
    """Give every non-void element (and any with an id) an aid; close empty elements.

    Tables get none: Kindle renderers fail on large tables whose cells carry aids (calibre
    found this, bug 1489495). A link target inside a table gets a `cid` instead, which only
    this writer reads, to find its position.
    """
    table = tag("table")
    for element in body.iter():
        if not isinstance(element.tag, str):
            continue
        for marker in (AID, CID):  # a chapter's raw HTML may carry its own: ours must be last
            element.attrib.pop(marker, None)
        qname = etree.QName(element)
        name = qname.localname
        if qname.namespace != XHTML_NS:
            continue  # SVG, MathML: Kindles know aids on HTML elements only
        if element.tag == table or any(True for _ in element.iterancestors(table)):
            if element.get("id"):
                element.set(CID, f"c{counter}")
                counter += 1
        elif name not in VOID_TAGS or element.get("id"):
            element.set(AID, base32(counter, 1))
            counter += 1
        if name not in VOID_TAGS and element.text is None and len(element) == 0:
            element.text = ""  # serialised as <x></x>, never <x/>
    return counter


def _marker(element: etree._Element) -> str:
    """The aid or cid by which `_start_tags` finds the element (or the nearest enclosing
    element that has one: a heading in a table cell, a target inside an SVG picture)."""
    found: etree._Element | None = element
    while found is not None:
        marker = found.get(AID) or found.get(CID)
        if marker:
            return marker
        found = found.getparent()
    raise ValueError("the body has no aid")


def _toc_targets(
    files: list[_File], first: int, count: int
) -> list[tuple[int, str, tuple[int, etree._Element | None]]]:
    """(level, title, target) for each heading of the `count` chapters from file `first`
    down to `TOC_DEPTH`, in reading order: the matter pages are no entries of the
    contents, as in the EPUB.

    A chapter's opening heading points at the start of its file, like the EPUB's TOC; a
    section heading at the element that carries its anchor (the section or the heading).
    """
    entries = []
    for number, file in enumerate(files[first : first + count], first):
        elements = list(file.body.iter(*HEADING_TAGS))
        anchors = {e.get("id"): e for e in file.body.iter() if isinstance(e.tag, str)}
        for index, (heading, element) in enumerate(
            zip(heading_entries(file.body), elements, strict=True)
        ):
            if heading.level > TOC_DEPTH:
                continue
            target = anchors.get(heading.anchor, element) if heading.anchor else element
            if index == 0 and heading.level == 1:
                target = None
            entries.append((heading.level, heading.title, (number, target)))
    return entries


def _serialise(body: etree._Element, title: str, language: str) -> bytes:
    html = etree.Element(tag("html"), nsmap=NSMAP)
    html.set("lang", language)
    html.set(XML_LANG, language)
    head = etree.SubElement(html, tag("head"))
    etree.SubElement(
        head, tag("meta"), {"http-equiv": "Content-Type", "content": "text/html; charset=utf-8"}
    )
    etree.SubElement(head, tag("title")).text = title
    etree.SubElement(head, tag("link"), rel="stylesheet", type="text/css", href=STYLESHEET_HREF)
    html.append(body)
    return PROLOGUE + etree.tostring(html, encoding="utf-8")


def _start_tags(data: bytes) -> dict[str, tuple[int, int]]:
    """For each aid (or cid): where its start tag begins (`<`) and ends (after `>`).

    The marker is always the last attribute, and `>` inside text or attribute values is
    written `&gt;`, so ` aid="X">` marks the end of exactly one start tag.
    """
    starts = {}
    for match in _MARKER_RE.finditer(data):
        starts[match.group(1).decode()] = (data.rfind(b"<", 0, match.start()), match.end())
    return starts


def _fragments(
    data: bytes, body: etree._Element, starts: dict[str, tuple[int, int]]
) -> list[tuple[int, int, str]]:
    """The file's fragments as (start, end, selector), in file order."""
    material: list[tuple[int, int, str]] = []

    def visit(element: etree._Element, begin: int, end: int) -> None:
        aid = element.get(AID)
        children = [c for c in element if isinstance(c.tag, str) and c.get(AID) is not None]
        selector = f"P-//*[@aid='{aid}']"
        if end - begin <= CHUNK_SIZE or not children:
            material.append((begin, end, selector))
            return
        position = begin
        for number, child in enumerate(children):
            child_start, child_open_end = starts[child.get(AID)]
            following = (
                starts[children[number + 1].get(AID)][0] if number + 1 < len(children) else end
            )
            if child_start > position:
                material.append((position, child_start, selector))
            qname = etree.QName(child)
            splittable = qname.namespace == XHTML_NS and any(
                isinstance(c.tag, str) and c.get(AID) is not None for c in child
            )
            if following - child_start > CHUNK_SIZE and splittable:
                close = f"</{qname.localname}>".encode()
                close_start = data.rfind(close, child_open_end, following)
                visit(child, child_open_end, close_start)
                position = close_start + len(close)
                selector = f"S-//*[@aid='{child.get(AID)}']"
            else:
                material.append((child_start, following, selector))
                position = following
        if position < end:
            material.append((position, end, selector))

    body_open_end = starts[body.get(AID)][1]
    visit(body, body_open_end, data.rfind(b"</body>"))
    merged: list[list] = []
    for begin, end, selector in material:
        if end <= begin:
            continue
        if merged and merged[-1][1] == begin and end - merged[-1][0] <= CHUNK_SIZE:
            merged[-1][1] = end
        else:
            merged.append([begin, end, selector])
    if not merged:  # an empty body still needs one fragment for readers to find the file
        merged.append([body_open_end, body_open_end, f"P-//*[@aid='{body.get(AID)}']"])
    return [(begin, end, selector) for begin, end, selector in merged]


def _assemble(files: list[_File]) -> tuple[list[Skeleton], list[Fragment], list[bytes]]:
    """Skeletons and fragments laid out file after file: the text and its two tables."""
    skeletons: list[Skeleton] = []
    fragments: list[Fragment] = []
    parts: list[bytes] = []
    offset = 0
    for number, file in enumerate(files):
        data = file.data
        skeleton = []
        cursor = 0
        for begin, end, _ in file.pieces:
            skeleton.append(data[cursor:begin])
            cursor = end
        skeleton.append(data[cursor:])
        skeleton_bytes = b"".join(skeleton)
        file.skeleton_start = offset
        file.first_fragment = len(fragments)
        skeletons.append(Skeleton(len(file.pieces), offset, len(skeleton_bytes)))
        parts.append(skeleton_bytes)
        within = 0
        for begin, end, selector in file.pieces:
            fragments.append(
                Fragment(offset + begin, selector, number, len(fragments), within, end - begin)
            )
            parts.append(data[begin:end])
            within += end - begin
        offset += len(data)
    return skeletons, fragments, parts


def _position(
    files: list[_File], fragments: list[Fragment], number: int, element: etree._Element | None
) -> Position:
    """The KF8 position of `element` in file `number` (its start when `element` is None)."""
    file = files[number]
    first = file.first_fragment
    last = first + len(file.pieces)
    if element is None:
        fragment = fragments[first]
        return Position(fragment.insert_position, first, 0)
    offset = file.skeleton_start + file.starts[_marker(element)][0]
    at = bisect.bisect_right(fragments, offset, first, last, key=lambda f: f.insert_position)
    index = at - 1
    if index >= first and offset < fragments[index].insert_position + fragments[index].length:
        return Position(offset, index, offset - fragments[index].insert_position)
    # In the skeleton: the next fragment begins the element's content.
    following = min(index + 1, last - 1)
    fragment = fragments[following]
    if fragment.insert_position < offset:  # after the last fragment: count past its end
        return Position(offset, following, offset - fragment.insert_position)
    return Position(fragment.insert_position, following, 0)
