"""EPUB 3 writer: a `ConvertedBook` packaged with ebooklib.

ebooklib writes the package document and the container; this module makes the content
documents, the navigation document (TOC, landmarks, page list) and the NCX itself, so that
their markup is exactly what EPUBCheck, Ace and older readers expect. The zip is rewritten
with fixed timestamps: ebooklib 0.20 stamps every entry with the current time, which would
make two builds of the same sources differ.
"""

from __future__ import annotations

import copy
import io
import mimetypes
import zipfile
from datetime import datetime
from pathlib import Path
from urllib.parse import unquote, urlsplit

from ebooklib import epub
from lxml import etree

from ebook_builder.checks.accessibility import assess
from ebook_builder.convert import chapter_files
from ebook_builder.fonts import FONT_MEDIA_TYPE, LICENCE_FILE, EmbeddedFont, licence_text
from ebook_builder.formats.archive import archive_entry
from ebook_builder.markup.mathml import formulas
from ebook_builder.markup.svg import SVG_NS
from ebook_builder.markup.xhtml import (
    EPUB_TYPE,
    NSMAP,
    XML_LANG,
    document,
    heading_entries,
    page_breaks,
    safe_parser,
    tag,
)
from ebook_builder.model import (
    TOC_DEPTH,
    ConvertedBook,
    CoverImage,
    Heading,
    Metadata,
    Series,
    once_per_book,
)
from ebook_builder.relators import RELATORS
from ebook_builder.stylesheet import book_css, book_fonts

STYLESHEET = "style/book.css"
FONT_FOLDER = "fonts"
# Apple Books reads this file to learn that the book's own fonts are to be used.
DISPLAY_OPTIONS = "META-INF/com.apple.ibooks.display-options.xml"
COVER_PAGE = "cover.xhtml"
NAV_PAGE = "nav.xhtml"
NCX_NS = "http://www.daisy.org/z3986/2005/ncx/"
OPF_NS = "http://www.idpf.org/2007/opf"
CONTAINER_NS = "urn:oasis:names:tc:opendocument:xmlns:container"
# The EPUB 2 guide's name (OPF 2.0.1 § 2.6) of each landmark whose EPUB 3 name differs.
GUIDE_TYPES = {"titlepage": "title-page", "bodymatter": "text"}


def warm_up() -> None:
    """Read the system's media types now, while pandoc converts: ebooklib reads them when
    it adds the cover, and that takes as long as writing a chapter."""
    mimetypes.init()


def write_epub(converted: ConvertedBook, path: Path) -> None:
    """Write the book as an EPUB 3 file at `path`."""
    path.write_bytes(render_epub(converted))


@once_per_book
def render_epub(converted: ConvertedBook) -> bytes:
    """The EPUB file's bytes, identical for identical sources."""
    meta = converted.book.metadata
    package = epub.EpubBook()
    _add_metadata(package, converted)
    css = epub.EpubItem(
        uid="style",
        file_name=STYLESHEET,
        media_type="text/css",
        content=book_css(converted, lambda font: f"../{FONT_FOLDER}/{font.file_name}"),
    )
    package.add_item(css)
    _add_fonts(package, book_fonts(converted))
    cover = converted.book.cover
    cover_name = "cover" + (".png" if cover.media_type == "image/png" else ".jpg")
    _add_cover_image(package, cover_name, cover)
    cover_page = _document_item("cover", COVER_PAGE, _cover_body(meta, cover_name), meta, "Cover")
    package.add_item(cover_page)
    targets = _link_targets(converted)
    chapters = []
    for index, chapter in enumerate(converted.chapters, 1):
        body = _resolve_links(chapter.body, chapter.file_name, targets)
        item = _document_item(f"chapter-{index}", chapter.file_name, body, meta, chapter.title)
        properties = [
            name
            for name, present in (
                ("mathml", formulas(body)),  # EPUBCheck OPF-014: a document with MathML says so
                # EPUB 3.3 §5.6.2: required when a page holds inline SVG
                ("svg", next(body.iter(f"{{{SVG_NS}}}svg"), None) is not None),
            )
            if present
        ]
        if properties:
            item.properties = properties
        package.add_item(item)
        chapters.append(item)
    for number, image in enumerate(converted.images, 1):
        package.add_item(
            epub.EpubItem(
                uid=f"image-{number}",
                file_name=image.href,
                media_type=image.media_type,
                content=image.source.read_bytes(),
            )
        )
    matter = {
        page.file_name: _document_item(page.kind, page.file_name, page.body, meta, page.label)
        for page in converted.matter
    }
    for item in matter.values():
        package.add_item(item)
    toc = _toc_entries(converted)
    nav = _document_item("nav", NAV_PAGE, _nav_body(converted, toc), meta, "Contents")
    nav.properties = ["nav"]
    package.add_item(nav)
    package.add_item(
        epub.EpubItem(
            uid="ncx",
            file_name="toc.ncx",
            media_type="application/x-dtbncx+xml",
            content=_ncx(meta, toc),
        )
    )
    front = [matter[page.file_name] for page in converted.front_matter]
    back = [matter[page.file_name] for page in converted.back_matter]
    package.spine = [cover_page, *front, nav, *chapters, *back]
    package.guide = [
        {"type": GUIDE_TYPES.get(kind, kind), "href": href, "title": label}
        for kind, href, label in _landmarks(converted)
    ]
    out = io.BytesIO()
    # Level 0: the archive is compressed once, when its timestamps are fixed.
    options = {
        "mtime": meta.modified,
        "epub3_landmark": False,
        "compresslevel": 0,
    }
    writer = _Writer(out, package, options)
    writer.process()
    writer.write()
    return _fix_zip_times(out.getvalue(), meta.modified, {DISPLAY_OPTIONS: _display_options()})


