"""DOCX writer (stage 4): the validated book as a Word document for editors and designers.

The document is made from the same XHTML chapters as the EPUB, so the typography, the ids
(made unique across the book by the convert stage) and the checked links are the ones the
EPUB has. The chapters are adapted to a word processor (links to chapter files point at
bookmarks, epigraphs and signatures get paragraph styles), turned into pandoc's document
tree by `tree` (notes become Word footnotes, images travel as data URIs), and pandoc's own
DOCX writer writes that tree with the styles of the book's design,
`data/reference-<design>.docx` (made by `tools/docx_reference.py`).

Afterwards the archive is finished by hand: the title page is followed by a table of
contents field that lists every heading already, so that it reads right before Word
updates it on opening (`w:updateFields`); a list in a block quote, which pandoc sets at
the margin, is indented into the quote; the core properties come from the metadata;
every timestamp is `metadata.modified`, so two builds of the same sources are identical.
"""

from __future__ import annotations

import base64
import copy
import io
import itertools
import json
import zipfile
from collections.abc import Iterator
from datetime import datetime
from functools import cache
from pathlib import Path, PurePosixPath
from urllib.parse import unquote, urlsplit

from lxml import etree
from PIL import Image

from ebook_builder.designs import reference_docx
from ebook_builder.formats.archive import archive_entry
from ebook_builder.formats.docx.ooxml import (
    A_NS,
    CP_NS,
    CUSTOM_NS,
    M_NS,
    PIC_NS,
    R_NS,
    SL_NS,
    VT_NS,
    W_NS,
    WP_NS,
    w,
    xml_bytes,
)
from ebook_builder.formats.docx.tree import api_version, document_tree
from ebook_builder.markup.svg import inline_pictures, inline_png, raster_png
from ebook_builder.markup.xhtml import XHTML_NS, heading_entries, tag
from ebook_builder.model import ChapterDocument, ConvertedBook, Heading, MatterPage, Metadata
from ebook_builder.pandoc import run_pandoc

A_EXT = f"{{{A_NS}}}ext"
WP_EXTENT = f"{{{WP_NS}}}extent"
EMU_PER_TWIP = 635
PARAGRAPH_STYLE = etree.XPath("string(w:pPr/w:pStyle/@w:val)", namespaces={"w": W_NS})
CORE_NS = {
    "cp": CP_NS,
    "dc": "http://purl.org/dc/elements/1.1/",
    "dcterms": "http://purl.org/dc/terms/",
    "dcmitype": "http://purl.org/dc/dcmitype/",
    "xsi": "http://www.w3.org/2001/XMLSchema-instance",
}
CUSTOM_FMTID = "{D5CDD505-2E9C-101B-9397-08002B2CF9AE}"  # the one id every custom property uses

# The page every DOCX is laid out for, set in each `data/reference-<design>.docx` (made by
# `tools/docx_reference.py`): a 6 × 9 in trade page, 0.75 in margins, a little more at
# the foot for the page number. Lengths in twips (1/1440 in).
TWIPS_PER_INCH = 1440
PAGE_WIDTH, PAGE_HEIGHT = 6 * TWIPS_PER_INCH, 9 * TWIPS_PER_INCH
MARGIN = 1080
FOOT_MARGIN = MARGIN + 144
TEXT_WIDTH = PAGE_WIDTH - 2 * MARGIN
TEXT_HEIGHT = PAGE_HEIGHT - MARGIN - FOOT_MARGIN

