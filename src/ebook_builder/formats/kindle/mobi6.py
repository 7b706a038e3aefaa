"""The MOBI 6 half of a combined .mobi, for Kindles older than KF8 (Kindle 1–3, DX).

MOBI 6 text is one HTML stream in the Mobipocket dialect (MobileRead wiki, "MOBI" and
"EBook HTML"; Amazon's Kindle Publishing Guidelines list the tags old Kindles render):

- A `<guide>` in the `<head>` names the table of contents and the start of reading by
  `filepos`: the byte offset in the uncompressed text, 10 zero-padded digits.
- Links are `<a filepos=0000001234>`: the offset of the target's `<`. Readers put their
  own anchor there, so a target is always the start of a tag.
- Images are `<img recindex="00001">`: 1-based place among the image records.
- Verse: a stanza is `<p width="0" height="1em">` (KindleGen's MOBI 7 markup for
  `text-indent: 0` and a top margin; calibre reads them back as such), its lines kept
  apart by their `<br/>`, an indent class `iN` as N em spaces.
- `<mbp:pagebreak/>` starts a new page (between chapters). There are no stylesheets: the
  old renderer knows HTML 3 tags (p, h1–h6, blockquote, ol/ul/li, table, b, i, sup…), so
  sectioning elements become `<div>` and everything else is unwrapped.
- The Go To menu's "Table of Contents" opens the guide's `toc` reference, so the text
  has an HTML table of contents (sections indented by `<blockquote>`), followed by a page
  break, after the front matter pages (`matter`) and before the chapters, as the EPUB's
  reading order has it; the back matter pages come after the chapters.

The NCX index of a MOBI 6 book is flat — every heading, chapter or section, one after the
other by position — because the old Kindles' "next/previous chapter" steps through it in
that order (calibre's MOBI 6 writer flattens it for the same reason). Each text record
ends with the TBS that places it in that index (`tbs.book_sequences`).
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass
from urllib.parse import unquote, urlsplit

from lxml import etree

from ebook_builder.convert import chapter_files
from ebook_builder.formats.kindle import exth, headers, indexes, records, tbs
from ebook_builder.formats.kindle.navigation import (
    Position,
    TocNode,
    first_body_chapter,
    nest,
)
from ebook_builder.formats.kindle.resources import Resources, as_pictures
from ebook_builder.markup.xhtml import XHTML_NS, heading_entries
from ebook_builder.model import TOC_DEPTH, ConvertedBook, MatterPage

TOC_TITLE = "Table of Contents"
FILEPOS = b"0000000000"  # placeholder, patched once every target's offset is known
# The NCX of a MOBI 6 book is flat: position, length, label and depth (always 0).
MOBI6_NCX_TAGS = [t for t in indexes.NCX_TAGS if t.number in (1, 2, 3, 4)]

# What each XHTML element becomes; absent (span, mark, time…): unwrapped, content kept.
RENAME = {
    "p": "p", "h1": "h1", "h2": "h2", "h3": "h3", "h4": "h4", "h5": "h5", "h6": "h6",
    "blockquote": "blockquote", "ol": "ol", "ul": "ul", "li": "li", "dl": "dl", "dt": "dt",
    "dd": "dd", "pre": "pre", "table": "table", "tr": "tr", "td": "td", "th": "th",
    "caption": "caption", "b": "b", "strong": "b", "i": "i", "em": "i", "cite": "i",
    "dfn": "i", "var": "i", "u": "u", "s": "s", "del": "del", "ins": "ins", "sub": "sub",
    "sup": "sup", "small": "small", "big": "big", "code": "code", "kbd": "kbd",
    "samp": "samp", "tt": "tt", "q": "q", "a": "a",
    "section": "div", "article": "div", "aside": "div", "nav": "div", "header": "div",
    "footer": "div", "main": "div", "figure": "div", "figcaption": "div", "div": "div",
    "address": "div", "details": "div", "summary": "div", "hgroup": "div",
}  # fmt: skip
VOID = {"br": b"<br/>", "hr": b"<hr/>"}
KEEP_ATTRIBUTES = {"td": ("colspan", "rowspan"), "th": ("colspan", "rowspan"), "ol": ("start",)}
CENTRED = {"figure", "figcaption"}


@dataclass
class Mobi6Section:
    """The records before the BOUNDARY of a combined file (record 0 first)."""

    records: list[bytes]


class _Writer:
    """Serialises the chapters into one MOBI 6 stream, noting offsets as it goes."""

    def __init__(self, image_resources: dict[str, tuple[int, str]]) -> None:
        self.parts: list[bytes] = []
        self.size = 0
        self.anchors: dict[tuple[int, str], int] = {}  # (chapter, id) -> offset
        self.links: list[tuple[int, tuple[int, str | None]]] = []  # (where, (chapter, id))
        self.image_resources = image_resources
        self.chapter = 0

    def write(self, data: bytes) -> None:
        self.parts.append(data)
        self.size += len(data)

    def text(self, value: str | None) -> None:
        if value:
            self.write(html.escape(value, quote=False).encode("utf-8"))

    def filepos(self, target: tuple[int, str | None]) -> None:
        """A `filepos=` value to patch later, pointing at `target`."""
        self.write(b"filepos=")
        self.links.append((self.size, target))
        self.write(FILEPOS)

    def element(self, element: etree._Element, links: dict[str, tuple[int, str | None]]) -> None:
        if not isinstance(element.tag, str):
            self.text(element.tail)
            return
        name = etree.QName(element).localname if element.tag.startswith(f"{{{XHTML_NS}}}") else ""
        if element.get("id"):
            self.anchors.setdefault((self.chapter, element.get("id")), self.size)
        if name in VOID:
            self.write(VOID[name])
        elif name == "img":
            self._image(element)
        elif name in RENAME:
            self._container(element, name, links)
        else:
            indents = re.findall(r"(?<!\S)i([1-9])(?!\S)", element.get("class", ""))
            self.text("\u2003" * int(indents[0]) if indents else None)
            self.text(element.text)
            for child in element:
                self.element(child, links)
        self.text(element.tail)

    def _container(
        self, element: etree._Element, name: str, links: dict[str, tuple[int, str | None]]
    ) -> None:
        mobi = RENAME[name]
        attributes = b""
        for attribute in KEEP_ATTRIBUTES.get(name, ()):
            if element.get(attribute):
                attributes += f' {attribute}="{html.escape(element.get(attribute))}"'.encode()
        if name in CENTRED:
            attributes += b' align="center"'
        verse = name == "p" and "verse" in element.getparent().get("class", "").split()
        if verse:
            attributes += b' width="0"' + b' height="1em"' * (element.getprevious() is not None)
        self.write(f"<{mobi}".encode() + attributes)
        if mobi == "a":
            href = element.get("href", "")
            target = links.get(href)
            if target is not None:
                self.write(b" ")
                self.filepos(target)
            elif urlsplit(href).scheme:
                self.write(f' href="{html.escape(href)}"'.encode())
        self.write(b">")
        self.text(element.text)
        for child in element:
            self.element(child, links)
        self.write(f"</{mobi}>".encode())

    def _image(self, element: etree._Element) -> None:
        found = self.image_resources.get(unquote(element.get("src", "")))
        alt = element.get("alt", "")
        if found is None:  # not a picture of the book: its description stands in
            self.text(alt)
            return
        escaped = html.escape(alt).encode("utf-8")
        self.write(b'<img recindex="%05d" alt="%s"/>' % (found[0] + 1, escaped))

    def result(self, targets: dict[tuple[int, str | None], int]) -> bytes:
        data = bytearray(b"".join(self.parts))
        for where, target in self.links:
            data[where : where + 10] = b"%010d" % targets[target]
        return bytes(data)


def build_text(
    converted: ConvertedBook, image_resources: dict[str, tuple[int, str]]
) -> tuple[bytes, list[TocNode], int]:
    """The MOBI 6 text, its table of contents and the offset where reading starts."""
    writer = _Writer(image_resources)
    writer.write(b"<html><head><guide>")
    writer.write(b'<reference type="toc" title="%s" ' % TOC_TITLE.encode())
    writer.filepos((-1, None))
    writer.write(b' /><reference type="text" title="Beginning" ')
    start_chapter = first_body_chapter(converted)
    writer.filepos((start_chapter, None))
    writer.write(b" /></guide></head><body>")

    for page in converted.front_matter:
        _write_page(writer, page)
    headings = _headings(converted)
    writer.anchors[(-1, "")] = writer.size  # the table of contents: "chapter" -1
    writer.write(b"<h2>" + TOC_TITLE.encode() + b"</h2>\n")
    for level, title, target in headings:
        writer.write(b"<blockquote>" * (level - 1) + b"<p><a ")
        writer.filepos(target)
        writer.write(b">")
        writer.text(title)
        writer.write(b"</a></p>" + b"</blockquote>" * (level - 1) + b"\n")

    links = _link_targets(converted)
    for number, chapter in enumerate(converted.chapters):
        writer.write(b"<mbp:pagebreak/>")
        writer.chapter = number
        writer.anchors[(number, "")] = writer.size
        for child in as_pictures(chapter.body):
            writer.element(child, links[number])
    for page in converted.back_matter:
        writer.write(b"<mbp:pagebreak/>")
        _write_page(writer, page)
    writer.write(b"</body></html>")

    def offset(target: tuple[int, str | None]) -> int:
        chapter, anchor = target
        return writer.anchors.get((chapter, anchor or ""), writer.anchors[(chapter, "")])

    targets = {target: offset(target) for _, target in writer.links}
    toc = nest([(level, title, Position(offset(target))) for level, title, target in headings])
    return writer.result(targets), toc, offset((start_chapter, None))


def _write_page(writer: _Writer, page: MatterPage) -> None:
    """A matter page: before the table of contents (front matter, each ending in a page
    break) or after the chapters. It holds no ids and no links."""
    for child in page.body:
        writer.element(child, {})
    if page.front:
        writer.write(b"<mbp:pagebreak/>")


def _headings(converted: ConvertedBook) -> list[tuple[int, str, tuple[int, str | None]]]:
    """(level, title, target) of every heading down to `TOC_DEPTH`; chapters point at
    their start, sections at their anchor."""
    found = []
    for number, chapter in enumerate(converted.chapters):
        for index, heading in enumerate(heading_entries(chapter.body)):
            if heading.level > TOC_DEPTH:
                continue
            opening = index == 0 and heading.level == 1
            found.append(
                (heading.level, heading.title, (number, None if opening else heading.anchor))
            )
    return found


def _link_targets(converted: ConvertedBook) -> list[dict[str, tuple[int, str | None]]]:
    """For each chapter, the internal hrefs it uses and the (chapter, id) each reaches."""
    owner: dict[str, int] = {}
    for number, chapter in enumerate(converted.chapters):
        for element in chapter.body.iter():
            if isinstance(element.tag, str) and element.get("id"):
                owner.setdefault(element.get("id"), number)
    names = chapter_files(converted.chapters)
    numbers = {chapter.file_name: n for n, chapter in enumerate(converted.chapters)}
    result = []
    for chapter in converted.chapters:
        table: dict[str, tuple[int, str | None]] = {}
        for link in chapter.body.iter(f"{{{XHTML_NS}}}a"):
            href = link.get("href", "")
            parts = urlsplit(href)
            if parts.scheme or parts.netloc or href in table:
                continue
            fragment = unquote(parts.fragment) or None
            if parts.path:
                name = names.get(unquote(parts.path))
                if name is None:
                    continue
                number = numbers[name]
                if fragment is not None and owner.get(fragment) != number:
                    fragment = None
                table[href] = (number, fragment)
            elif fragment is not None and fragment in owner:
                table[href] = (owner[fragment], fragment)
        result.append(table)
    return result


def build_section(
    converted: ConvertedBook, resources: Resources, ids: exth.BookIds
) -> Mobi6Section:
    """Record 0, text, NCX index, the images of both halves, FLIS and FCIS.

    EXTH 121 gives the KF8 header's record number: right after these records and the
    BOUNDARY record that the caller appends.
    """
    text, toc, start = build_text(converted, resources.by_href)
    entries = flat_toc(toc, text.rindex(b"</body>"))
    text_records = records.text_records(text, trailing=tbs.book_sequences(entries, len(text)))
    out: list[bytes] = [b"", *text_records]
    first_non_text = len(out)
    ncx_index = len(out)
    out += indexes.ncx_index(entries, tags=MOBI6_NCX_TAGS)
    first_image = len(out)
    out += resources.records
    last_content = len(out) - 1
    flis_index = len(out)
    out.append(records.FLIS)
    fcis_index = len(out)
    out.append(records.fcis(len(text)))
    kf8_header = len(out) + 1  # after the BOUNDARY record

    meta = converted.book.metadata
    exth_records = exth.metadata_records(meta, ids)
    exth_records += exth.resource_records(
        resources.cover, resources.thumbnail, len(resources.records)
    )
    exth_records.append((exth.START_READING, exth.number(start)))
    exth_records.append((exth.KF8_HEADER, exth.number(kf8_header)))
    out[0] = headers.record0(
        headers.MobiHeader(
            version=6,
            text_length=len(text),
            text_record_count=len(text_records),
            first_non_text=first_non_text,
            first_resource=first_image,
            title=meta.title,
            language=meta.language,
            unique_id=ids.unique_id,
            exth=exth_records,
            extra_flags=0b11,  # multibyte entries and TBS
            ncx_index=ncx_index,
            fcis_index=fcis_index,
            flis_index=flis_index,
            last_content=last_content,
        )
    )
    return Mobi6Section(out)


def flat_toc(toc: list[TocNode], body_end: int) -> list[indexes.TocEntry]:
    """Every TOC node in reading order at depth 0, each running to the next one.

    Two headings at the same place (a chapter title and its first section) keep the first;
    an entry with no length would give the device nothing to show.
    """
    flat: list[tuple[str, int]] = []

    def walk(nodes: list[TocNode]) -> None:
        for node in nodes:
            flat.append((node.title, node.position.offset))
            walk(node.children)

    walk(toc)
    kept: list[tuple[str, int]] = []
    for title, offset in sorted(flat, key=lambda item: item[1]):
        if not kept or offset > kept[-1][1]:
            kept.append((title, offset))
    ends = [offset for _, offset in kept[1:]] + [body_end]
    return [
        indexes.TocEntry(title, 0, offset, end - offset, None, None, None)
        for (title, offset), end in zip(kept, ends, strict=True)
        if end > offset
    ]