def _add_fonts(package: epub.EpubBook, fonts: tuple[EmbeddedFont, ...]) -> None:
    """The book face's fonts, and its licence beside them: the OFL asks that the licence
    travel with the font (see `fonts`)."""
    for font in fonts:
        package.add_item(
            epub.EpubItem(
                uid=f"font-{font.style}",
                file_name=f"{FONT_FOLDER}/{font.file_name}",
                media_type=FONT_MEDIA_TYPE,
                content=font.data,
            )
        )
    package.add_item(
        epub.EpubItem(
            uid="font-licence",
            file_name=f"{FONT_FOLDER}/{LICENCE_FILE}",
            media_type="text/plain",
            content=licence_text(),
        )
    )


def _display_options() -> bytes:
    """Apple Books' display options: without `specified-fonts`, Apple Books sets every book
    in its own choice of face and ignores the embedded one (Apple Books Asset Guide,
    "Embedded fonts")."""
    root = etree.Element("display_options")
    platform = etree.SubElement(root, "platform", name="*")
    etree.SubElement(platform, "option", name="specified-fonts").text = "true"
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True)


def _add_cover_image(package: epub.EpubBook, name: str, cover: CoverImage) -> None:
    """The cover picture, as `EpubBook.set_cover` adds it, but with its media type given.

    Left to guess it, ebooklib reads the system's MIME tables: 20 ms of every new process.
    """
    item = epub.EpubCover(file_name=name)
    item.media_type = cover.media_type
    item.content = cover.data
    package.add_item(item)
    package.add_metadata(None, "meta", "", {"name": "cover", "content": item.id})


def _add_metadata(package: epub.EpubBook, converted: ConvertedBook) -> None:
    """Dublin Core, EPUB 3 refinements and schema.org accessibility metadata."""
    meta = converted.book.metadata
    package.set_identifier(meta.identifier)
    package.title = meta.title
    package.add_metadata("DC", "title", meta.title, {"id": "title"})
    package.add_metadata(None, "meta", "main", {"refines": "#title", "property": "title-type"})
    if meta.subtitle:
        package.add_metadata("DC", "title", meta.subtitle, {"id": "subtitle"})
        package.add_metadata(
            None, "meta", "subtitle", {"refines": "#subtitle", "property": "title-type"}
        )
    package.set_language(meta.language)
    for number, creator in enumerate(meta.creators, 1):
        _add_person(package, "creator", f"creator-{number}", creator.name, creator.file_as)
    for number, contributor in enumerate(meta.contributors, 1):
        uid = f"contributor-{number}"
        _add_person(package, "contributor", uid, contributor.name, contributor.file_as)
        role = {"refines": f"#{uid}", "property": "role", "scheme": "marc:relators"}
        package.add_metadata(None, "meta", RELATORS[contributor.role], role)
    optional = {
        "publisher": meta.publisher,
        "description": meta.description,
        "date": meta.date,
        "source": meta.page_source,
        "rights": meta.rights,
    }
    for name, value in optional.items():
        if value:
            package.add_metadata("DC", name, value)
    for subject in meta.subjects:
        package.add_metadata("DC", "subject", subject)
    _add_edition_identifiers(package, meta)
    if meta.series:
        _add_series(package, meta.series)
    for prop in assess(converted).metadata:
        attributes = {"property": prop.name} | ({XML_LANG: prop.lang} if prop.lang else {})
        package.add_metadata(None, "meta", prop.value, attributes)