CONTENTS_TITLE = "Contents"
# The reference document's style for each part of the title page, by its class (`matter`).
TITLE_PAGE_STYLES = {
    "title": "Title",
    "subtitle": "Subtitle",
    "author": "Author",
    "publisher": "Publisher",
}
# On the title page, the cover takes the text width and what height the title, subtitle,
# authors and publisher leave free (3 in), in inches.
COVER_BOX = (TEXT_WIDTH / TWIPS_PER_INCH, TEXT_HEIGHT / TWIPS_PER_INCH - 3)
COVER_SOURCE = "ebook-builder:cover"  # the title page's image, until its data goes in
WORD_IMAGE_TYPES = {"image/jpeg", "image/png", "image/gif"}
VERSE_INDENTS = 4  # indent classes `i1`…`i4` of a verse line, as Standard Ebooks' CSS has
VERSE_STYLES = ("Verse", "Verse Stanza")  # a line; the first line of a stanza
# The bookmark that marks each item of a list in a block quote (numbered per book), which
# the importer reads back. Capitals, so no id of the build's (lower-case slugs) is one; no
# leading `_`, with which Word would hide it but pandoc replaces the name by a hash.
IN_QUOTE_BOOKMARK = "InQuote"
# The paragraph properties that come before `w:pageBreakBefore` (ECMA-376, CT_PPrBase).
BEFORE_PAGE_BREAK = frozenset(w(name) for name in ("pStyle", "keepNext", "keepLines"))
# How far the Block Text style indents a quote, and each list level a list (twips).
QUOTE_INDENT, LIST_INDENT, LIST_HANGING = 480, 720, 360
# The paragraph properties that come before `w:ind` in a `w:pPr` (ECMA-376, CT_PPrBase).
BEFORE_INDENT = frozenset(
    {
        *("pStyle", "keepNext", "keepLines", "pageBreakBefore", "framePr", "widowControl"),
        *("numPr", "suppressLineNumbers", "pBdr", "shd", "tabs", "suppressAutoHyphens"),
        *("kinsoku", "wordWrap", "overflowPunct", "topLinePunct", "autoSpaceDE"),
        *("autoSpaceDN", "bidi", "adjustRightInd", "snapToGrid", "spacing"),
    }
)


def warm_up() -> None:
    """Ask pandoc its document-model version while it converts the chapters."""
    api_version()


def write_docx(converted: ConvertedBook, path: Path) -> None:
    """Write the book as a DOCX file at `path`."""
    path.write_bytes(render_docx(converted))


def render_docx(converted: ConvertedBook) -> bytes:
    """The DOCX file's bytes, identical for identical sources."""
    language = converted.book.metadata.language
    tree = document_tree(pandoc_input(converted), language, _image_data(converted))
    with reference_docx(converted.book.metadata.design) as reference:
        arguments = ["--from=json", "--to=docx", f"--reference-doc={reference}", "--output=-"]
        data = run_pandoc(arguments, json.dumps(tree).encode("utf-8"))
    return finish(data, converted)


# --- The input: the chapters' XHTML, adapted to what pandoc's DOCX writer knows ---------


def pandoc_input(converted: ConvertedBook) -> list[etree._Element]:
    """The book as XHTML bodies: the cover and the front matter pages, the contents
    heading, each chapter, then the back matter pages."""
    front = etree.Element(tag("body"), nsmap={None: XHTML_NS})
    _cover(front, converted)
    for page in converted.front_matter:
        _matter_page(front, page)
    _styled(front, "TOC Heading", CONTENTS_TITLE)
    bodies = [front]
    anchors = _chapter_anchors(converted.chapters)
    marked = itertools.count(1)
    for chapter in converted.chapters:
        body = copy.deepcopy(chapter.body)
        _link_chapter_files(body, anchors)
        _style_epigraphs(body)
        _style_signatures(body)
        _style_verse(body)
        _svg_as_pictures(body)
        _mark_quoted_blocks(body, marked)
        bodies.append(body)
    back = etree.Element(tag("body"), nsmap={None: XHTML_NS})
    for page in converted.back_matter:
        _matter_page(back, page)
    return [*bodies, back]