def _add_person(
    package: epub.EpubBook, element: str, uid: str, name: str, file_as: str | None
) -> None:
    """A `dc:creator` or `dc:contributor`, refined by the name a library sorts it by.

    ebooklib's `add_author` gives `file-as` the MARC relator scheme, which names roles.
    """
    package.add_metadata("DC", element, name, {"id": uid})
    if file_as:
        package.add_metadata(None, "meta", file_as, {"refines": f"#{uid}", "property": "file-as"})


def _add_edition_identifiers(package: epub.EpubBook, meta: Metadata) -> None:
    """The EPUB's ISBN as a second `dc:identifier`, and the print ISBN as its `dc:source`.

    The book's own identifier stays the package's unique identifier: EPUB 3.3 (§ 5.5.3,
    "unique-identifier") wants one that does not change between revisions of a book,
    while an ISBN names one edition in one format, and a new edition gets a new one.
    """
    stated = meta.identifier.lower().replace("-", "").replace(" ", "")
    if meta.isbn.epub and f"urn:isbn:{meta.isbn.epub.lower()}" != stated:
        package.add_metadata("DC", "identifier", f"urn:isbn:{meta.isbn.epub}", {"id": "isbn"})
    if meta.isbn.print:
        package.add_metadata("DC", "source", f"urn:isbn:{meta.isbn.print}")
    if meta.edition:
        package.add_metadata(None, "meta", meta.edition, {"property": "schema:bookEdition"})


def _add_series(package: epub.EpubBook, series: Series) -> None:
    """The series, as EPUB 3 states it and as calibre's EPUB 2 metadata does.

    EPUB 3 (§ "belongs-to-collection") states it as a collection of type `series` with
    the book's `group-position`, which calibre's EPUB 3 reader reads (tested); readers
    that came before it (Kobo's firmware for sideloaded books, KOReader) read the
    `calibre:series` and `calibre:series_index` metas that calibre writes.
    """
    package.add_metadata(
        None, "meta", series.name, {"property": "belongs-to-collection", "id": "series"}
    )
    refines = {"refines": "#series"}
    package.add_metadata(None, "meta", "series", refines | {"property": "collection-type"})
    package.add_metadata(None, "meta", "", {"name": "calibre:series", "content": series.name})
    if series.position:
        package.add_metadata(
            None, "meta", series.position, refines | {"property": "group-position"}
        )
        calibre_index = {"name": "calibre:series_index", "content": series.position}
        package.add_metadata(None, "meta", "", calibre_index)


class _Writer(epub.EpubWriter):
    """ebooklib's writer, with the book's language on the package element.

    The package document's own text (title, description, summary) needs a language for
    WCAG 3.1.1 (EPUB Accessibility Techniques 1.1, "Language of package document"); Ace
    reports its absence as `epub-lang`. ebooklib 0.20 has no option for it. Called
    directly rather than through `epub.write_epub`, its `write` raises on failure instead
    of returning False.
    """

    def _write_opf_file(self, root: etree._Element) -> None:
        root.set(XML_LANG, self.book.language)
        super()._write_opf_file(root)


def _document_item(
    uid: str, file_name: str, body: etree._Element, meta: Metadata, title: str
) -> epub.EpubItem:
    content = document(title, meta.language, body, STYLESHEET)
    return epub.EpubItem(
        uid=uid, file_name=file_name, media_type="application/xhtml+xml", content=content
    )


def _cover_body(meta: Metadata, cover_name: str) -> etree._Element:
    body = etree.Element(tag("body"), nsmap=NSMAP)
    body.set("class", "cover")
    body.set(EPUB_TYPE, "cover")
    creators = ", ".join(meta.creator_names)
    etree.SubElement(
        body,
        tag("img"),
        src=cover_name,
        role="doc-cover",
        alt=f"Cover: {meta.title}, by {creators}",
    )
    return body


def _link_targets(converted: ConvertedBook) -> dict[str, str]:
    """The content document of every id (`#id`) and of every chapter source (`name.md`)."""
    targets = chapter_files(converted.chapters)
    for chapter in converted.chapters:
        targets.update(
            {f"#{e.get('id')}": chapter.file_name for e in chapter.body.iter() if e.get("id")}
        )
    return targets


def _resolve_links(body: etree._Element, own_file: str, targets: dict[str, str]) -> etree._Element:
    """Point `#id` and `chapter.md#id` links at the content document that holds the id."""
    resolved = copy.deepcopy(body)
    for link in resolved.iter(tag("a")):
        parts = urlsplit(link.get("href", ""))
        if parts.scheme or parts.netloc:
            continue
        fragment = f"#{parts.fragment}" if parts.fragment else ""
        if parts.path:
            link.set("href", targets[unquote(parts.path)] + fragment)
        elif targets.get(fragment, own_file) != own_file:
            link.set("href", targets[fragment] + fragment)
    return resolved


class _TocEntry:
    """A node of the nested table of contents."""

    def __init__(self, title: str, href: str) -> None:
        self.title = title
        self.href = href
        self.children: list[_TocEntry] = []


def _toc_entries(converted: ConvertedBook) -> list[_TocEntry]:
    """Chapters with their sections nested by heading level, down to `TOC_DEPTH`."""
    roots: list[_TocEntry] = []
    for chapter in converted.chapters:
        stack: list[tuple[int, _TocEntry]] = []
        for heading in heading_entries(chapter.body):
            if heading.level > TOC_DEPTH:
                continue
            entry = _TocEntry(heading.title, _heading_href(chapter.file_name, heading, stack))
            while stack and stack[-1][0] >= heading.level:
                stack.pop()
            (stack[-1][1].children if stack else roots).append(entry)
            stack.append((heading.level, entry))
    return roots


def _heading_href(file_name: str, heading: Heading, stack: list[tuple[int, _TocEntry]]) -> str:
    """A chapter's own title links to its file; sections link to their id."""
    if heading.level == 1 and not stack:
        return file_name
    return f"{file_name}#{heading.anchor}"


def _nav_body(converted: ConvertedBook, toc: list[_TocEntry]) -> etree._Element:
    body = etree.Element(tag("body"), nsmap=NSMAP)
    body.set(EPUB_TYPE, "frontmatter")
    toc_nav = etree.SubElement(body, tag("nav"), id="toc", role="doc-toc")
    toc_nav.set(EPUB_TYPE, "toc")
    etree.SubElement(toc_nav, tag("h1")).text = "Contents"
    _nav_list(toc_nav, toc, converted.book.metadata.toc_depth)

    landmarks = etree.SubElement(body, tag("nav"), id="landmarks", hidden="hidden")
    landmarks.set(EPUB_TYPE, "landmarks")
    landmarks.set("aria-label", "Landmarks")
    etree.SubElement(landmarks, tag("h2")).text = "Landmarks"
    marks = etree.SubElement(landmarks, tag("ol"))
    for kind, href, label in _landmarks(converted):
        link = etree.SubElement(etree.SubElement(marks, tag("li")), tag("a"), href=href)
        link.set(EPUB_TYPE, kind)
        link.text = label

    # A marker without a page number has nothing to show in the list (the accessibility
    # check warns of it): an empty link would fail EPUBCheck.
    pages = [
        (c.file_name, e)
        for c in converted.chapters
        for e in page_breaks(c.body)
        if (e.get("aria-label") or "").strip()
    ]
    if pages:
        page_nav = etree.SubElement(
            body, tag("nav"), id="page-list", role="doc-pagelist", hidden="hidden"
        )
        page_nav.set(EPUB_TYPE, "page-list")
        page_nav.set("aria-label", "Pages")
        etree.SubElement(page_nav, tag("h2")).text = "Pages"
        page_list = etree.SubElement(page_nav, tag("ol"))
        for file_name, marker in pages:
            item = etree.SubElement(page_list, tag("li"))
            link = etree.SubElement(item, tag("a"), href=f"{file_name}#{marker.get('id')}")
            link.text = marker.get("aria-label")
    return body