def _mark_quoted_blocks(body: etree._Element, marked: Iterator[int]) -> None:
    """Each item of a list in a block quote, and a signature there, opened by a
    `IN_QUOTE_BOOKMARK` (an empty span with that id, which pandoc writes as a
    bookmark): pandoc's writer sets such a list or signature after the quote, not in it,
    and `_indent_lists_in_quotes` finds a list's paragraphs by it to indent them into the
    quote; the importer puts both back."""
    quoted = (
        element
        for element in body.iter(tag("li"), tag("div"))
        if (element.tag == tag("li") or "signature" in element.get("class", "").split())
        and any(ancestor.tag == tag("blockquote") for ancestor in element.iterancestors())
    )
    for element in list(quoted):
        opening = next(element.iter(tag("p")), element)
        anchor = etree.Element(tag("span"), id=f"{IN_QUOTE_BOOKMARK}{next(marked)}")
        anchor.tail, opening.text = opening.text, None
        opening.insert(0, anchor)


def _svg_as_pictures(body: etree._Element) -> None:
    """Each SVG written into the text as an `<img>` of its PNG (`svg.inline_png`): pandoc's
    DOCX writer would keep only the SVG's text."""
    for svg in inline_pictures(body):
        _, png, label = inline_png(svg)
        image = etree.Element(tag("img"), src=_data_uri(png, "image/png"), alt=label)
        image.tail = svg.tail
        svg.getparent().replace(svg, image)


def _styled(parent: etree._Element, style: str, text: str) -> etree._Element:
    """A paragraph in a paragraph style of the reference document (`custom-style`)."""
    div = etree.SubElement(parent, tag("div"))
    div.set("data-custom-style", style)
    etree.SubElement(div, tag("p")).text = text
    return div


def _cover(body: etree._Element, converted: ConvertedBook) -> None:
    """The cover, at the head of the title page."""
    meta = converted.book.metadata
    cover = converted.book.cover
    width, height = _cover_size(cover.data)
    figure = etree.SubElement(body, tag("div"))
    figure.set("data-custom-style", "Cover Image")
    etree.SubElement(
        etree.SubElement(figure, tag("p")),
        tag("img"),
        src=COVER_SOURCE,
        alt=f"Cover: {meta.title}, by {', '.join(meta.creator_names)}",
        width=f"{width:.2f}in",
        height=f"{height:.2f}in",
    )


def _matter_page(body: etree._Element, page: MatterPage) -> None:
    """A matter page's paragraphs, each in a paragraph style: the title page's in the
    reference document's Title, Subtitle, Author and Publisher (by their class), under the
    cover; any other page's in a style named as the page ("Imprint"), whose first
    paragraph `_break_before_matter` puts on a new page. The contents heading after the
    front matter starts a page of its own (its style breaks the page)."""
    for paragraph in page.body.iter(tag("h1"), tag("p")):
        if page.kind == "titlepage":
            style = TITLE_PAGE_STYLES[paragraph.get("class", "")]
        else:
            style = page.label
        styled = etree.SubElement(body, tag("div"))
        styled.set("data-custom-style", style)
        styled.append(copy.deepcopy(paragraph))
        styled[0].tag = tag("p")


def _cover_size(data: bytes) -> tuple[float, float]:
    """The cover's size in inches, as large as fits `COVER_BOX` with its proportions."""
    with Image.open(io.BytesIO(data)) as picture:
        pixels_wide, pixels_high = picture.size
    scale = min(COVER_BOX[0] / pixels_wide, COVER_BOX[1] / pixels_high)
    return pixels_wide * scale, pixels_high * scale


def _data_uri(data: bytes, media_type: str) -> str:
    return f"data:{media_type};base64,{base64.b64encode(data).decode('ascii')}"


def _chapter_anchors(chapters: list[ChapterDocument]) -> dict[str, str]:
    """The bookmark a link to a chapter file lands on: the id of its first heading.

    Keys are the names a link may use for the file (as `convert.chapter_files`): its
    entry in the metadata and its bare file name.
    """
    anchors = {}
    for chapter in chapters:
        first = next(iter(heading_entries(chapter.body)), None)
        anchor = first.anchor if first is not None else ""
        anchors[PurePosixPath(chapter.source.entry).name] = anchor
    for chapter in chapters:
        anchors[chapter.source.entry] = anchors[PurePosixPath(chapter.source.entry).name]
    return anchors