def _landmarks(converted: ConvertedBook) -> list[tuple[str, str, str]]:
    """(epub:type, href, label) of each landmark in reading order: the cover, the matter
    pages, the contents and where reading starts. The EPUB 2 guide lists the same."""
    front = [(page.kind, page.file_name, page.label) for page in converted.front_matter]
    back = [(page.kind, page.file_name, page.label) for page in converted.back_matter]
    return [
        ("cover", COVER_PAGE, "Cover"),
        *front,
        ("toc", f"{NAV_PAGE}#toc", "Contents"),
        ("bodymatter", _first_body_chapter(converted), "Start"),
        *back,
    ]


def _nav_list(parent: etree._Element, entries: list[_TocEntry], shown: int) -> None:
    """The entries as nested lists; a list deeper than `shown` levels is `hidden`: EPUB
    3.3 (the `hidden` attribute in the navigation document) has the contents page leave
    it out while the reader's own navigation keeps it (`toc_depth`)."""
    ordered = etree.SubElement(parent, tag("ol"))
    if shown < 1:
        ordered.set("hidden", "hidden")
    for entry in entries:
        item = etree.SubElement(ordered, tag("li"))
        etree.SubElement(item, tag("a"), href=entry.href).text = entry.title
        if entry.children:
            _nav_list(item, entry.children, shown - 1)


def _first_body_chapter(converted: ConvertedBook) -> str:
    for chapter in converted.chapters:
        if chapter.body.get(EPUB_TYPE) == "bodymatter":
            return chapter.file_name
    return converted.chapters[0].file_name


def _ncx(meta: Metadata, toc: list[_TocEntry]) -> bytes:
    """The EPUB 2 table of contents, for reading systems that ignore the nav document."""
    root = etree.Element(f"{{{NCX_NS}}}ncx", nsmap={None: NCX_NS}, version="2005-1")
    root.set("{http://www.w3.org/XML/1998/namespace}lang", meta.language)
    head = etree.SubElement(root, f"{{{NCX_NS}}}head")
    depth = _depth(toc)
    for name, content in (
        ("dtb:uid", meta.identifier),
        ("dtb:depth", str(depth)),
        ("dtb:totalPageCount", "0"),
        ("dtb:maxPageNumber", "0"),
    ):
        etree.SubElement(head, f"{{{NCX_NS}}}meta", name=name, content=content)
    title = etree.SubElement(root, f"{{{NCX_NS}}}docTitle")
    etree.SubElement(title, f"{{{NCX_NS}}}text").text = meta.title
    nav_map = etree.SubElement(root, f"{{{NCX_NS}}}navMap")
    counter = iter(range(1, 1_000_000))

    def add(parent: etree._Element, entries: list[_TocEntry]) -> None:
        for entry in entries:
            order = next(counter)
            point = etree.SubElement(
                parent, f"{{{NCX_NS}}}navPoint", id=f"navpoint-{order}", playOrder=str(order)
            )
            label = etree.SubElement(point, f"{{{NCX_NS}}}navLabel")
            etree.SubElement(label, f"{{{NCX_NS}}}text").text = entry.title
            etree.SubElement(point, f"{{{NCX_NS}}}content", src=entry.href)
            add(point, entry.children)

    add(nav_map, toc)
    return etree.tostring(root, xml_declaration=True, encoding="utf-8", pretty_print=True)


def _depth(entries: list[_TocEntry]) -> int:
    return 1 + max((_depth(e.children) for e in entries), default=0) if entries else 0


def _fix_zip_times(data: bytes, when: datetime, extra: dict[str, bytes]) -> bytes:
    """The same archive with every entry stamped `when`, as `archive_entry` makes them,
    and the `extra` entries ebooklib cannot write (files of `META-INF/` but the container)
    after the container."""
    source = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as target:
        for info in source.infolist():
            entry = archive_entry(info.filename, when, info.compress_type)
            target.writestr(entry, source.read(info.filename))
            if info.filename == "META-INF/container.xml":
                for name, content in extra.items():
                    target.writestr(archive_entry(name, when), content)
    return out.getvalue()


def package_path(archive: zipfile.ZipFile) -> str:
    """Where an EPUB keeps its package document, as META-INF/container.xml says.

    Raises `KeyError` when the container names none.
    """
    container = etree.fromstring(archive.read("META-INF/container.xml"), safe_parser())
    rootfile = container.find(f".//{{{CONTAINER_NS}}}rootfile")
    if rootfile is None or not rootfile.get("full-path"):
        raise KeyError("META-INF/container.xml names no package document")
    return str(rootfile.get("full-path"))