def _link_chapter_files(body: etree._Element, anchors: dict[str, str]) -> None:
    """`02-middle.md#id` -> `#id`, `02-middle.md` -> its first heading: one document now.

    The validate stage has checked that every such file and id exists.
    """
    for link in body.iter(tag("a")):
        parts = urlsplit(link.get("href", ""))
        if parts.scheme or parts.netloc or not parts.path:
            continue
        fragment = unquote(parts.fragment) or anchors.get(unquote(parts.path), "")
        link.set("href", f"#{fragment}")


def _style_epigraphs(body: etree._Element) -> None:
    """An epigraph's paragraphs in the Epigraph style, its last (the source) set apart.

    The design's stylesheet sets the epigraph apart from the text, and its last line, the
    source, apart from the epigraph; Word needs a paragraph style for each.
    """
    for div in list(body.iter(tag("div"))):
        if "epigraph" not in div.get("class", "").split():
            continue
        paragraphs = list(div.iter(tag("p")))
        if not paragraphs:
            div.set("data-custom-style", "Epigraph")
            continue
        replacement = []
        for number, paragraph in enumerate(paragraphs, 1):
            last = number == len(paragraphs) and number > 1
            styled = etree.Element(tag("div"))
            styled.set("data-custom-style", "Epigraph Source" if last else "Epigraph")
            paragraph.tail = None
            styled.append(paragraph)
            replacement.append(styled)
        for styled in replacement:  # in before the div (an insert at an index walks the list)
            div.addprevious(styled)
        div.getparent().remove(div)


def _style_signatures(body: etree._Element) -> None:
    for div in body.iter(tag("div")):
        if "signature" in div.get("class", "").split():
            div.set("data-custom-style", "Signature")


def verse_style(stanza_start: bool, indent: int) -> str:
    """The paragraph style of a verse line: `Verse`, `Verse Stanza`, `Verse 2`…"""
    return VERSE_STYLES[stanza_start] + (f" {indent}" if indent else "")


def _style_verse(body: etree._Element) -> None:
    """Each line of verse a paragraph in a Verse style (the convert stage made a verse block
    of stanzas, `<p>`, of lines, `<span>`).

    Pandoc's writer makes a line block one paragraph of line breaks in the body text style:
    justified, so Word stretches every line that ends in a break, and indented on the
    first line only. A paragraph per line is what lets a wrapped line hang under its
    start; the first line of a stanza has its own style, which carries the space between
    stanzas, and indent classes (`i1`…) styles of their own. Lines in a block that has a
    style already (a signature's) stay in it, one paragraph.
    """
    for block in list(body.iter(tag("div"), tag("section"), tag("blockquote"))):
        if "verse" not in block.get("class", "").split() or any(
            ancestor.get("data-custom-style") for ancestor in block.iterancestors()
        ):
            continue
        for stanza in list(block.iter(tag("p"))):
            lines = [child for child in stanza if child.tag == tag("span")]
            for number, line in enumerate(lines):
                indents = [c[1:] for c in line.get("class", "").split() if c[:1] == "i"]
                indent = max([int(i) for i in indents if i.isdigit()] or [0])
                styled = etree.Element(tag("div"))
                styled.set(
                    "data-custom-style", verse_style(number == 0, min(indent, VERSE_INDENTS))
                )
                paragraph = etree.SubElement(styled, tag("p"))
                line.tail = None
                paragraph.append(line)
                stanza.addprevious(styled)
            stanza.getparent().remove(stanza)


def _image_data(converted: ConvertedBook) -> dict[str, str]:
    """The data URI of the cover and of each image, by the source the documents name.

    Word shows JPEG, PNG and GIF everywhere; WebP goes in as PNG, and SVG as the PNG the
    Kindle files carry too (`svg.raster_png`): Word before 2016 and pandoc's writer, which
    gives an SVG no size, cannot place an SVG.
    """
    cover = converted.book.cover
    # The cover goes in after the writer (`finish`): a one-pixel stand-in of its type
    # spares encoding the whole JPEG as a data URI and decoding it again.
    uris = {COVER_SOURCE: _data_uri(_stand_in(cover.media_type), cover.media_type)}
    for image in converted.images:
        data, media_type = image.source.read_bytes(), image.media_type
        if media_type == "image/svg+xml":
            data, media_type = raster_png(data), "image/png"
        elif media_type not in WORD_IMAGE_TYPES:
            data, media_type = _as_png(data), "image/png"
        uris[image.href] = _data_uri(data, media_type)
    return uris


@cache
def _stand_in(media_type: str) -> bytes:
    """A one-pixel picture of `media_type` (the cover's, JPEG or PNG)."""
    out = io.BytesIO()
    Image.new("RGB", (1, 1)).save(out, "PNG" if media_type == "image/png" else "JPEG")
    return out.getvalue()


def _as_png(data: bytes) -> bytes:
    out = io.BytesIO()
    with Image.open(io.BytesIO(data)) as picture:
        picture.save(out, "PNG")
    return out.getvalue()


# --- The output: the archive, finished -------------------------------------------------


def finish(data: bytes, converted: ConvertedBook) -> bytes:
    """Pandoc's DOCX with contents, settings, properties and timestamps made final."""
    meta = converted.book.metadata
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        parts = {name: archive.read(name) for name in archive.namelist()}
    document = etree.fromstring(parts["word/document.xml"])
    parts[_cover_part(document, parts)] = converted.book.cover.data
    parts["word/document.xml"] = _finish_document(document, converted)
    parts["word/settings.xml"] = _update_fields_on_open(parts["word/settings.xml"])
    parts["docProps/core.xml"] = _core_properties(meta)
    if "docProps/custom.xml" in parts:
        parts["docProps/custom.xml"] = _custom_properties(meta)
    return _zip(parts, meta.modified)


def _cover_part(document: etree._Element, parts: dict[str, bytes]) -> str:
    """The archive entry of the title page's picture: the document's first, by its id."""
    blip = next(document.iter(f"{{{A_NS}}}blip"))
    embed = blip.get(f"{{{R_NS}}}embed")
    relations = etree.fromstring(parts["word/_rels/document.xml.rels"])
    target = next(r.get("Target") for r in relations if r.get("Id") == embed)
    return f"word/{target}"


def _finish_document(root: etree._Element, converted: ConvertedBook) -> bytes:
    _break_before_matter(root, converted)
    _restyle_internal_links(root)
    _flush_after_epigraphs(root)
    _indent_lists_in_quotes(root)
    _fit_to_text_width(root)
    for picture in root.iter(f"{{{PIC_NS}}}cNvPr"):
        # Pandoc copies the image's source here: for us, the whole data URI once more.
        if picture.get("descr", "").startswith("data:"):
            picture.set("descr", "")
    heading = next(p for p in root.iter(w("p")) if _paragraph_style(p) == "TOCHeading")
    depth = converted.book.metadata.toc_depth
    for paragraph in reversed(list(_toc_paragraphs(_toc_headings(converted), depth))):
        heading.addnext(paragraph)
    return xml_bytes(root)


def _break_before_matter(root: etree._Element, converted: ConvertedBook) -> None:
    """The first paragraph of each matter page but the title page opens a new page.

    Pandoc's writer has no page break to write; `w:pageBreakBefore` follows the style,
    `keepNext` and `keepLines` in a `w:pPr` (ECMA-376, CT_PPrBase)."""
    styles = {page.label.replace(" ", "") for page in converted.matter if page.kind != "titlepage"}
    previous = ""
    for paragraph in root.iter(w("p")):
        style = _paragraph_style(paragraph)
        if style in styles and style != previous:
            properties = paragraph.find(w("pPr"))
            before = [c for c in properties if c.tag in BEFORE_PAGE_BREAK]
            properties.insert(properties.index(before[-1]) + 1, etree.Element(w("pageBreakBefore")))
        previous = style


def _restyle_internal_links(root: etree._Element) -> None:
    """Cross-references in the Internal Link style: the DOCX is for editing and for print,
    where a cross-reference reads as text (the EPUB underlines every link in the text)."""
    for hyperlink in root.iter(w("hyperlink")):
        if hyperlink.get(w("anchor")) is None:
            continue
        for style in hyperlink.iter(w("rStyle")):
            if style.get(w("val")) == "Hyperlink":
                style.set(w("val"), "InternalLink")


def _flush_after_epigraphs(root: etree._Element) -> None:
    """The paragraph after an epigraph or a poem opens the text, so it takes no indent,
    and after a poem it stands a stanza's space away, as base.css's margin sets it.

    Pandoc only knows to do so after a heading.
    """
    previous = ""
    for paragraph in root.iter(w("p")):
        style = _paragraph_style(paragraph)
        after_verse = previous.startswith("Verse") and not style.startswith("Verse")
        if style == "BodyText" and (previous in ("Epigraph", "EpigraphSource") or after_verse):
            paragraph.find(f"{w('pPr')}/{w('pStyle')}").set(w("val"), "FirstParagraph")
        if after_verse and style in ("BodyText", "FirstParagraph"):
            # Right after the style: `spacing` comes before `ind` and `jc` in a `pPr`.
            paragraph.find(f"{w('pPr')}/{w('pStyle')}").addnext(
                etree.Element(w("spacing"), {w("before"): "240"})
            )
        previous = style


def _indent_lists_in_quotes(root: etree._Element) -> None:
    """The paragraphs of a list in a block quote (`_mark_quoted_blocks`) indented by the
    quote's indent besides their level's, so that in Word the list stands in the quote."""
    for bookmark in root.iter(w("bookmarkStart")):
        paragraph = next(bookmark.iterancestors(w("p")), None)
        if paragraph is None or not bookmark.get(w("name"), "").startswith(IN_QUOTE_BOOKMARK):
            continue
        properties = paragraph.find(w("pPr"))
        if properties is None:
            properties = etree.Element(w("pPr"))
            paragraph.insert(0, properties)
        level = properties.find(f"{w('numPr')}/{w('ilvl')}")
        depth = int(level.get(w("val"), "0")) + 1 if level is not None else 1
        indent = properties.find(w("ind"))
        if indent is None:
            indent = etree.Element(w("ind"))
            before = [c for c in properties if etree.QName(c).localname in BEFORE_INDENT]
            properties.insert(properties.index(before[-1]) + 1 if before else 0, indent)
        indent.set(w("left"), str(QUOTE_INDENT + LIST_INDENT * depth))
        indent.set(w("hanging"), str(LIST_HANGING))


def _fit_to_text_width(root: etree._Element) -> None:
    """Shrink tables and pictures wider than the text column to its width.

    Pandoc sizes them for a 5.5 in column whatever the reference document's page is;
    ours is narrower, and LibreOffice lets them run off the page.
    """
    section = root.find(f"{w('body')}/{w('sectPr')}")
    size, margins = section.find(w("pgSz")), section.find(w("pgMar"))
    width = int(size.get(w("w"))) - int(margins.get(w("left"))) - int(margins.get(w("right")))
    for grid in root.iter(w("tblGrid")):
        columns = grid.findall(w("gridCol"))
        total = sum(int(c.get(w("w"), "0")) for c in columns)
        if total > width:
            for column in columns:
                column.set(w("w"), str(int(column.get(w("w"))) * width // total))
    width_emu = width * EMU_PER_TWIP
    for drawing in root.iter(w("drawing")):
        extents = [e for e in drawing.iter() if e.tag in (WP_EXTENT, A_EXT)]
        for extent in extents:
            cx, cy = int(extent.get("cx")), int(extent.get("cy"))
            if cx > width_emu:
                extent.set("cx", str(width_emu))
                extent.set("cy", str(cy * width_emu // cx))


def _paragraph_style(paragraph: etree._Element) -> str:
    """The paragraph's style id, "" if none (a compiled query: it runs for every paragraph)."""
    return str(PARAGRAPH_STYLE(paragraph))


def _toc_headings(converted: ConvertedBook) -> list[Heading]:
    """The headings the contents list, in reading order, as the EPUB's contents page:
    down to `toc_depth` (Word's navigation pane shows every heading anyway)."""
    depth = converted.book.metadata.toc_depth
    return [
        heading
        for chapter in converted.chapters
        for heading in heading_entries(chapter.body)
        if heading.level <= depth
    ]


def _toc_paragraphs(headings: list[Heading], depth: int) -> Iterator[etree._Element]:
    """A Word TOC field whose result already lists `headings`, each linked to its bookmark.

    Word rebuilds the result from the heading styles when it updates the field, with page
    numbers after the dotted tab of the "toc N" styles. Until then, and in applications
    that never update it (LibreOffice keeps a TOC field's result as text, even the page
    references in it), the list reads right without numbers, which no one can know
    before the pages are laid out.
    """
    instruction = f' TOC \\o "1-{depth}" \\h \\z \\u '
    for number, heading in enumerate(headings):
        paragraph = etree.Element(w("p"))
        properties = etree.SubElement(paragraph, w("pPr"))
        etree.SubElement(properties, w("pStyle"), {w("val"): f"TOC{heading.level}"})
        if number == 0:
            paragraph.extend(_field_start(instruction))
        if heading.anchor:
            link = etree.SubElement(paragraph, w("hyperlink"), {w("anchor"): heading.anchor})
            link.set(w("history"), "1")
            link.append(_text_run(heading.title))
        else:
            paragraph.append(_text_run(heading.title))
        if number == len(headings) - 1:
            paragraph.append(_run(_fld_char("end")))
        yield paragraph


def _field_start(instruction: str) -> list[etree._Element]:
    """The runs that open a field, up to where its result begins."""
    text = etree.Element(w("instrText"))
    text.set("{http://www.w3.org/XML/1998/namespace}space", "preserve")
    text.text = instruction
    return [_run(_fld_char("begin")), _run(text), _run(_fld_char("separate"))]


def _fld_char(kind: str) -> etree._Element:
    return etree.Element(w("fldChar"), {w("fldCharType"): kind})


def _run(child: etree._Element) -> etree._Element:
    run = etree.Element(w("r"))
    run.append(child)
    return run


def _text_run(text: str) -> etree._Element:
    element = etree.Element(w("t"))
    element.set("{http://www.w3.org/XML/1998/namespace}space", "preserve")
    element.text = text
    return _run(element)


def _update_fields_on_open(xml: bytes) -> bytes:
    """`w:updateFields`: Word offers to refresh the contents and page numbers on opening.

    The schema fixes the order of the settings; the element goes before the first one
    that must follow it.
    """
    root = etree.fromstring(xml)
    if root.find(w("updateFields")) is None:
        later = {
            w(name)
            for name in (
                "hdrShapeDefaults",
                "footnotePr",
                "endnotePr",
                "compat",
                "docVars",
                "rsids",
                "themeFontLang",
                "clrSchemeMapping",
                "doNotIncludeSubdocsInStats",
                "doNotAutoCompressPictures",
                "forceUpgrade",
                "captions",
                "readModeInkLockDown",
                "smartTagType",
                "shapeDefaults",
                "doNotEmbedSmartTags",
                "decimalSymbol",
                "listSeparator",
            )
        }
        later.add(f"{{{M_NS}}}mathPr")
        later.add(f"{{{SL_NS}}}schemaLibrary")
        element = etree.Element(w("updateFields"), {w("val"): "true"})
        follower = next((child for child in root if child.tag in later), None)
        if follower is None:
            root.append(element)
        else:
            follower.addprevious(element)
    return xml_bytes(root)


def _core_properties(meta: Metadata) -> bytes:
    """Title, authors, language, subjects, description and keywords, with fixed dates.

    `subject` carries the subject headings as the EPUB's `dc:subject` does; `keywords`
    the single terms they are made of ("Russia -- History" gives Russia, History), which
    is what Word and file browsers search.
    """
    cp, dc, dcterms = (CORE_NS[p] for p in ("cp", "dc", "dcterms"))
    root = etree.Element(f"{{{cp}}}coreProperties", nsmap=CORE_NS)
    keywords = dict.fromkeys(
        term.strip() for subject in meta.subjects for term in subject.split("--") if term.strip()
    )
    values = [
        (f"{{{dc}}}title", meta.title),
        (f"{{{dc}}}subject", "; ".join(meta.subjects)),
        (f"{{{dc}}}creator", "; ".join(meta.creator_names)),
        (f"{{{cp}}}keywords", "; ".join(keywords)),
        (f"{{{dc}}}description", meta.description or ""),
        (f"{{{dc}}}language", meta.language),
        (f"{{{dc}}}identifier", meta.identifier),
    ]
    for name, value in values:
        if value:
            etree.SubElement(root, name).text = value
    stamp = _w3cdtf(meta.modified)
    for name in ("created", "modified"):
        element = etree.SubElement(root, f"{{{dcterms}}}{name}")
        element.set(f"{{{CORE_NS['xsi']}}}type", "dcterms:W3CDTF")
        element.text = stamp
    return xml_bytes(root)


def _custom_properties(meta: Metadata) -> bytes:
    """What Word's core properties have no field for, each a text property (File ›
    Properties › Custom in Word, LibreOffice's Custom Properties)."""
    root = etree.Element(f"{{{CUSTOM_NS}}}Properties", nsmap={None: CUSTOM_NS, "vt": VT_NS})
    for pid, (name, value) in enumerate(_custom_values(meta), 2):
        prop = etree.SubElement(
            root, f"{{{CUSTOM_NS}}}property", fmtid=CUSTOM_FMTID, pid=str(pid), name=name
        )
        etree.SubElement(prop, f"{{{VT_NS}}}lpwstr").text = value
    return xml_bytes(root)


def _custom_values(meta: Metadata) -> list[tuple[str, str]]:
    """Publisher, date, rights, edition, series, the ISBNs by edition, each contributor
    role with its names, and the creators' sort names where one differs from the name.

    The DOCX is no edition a store sells, so it names every ISBN with its edition.
    """
    values = [
        ("publisher", meta.publisher),
        ("date", meta.date),
        ("rights", meta.rights),
        ("edition", meta.edition),
    ]
    if meta.series:
        values += [("series", meta.series.name), ("series position", meta.series.position)]
    values += [(f"ISBN {edition}", number) for edition, number in vars(meta.isbn).items()]
    roles: dict[str, list[str]] = {}
    for contributor in meta.contributors:
        roles.setdefault(contributor.role, []).append(contributor.name)
    values += [(role, "; ".join(names)) for role, names in roles.items()]
    if any(creator.file_as for creator in meta.creators):
        sort_names = (creator.file_as or creator.name for creator in meta.creators)
        values.append(("creators, sorted as", "; ".join(sort_names)))
    return [(name, value) for name, value in values if value]


def _w3cdtf(when: datetime) -> str:
    """`2017-01-01T00:00:00Z`: the form Word reads (UTC, no fraction)."""
    if when.utcoffset():
        when = when - when.utcoffset()
    return when.strftime("%Y-%m-%dT%H:%M:%SZ")


def _zip(parts: dict[str, bytes], when: datetime) -> bytes:
    """The archive with every entry stamped `when`, as `archive_entry` makes them."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        for name, data in parts.items():
            archive.writestr(archive_entry(name, when), data)
    return out.getvalue()
