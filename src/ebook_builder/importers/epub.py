"""The EPUB reader of `ebook import`: EPUB 2 and 3 books back to Markdown chapters.

The package is checked and its OPF read here (metadata, cover, spine); each spine
document goes to pandoc's HTML reader with the extensions of its EPUB reader, in batches
on every core as the build converts chapters (pandoc's EPUB reader does the same work in
one process, most of an import's time). The documents are joined as a website's pages
are (`pandoc_markup.join_documents`: links between them, ids two of them share, picture
paths), the cover page, title page and navigation document dropped (the build makes its
own), notes at the end made notes, `<section>` wrappers opened, page-break markers written
back as the build's `[]{.pagebreak page="N"}`; then the tree goes the way of Markdown and
HTML (`pandoc_markup.draft_from_tree`).
"""

from __future__ import annotations

import html.entities
import itertools
import posixpath
import re
import tempfile
import zipfile
from pathlib import Path
from typing import Any
from urllib.parse import unquote

import lxml.html
from lxml import etree

from ebook_builder.errors import InputError
from ebook_builder.importers import package_credits
from ebook_builder.importers.draft import Draft
from ebook_builder.importers.epub_types import (
    MATTER,
    TITLE_PAGES,
    as_epub_types,
    carry_semantics,
)
from ebook_builder.importers.packaged import DC, cover_suffix, open_package, read_xml
from ebook_builder.importers.pandoc_markup import (
    draft_from_tree,
    join_documents,
    raise_headings,
    read_tree,
)
from ebook_builder.importers.tree import (
    ATTR_AT,
    LISTS,
    Node,
    attributed,
    broken_lines,
    elements,
    is_page_marker,
    list_items,
    lists,
    page_marker,
    plain_text,
)
from ebook_builder.load import DATE
from ebook_builder.markup.semantics import BACK_MATTER, FRONT_MATTER
from ebook_builder.markup.xhtml import (
    EPUB_TYPE,
    HEADING_TAGS,
    VOID_TAGS,
    XHTML_NS,
    safe_parser,
)
from ebook_builder.matter import LABELS, made_page
from ebook_builder.pandoc import Refused, convert_documents

_OPF = "{http://www.idpf.org/2007/opf}"
_CONTAINER = "{urn:oasis:names:tc:opendocument:xmlns:container}"
# Encryption that only obfuscates embedded fonts (IDPF, Adobe) locks no text away.
_FONT_OBFUSCATION = {"http://www.idpf.org/2008/embedding", "http://ns.adobe.com/pdf/enc#RC"}
_XHTML = f"{{{XHTML_NS}}}"
_ENC = "{http://www.w3.org/2001/04/xmlenc#}"
# Sections of notes at the end, by epub:type (pandoc's classes for it).
_NOTE_SECTIONS = {"endnotes", "footnotes", "rearnotes"}
# The spine's documents pandoc reads (EPUB 2 allowed DTBook too, which nobody uses).
_DOCUMENT_TYPES = {"application/xhtml+xml", "text/html"}
# Pandoc's HTML reader with the extensions of its EPUB reader (`--list-extensions=epub`).
_HTML_AS_EPUB = "html+epub_html_exts+raw_html-auto_identifiers-line_blocks"
# The elements whose ids pandoc's HTML reader keeps in its tree and Markdown.
_IDS_KEPT = {etree.QName(heading).localname for heading in HEADING_TAGS}
_IDS_KEPT |= {"div", "section", "header", "span", "a", "img", "figure", "table", "li", "pre"}
# The `epub:type`s of a note, which pandoc's EPUB extensions find by id (`_keep_ids`).
_NOTES = {"footnote", "endnote", "rearnote", "note"}
_HTML_ENTITY = re.compile(rb"&([A-Za-z][A-Za-z0-9]*);")
_XML_ENTITIES = {"amp", "lt", "gt", "quot", "apos"}  # predefined in XML itself
_SVG = "{http://www.w3.org/2000/svg}"
_NCX = "{http://www.daisy.org/z3986/2005/ncx/}"
_XLINK_HREF = "{http://www.w3.org/1999/xlink}href"
_SVG_TEXT = {"title", "desc"}  # what an SVG framing one picture may hold besides it
_UNCARRIED = ("identifier", "source", "coverage", "relation")


def read_epub(source: Path, kind: str) -> Draft:
    """The draft of an EPUB: a chapter per level-1 heading, metadata and cover from the OPF."""
    # Phase 1: the package checked and its OPF read, before pandoc sees anything.
    _, package = open_package(source, kind)
    _refuse_drm(package, source)
    opf_path = _opf_path(package, source)
    opf = read_xml(package, opf_path, source, kind)
    folder = posixpath.dirname(opf_path)
    manifest = {
        item.get("id"): item for item in opf.iter(f"{_OPF}item") if item.get("href") is not None
    }
    report: list[str] = []
    cover_href = _cover_href(opf, manifest)
    cover = _cover(package, folder, cover_href, source)
    skipped = {
        _member(folder, item.get("href"))
        for item in manifest.values()
        if "nav" in (item.get("properties") or "").split()
    }
    spine = _spine(package, opf, manifest, folder, report)
    # Phase 2: each spine document read by pandoc, as the build reads chapters (batches
    # on every core), and given back the build's Markdown conventions; then the path
    # every pandoc-read source takes.
    pages = [_content_document(package, member, source) for member in spine]
    made = _made_pages(spine, pages)
    read = {
        member: page for member, page in zip(spine, pages, strict=True) if member not in skipped
    }
    carried = carry_semantics(read, report)  # what pandoc would drop, in markup it keeps
    version, documents, titles = _read_documents(spine, pages, source, report)
    join_documents(documents, report)
    kept = {id(block) for block in _endnotes([b for _, d in documents for b in d], report)}
    documents = [(name, _hgroups([b for b in d if id(b) in kept])) for name, d in documents]
    names = {member: title for member, title in titles.items() if title} | _toc_labels(
        package, opf, manifest, folder, source
    )
    documents = [(name, blocks) for name, blocks in documents if name not in made]
    blocks = _documents(documents, skipped, cover_href, names, report)
    _drop_back_links(blocks)
    blocks = _open_sections(blocks)
    raise_headings(blocks)
    page_markers = _build_attributes(blocks)
    if carried:  # else no carried value is in the tree: a walk spared
        as_epub_types(blocks)
    _marks_out_of_headings(blocks)
    blocks = _line_blocks(blocks)
    metadata = _metadata(opf, page_markers > 0, report)
    for member, kind in made.items():
        page = LABELS.get(kind, kind).lower()
        report.append(f"dropped {member}: the {page} the build makes from the metadata")
        if kind == "dedication":
            metadata["dedication"] = _dedication(pages[spine.index(member)])
    tree = {"pandoc-api-version": version, "meta": {}, "blocks": blocks}
    with tempfile.TemporaryDirectory(prefix="ebook-import-") as media:
        _unpack_pictures(package, blocks, Path(media))
        draft = draft_from_tree(tree, metadata, source, Path(media), report)
    draft.cover = cover
    return draft


def _made_pages(spine: list[str], pages: list[Any]) -> dict[str, str]:
    """The spine documents that are pages a build made from the metadata (`matter`), by
    kind: the import carries their facts in the metadata, and the next build makes them
    again, so they are no chapters."""
    bodies = (
        (member, page.find(f"{_XHTML}body")) for member, page in zip(spine, pages, strict=True)
    )
    return {
        member: kind
        for member, body in bodies
        if body is not None and (kind := made_page(body)) is not None
    }


def _dedication(page: Any) -> str:
    """A made dedication page's text, a blank line between its paragraphs."""
    paragraphs = page.iter(f"{_XHTML}p")
    return "\n\n".join(" ".join("".join(p.itertext()).split()) for p in paragraphs)


def _member(folder: str, href: str) -> str:
    """The package member an OPF `href` names (relative to the OPF's folder)."""
    return posixpath.normpath(posixpath.join(folder, unquote(href)))


def _spine(
    package: zipfile.ZipFile, opf: Any, manifest: dict[str, Any], folder: str, report: list[str]
) -> list[str]:
    """The members of the spine's XHTML documents, in reading order. An item that is not
    XHTML (an SVG page, a DTBook) is reported: pandoc reads only HTML."""
    spine: list[str] = []
    for ref in opf.iter(f"{_OPF}itemref"):
        item = manifest.get(ref.get("idref"))
        if item is None:
            continue
        member = _member(folder, item.get("href"))
        if item.get("media-type") not in _DOCUMENT_TYPES:
            report.append(f"spine item {member} skipped: {item.get('media-type')} is not XHTML")
        elif member not in package.namelist():
            report.append(f"spine item {member} skipped: the package does not hold it")
        elif member not in spine:
            spine.append(member)
    return spine


def _read_documents(
    spine: list[str], pages: list[Any], source: Path, report: list[str]
) -> tuple[list[int], list[tuple[str, list[Node]]], dict[str, str]]:
    """Pandoc's API version, each spine document's blocks and each one's `<title>`, read
    as pandoc's EPUB reader reads them (its HTML reader with the EPUB extensions) but a
    process per core rather than one: the EPUB reader is most of an import's time."""
    texts = []
    for page in pages:
        _keep_ids(page)
        _svg_pictures(page)
        texts.append(etree.tostring(page, encoding="unicode"))
    try:
        converted = convert_documents(texts, _HTML_AS_EPUB, "json")
    except Refused as exc:
        raise InputError(f"not EPUB: {spine[exc.index]}: {exc}", path=source) from None
    trees = [read_tree(document.output, source) for document in converted]
    for member, document in zip(spine, converted, strict=True):
        report.extend(f"pandoc: {member}: {warning}" for warning in document.warnings)
    if not trees:
        raise InputError("no text to import: the spine names no XHTML document", path=source)
    pairs = list(zip(spine, trees, strict=True))
    titles = {member: plain_text(tree["meta"].get("title")) for member, tree in pairs}
    return (
        trees[0]["pandoc-api-version"],
        [(member, tree["blocks"]) for member, tree in pairs],
        titles,
    )


def _keep_ids(page: Any) -> None:
    """Every id pandoc's HTML reader would drop moved where it keeps one, so links to it
    still land (a note's `<p id>`, a chapter's `<section id>`).

    Pandoc keeps the ids of headings, divs, sections, spans, links, pictures, tables and
    list items; a paragraph, a block quote, a table cell (its Markdown has no place for
    one), emphasis and the rest lose theirs, and so does a section of `epub:type`
    `chapter`, which pandoc unwraps. A note's (`<aside epub:type="footnote">`) stays: by
    it pandoc finds the note a reference cites. A chapter's id goes onto its heading when that has
    none; any other onto an empty `<span>` where the element's text starts, or just before
    a void or foreign element (`<hr>`, `<math>`)."""
    for element in list(page.iter(f"{_XHTML}*")):
        id_ = element.get("id")
        types = set(element.get(EPUB_TYPE, "").split())
        kept = etree.QName(element).localname in _IDS_KEPT or types & _NOTES
        if not id_ or (kept and "chapter" not in types):
            continue
        del element.attrib["id"]
        heading = next(element.iter(*HEADING_TAGS), None) if "chapter" in types else None
        if heading is not None and not heading.get("id"):
            heading.set("id", id_)
            continue
        anchor = etree.Element(f"{_XHTML}span", id=id_)
        start = element
        while not (start.text or "").strip() and len(start) and _holds_text(start[0]):
            start = start[0]
        if _holds_text(start):
            anchor.tail, start.text = start.text, None
            start.insert(0, anchor)
        else:
            start.addprevious(anchor)


def _svg_pictures(page: Any) -> None:
    """An `<svg>` that only frames one picture (`<image xlink:href>`, as calibre and many
    EPUB 2 books set their cover and full-page pictures) made an `<img>` of that picture:
    pandoc keeps inline SVG as raw HTML, where the picture would be neither found nor
    copied, and a cover page would not be known for one. Its `<title>` is the alt text."""
    for svg in list(page.iter(f"{_SVG}svg")):
        parts = [e for e in svg.iterdescendants() if etree.QName(e).localname not in _SVG_TEXT]
        if len(parts) != 1 or parts[0].tag != f"{_SVG}image":
            continue
        href = parts[0].get(_XLINK_HREF) or parts[0].get("href")
        if not href:
            continue
        title = svg.find(f"{_SVG}title")
        alt = " ".join("".join(title.itertext()).split()) if title is not None else ""
        picture = etree.Element(f"{_XHTML}img", src=href, alt=alt)
        picture.tail = svg.tail
        svg.getparent().replace(svg, picture)


def _holds_text(element: Any) -> bool:
    """An element a `<span>` may go inside: XHTML, not void."""
    name = etree.QName(element)
    return name.namespace == XHTML_NS and name.localname not in VOID_TAGS


def _content_document(package: zipfile.ZipFile, member: str, source: Path) -> Any:
    """A spine document parsed, its HTML entities (`&nbsp;`) written as the characters
    they name: XHTML 1.1's DTD declares them, yet the parser reads no DTD (and an EPUB 3
    document has none), so `&nbsp;` alone would make a real book "not XML"."""
    data = _HTML_ENTITY.sub(_character_reference, package.read(member))
    try:
        return etree.fromstring(data, safe_parser())
    except etree.XMLSyntaxError:
        return _read_as_html(data, member, source)


def _read_as_html(data: bytes, member: str, source: Path) -> Any:
    """A document that is not XML (an old book's HTML 4, a `<br>` left open) read as a
    browser reads HTML, and put in XHTML's namespace: pandoc's EPUB reader reads such
    documents, so refusing them would refuse books it imports. Like the XML parser, this
    one reads no DTD and fetches nothing."""
    parser = lxml.html.HTMLParser(no_network=True, remove_comments=True, remove_pis=True)
    try:
        page = lxml.html.document_fromstring(data, parser=parser)
    except (etree.ParserError, ValueError):
        raise InputError(f"not EPUB: {member} is neither XML nor HTML", path=source) from None
    lxml.html.html_to_xhtml(page)
    return page


def _character_reference(found: re.Match[bytes]) -> bytes:
    """`&nbsp;` as `&#160;`; an XML entity as it was; a name nobody declares as its text
    (`&amp;foo;`), as a browser shows it, rather than the whole book refused."""
    name = found[1].decode("ascii")
    text = html.entities.html5.get(f"{name};")
    if name in _XML_ENTITIES:
        return found[0]
    if text is None:
        return b"&amp;" + found[0][1:]
    return "".join(f"&#{ord(character)};" for character in text).encode("ascii")


def _unpack_pictures(package: zipfile.ZipFile, blocks: list[Node], media: Path) -> None:
    """Write each picture the blocks show that the package holds under `media`, by its
    member name (which `join_documents` made every picture's path), for `draft_from_tree`
    to copy as it copies a folder's."""
    members = set(package.namelist())
    for image in elements(blocks, "Image"):
        member = image["c"][2][0]
        if member in members and not (media / member).exists():
            (media / member).parent.mkdir(parents=True, exist_ok=True)
            (media / member).write_bytes(package.read(member))


def _refuse_drm(package: zipfile.ZipFile, source: Path) -> None:
    """An EPUB locked by DRM cannot be read: its text is encrypted. `rights.xml` always
    means DRM; `encryption.xml` does unless all it hides is obfuscated fonts."""
    names = set(package.namelist())
    if "META-INF/rights.xml" in names:
        raise InputError("refused: the EPUB is locked by DRM (META-INF/rights.xml)", path=source)
    if "META-INF/encryption.xml" in names:
        encryption = read_xml(package, "META-INF/encryption.xml", source, "epub")
        methods = {m.get("Algorithm") for m in encryption.iter(f"{_ENC}EncryptionMethod")}
        if not methods or methods - _FONT_OBFUSCATION:
            message = "refused: the EPUB is encrypted (DRM, META-INF/encryption.xml)"
            raise InputError(message, path=source)


def _opf_path(package: zipfile.ZipFile, source: Path) -> str:
    """Where the package document is, as META-INF/container.xml says."""
    container = read_xml(package, "META-INF/container.xml", source, "epub")
    rootfile = container.find(f".//{_CONTAINER}rootfile")
    path = rootfile.get("full-path") if rootfile is not None else None
    if not path or path not in package.namelist():
        raise InputError("not EPUB: META-INF/container.xml names no package document", path=source)
    return str(path)


def _metadata(opf: Any, paginated: bool, report: list[str]) -> dict[str, Any]:
    """What the OPF states that the metadata file has a key for; the rest reported.

    A `paginated` book (page-break markers) takes its `dc:source` as `page_source`, the
    print edition its pages follow, as EPUB Accessibility 1.1 and Ace read `dc:source`
    in a book with page breaks. The package's unique identifier is kept: a publisher
    moving a book to this tool must not make it a new book in the stores."""
    meta = opf.find(f"{_OPF}metadata")
    if meta is None:
        meta = opf
    refines: dict[str, dict[str, str]] = {}
    roles: dict[str, set[str]] = {}  # a creator may have several (SE: `aut` and `dto`)
    for item in meta.iter(f"{_OPF}meta"):
        target, prop = item.get("refines", "").lstrip("#"), item.get("property")
        if target and prop:
            refines.setdefault(target, {})[prop] = " ".join((item.text or "").split())
        if target and prop == "role":
            roles.setdefault(target, set()).add((item.text or "").strip())

    def text(element: Any) -> str:
        return " ".join((element.text or "").split())

    titles = list(meta.iter(f"{DC}title"))
    kinds = [refines.get(t.get("id", ""), {}).get("title-type", "") for t in titles]
    main = [t for t, k in zip(titles, kinds, strict=True) if k in ("", "main")]
    subtitle = [t for t, k in zip(titles, kinds, strict=True) if k == "subtitle"]
    stated: dict[str, Any] = {
        "title": text(main[0]) if main else "",
        "subtitle": text(subtitle[0]) if subtitle else "",
        "language": next((text(e) for e in meta.iter(f"{DC}language")), ""),
        "publisher": next((text(e) for e in meta.iter(f"{DC}publisher")), ""),
        "description": next((text(e) for e in meta.iter(f"{DC}description")), ""),
        "date": next((text(e) for e in meta.iter(f"{DC}date")), ""),
        "subjects": [text(e) for e in meta.iter(f"{DC}subject") if text(e)],
    }
    stated["creators"], stated["contributors"] = package_credits.people(
        meta, refines, roles, report
    )
    stated["series"] = package_credits.series(meta, refines, report)
    stated["rights"] = package_credits.rights(meta, report)
    if stated["date"] and not DATE.match(stated["date"]):  # often a time: 2001-05-06T00:00Z
        day = stated["date"][:10]
        if not DATE.match(day):
            report.append(f"metadata: `date` not carried ({stated['date']}): not a date")
        stated["date"] = day if DATE.match(day) else ""
    if not stated["language"]:
        stated["language"] = "en"
        report.append("metadata: `language` set to `en`: the OPF does not state it")
    sources = [text(e) for e in meta.iter(f"{DC}source") if text(e)]
    if paginated and sources:
        stated["page_source"] = sources[0]
        report.append(f"metadata: `page_source` (the print edition) from dc:source: {sources[0]}")
    unique = opf.get("unique-identifier")
    for element in meta.iter(f"{DC}identifier"):
        if element.get("id") == unique and text(element):
            stated["identifier"] = text(element)
            report.append(
                f"metadata: `identifier` kept from the OPF, since stores and reading apps "
                f"know the book by it: {text(element)}"
            )
    carried = {stated.get("page_source"), stated.get("identifier")}
    for key in _UNCARRIED:
        for element in meta.iter(f"{DC}{key}"):
            if text(element) not in carried:
                report.append(f"metadata: `{key}` not carried: {text(element)}")
    return stated


def _toc_labels(
    package: zipfile.ZipFile, opf: Any, manifest: dict[str, Any], folder: str, source: Path
) -> dict[str, str]:
    """Each spine document's name in the book's table of contents, by member: the label
    of the first entry that points into it, from the EPUB 3 navigation document or else
    the EPUB 2 NCX. Empty for a book without either."""
    navs = [i for i in manifest.values() if "nav" in (i.get("properties") or "").split()]
    spine = opf.find(f"{_OPF}spine")
    ncx = manifest.get(spine.get("toc")) if spine is not None else None
    table = navs[0] if navs else ncx
    member = _member(folder, table.get("href")) if table is not None else ""
    if member not in package.namelist():
        return {}
    tree = _content_document(package, member, source)
    entries = _nav_entries(tree) if navs else _ncx_entries(tree)
    labels: dict[str, str] = {}
    for href, label in entries:
        path, text = href.split("#")[0], " ".join(label.split())
        if path and text:
            labels.setdefault(_member(posixpath.dirname(member), path), text)
    return labels


def _nav_entries(nav: Any) -> list[tuple[str, str]]:
    """(href, label) of each entry of an EPUB 3 navigation document's `toc` nav."""
    tocs = [n for n in nav.iter(f"{_XHTML}nav") if "toc" in n.get(EPUB_TYPE, "").split()]
    links = (link for toc in tocs[:1] for link in toc.iter(f"{_XHTML}a"))
    return [(link.get("href", ""), "".join(link.itertext())) for link in links]


def _ncx_entries(ncx: Any) -> list[tuple[str, str]]:
    """(href, label) of each navigation point of an EPUB 2 NCX."""
    entries = []
    for point in ncx.iter(f"{_NCX}navPoint"):
        content = point.find(f"{_NCX}content")
        label = point.findtext(f"{_NCX}navLabel/{_NCX}text") or ""
        entries.append((content.get("src", "") if content is not None else "", label))
    return entries


def _cover_href(opf: Any, manifest: dict[str, Any]) -> str | None:
    """The cover picture's path relative to the OPF: EPUB 3's `cover-image` item, else
    EPUB 2's `<meta name="cover">`."""
    for item in manifest.values():
        if "cover-image" in (item.get("properties") or "").split():
            return unquote(item.get("href"))
    for meta in opf.iter(f"{_OPF}meta"):
        if meta.get("name") == "cover" and meta.get("content") in manifest:
            return unquote(manifest[meta.get("content")].get("href"))
    return None


def _cover(
    package: zipfile.ZipFile, folder: str, href: str | None, source: Path
) -> tuple[str, bytes] | None:
    """The cover as the draft's (suffix, bytes), when it is a JPEG or PNG."""
    if href is None:
        return None
    suffix = cover_suffix(href)
    member = posixpath.normpath(posixpath.join(folder, href))
    if suffix is None or member not in package.namelist():
        return None
    return suffix, package.read(member)


def _documents(
    documents: list[tuple[str, list[Node]]],
    skipped: set[str],
    cover: str | None,
    names: dict[str, str],
    report: list[str],
) -> list[Node]:
    """The blocks of the spine's documents, less the navigation document, the cover
    page (a document with no text whose only picture is the cover), the title pages (a
    section of epub:type `titlepage` or `halftitlepage`: the build writes the title page
    from the metadata) and documents left empty (an endnotes page whose notes went inline).

    A document without a heading (a dedication, an epigraph, a chapter whose title is a
    styled paragraph) is headed by its name in the book (`names`: its entry in the table
    of contents, else its `<title>`) at the level the other documents open with: else it
    would run on into the chapter before it, since chapters are cut at headings."""
    chosen: list[tuple[str, list[Node]]] = []
    headings: list[list[Node]] = []
    for name, content in documents:
        found = elements(content, "Image", "Div", "Header")
        pictures = [node["c"][2][0] for node in found if node["t"] == "Image"]
        is_cover = (
            cover is not None
            and pictures
            and all(Path(url).name == posixpath.basename(cover) for url in pictures)
            and not plain_text(content)
        )
        kinds = {kind for div in found if div["t"] == "Div" for kind in div["c"][0][1]}
        what = (
            "cover page"
            if is_cover
            else "table of contents"
            if name in skipped
            else "title page"
            if kinds & TITLE_PAGES
            else ""
        )
        if what:
            report.append(f"dropped {name}: the {what}; the build makes its own")
        elif not content:
            report.append(f"dropped {name}: nothing left in it")
        else:
            chosen.append((name, content))
            headings.append(_cutting_headings(content))
            outer = content[0]["c"][0][1] if content[0]["t"] == "Div" else []
            if headings[-1] and set(headings[-1][0]["c"][1][1]) & {"frontmatter", "backmatter"}:
                outer = []  # its <body>'s partition, reported by `carry_semantics`
            for kind in sorted(k for k in outer if k in FRONT_MATTER | BACK_MATTER):
                part = "front" if kind in FRONT_MATTER else "back"
                report.append(f"kept {name} as a chapter of the {part} matter (`{kind}`)")
    top = min((found[0]["c"][0] if found else 6 for found in headings), default=1)
    kept: list[Node] = []
    for (name, content), found in zip(chosen, headings, strict=True):
        if not found and names.get(name):
            title = [{"t": "Str", "c": names[name]}]
            section = content[0] if content[0]["t"] == "Div" else None
            opening = section["c"][1] if section and "section" in section["c"][0][1] else content
            opening.insert(0, {"t": "Header", "c": [top, ["", [], []], title]})
            report.append(f"{name} has no heading: headed `{names[name]}`, its name in the book")
        kept += content
    return kept


def _cutting_headings(blocks: list[Node]) -> list[Node]:
    """The headings of `blocks` a chapter can be cut at: at the top or in a div (the
    split opens sections), not in a table cell, list or quote (the Tractatus numbers
    its propositions with headings in a table), which cannot open a chapter."""
    found: list[Node] = []
    for block in blocks:
        if block["t"] == "Header":
            found.append(block)
        elif block["t"] == "Div":
            found += _cutting_headings(block["c"][1])
    return found


def _endnotes(blocks: list[Node], report: list[str]) -> list[Node]:
    """Notes at the end made notes again: a note reference (epub:type `noteref`, role
    `doc-noteref`) that links to an item of an endnotes section becomes a Markdown note
    holding that item, in the chapter that cites it, as the build's Markdown has them.
    A reference is found wherever its inlines sit, not only straight in a paragraph: a
    verse line is a `<span>` (Standard Ebooks' plays and poems), and a reference in one
    left behind would be taken for a note of another kind by `inline_linked_notes`.
    A notes section whose every item went inline is dropped; one with items left is kept
    (reported), so no text is lost, and holds only those: the others are in the text."""
    sections = [
        div
        for div in elements(blocks, "Div")
        if div["c"][0][1] and _NOTE_SECTIONS & set(div["c"][0][1])
    ]
    items = {
        div["c"][0][0]: div
        for section in sections
        for div in elements(section["c"][1], "Div")
        if div["c"][0][0]
    }
    used: set[str] = set()
    for inlines in lists(blocks):
        for at, node in enumerate(inlines):
            if not isinstance(node, dict) or node.get("t") != "Link" or not _is_note_ref(node):
                continue
            target = node["c"][2][0].lstrip("#")
            if target in items and target not in used:
                used.add(target)
                inlines[at] = {"t": "Note", "c": items[target]["c"][1]}
    dropped = {
        id(section)
        for section in sections
        if all(div["c"][0][0] in used for div in elements(section["c"][1], "Div") if div["c"][0][0])
    }
    for section in sections:
        if id(section) not in dropped:
            report.append(
                f"kept the notes section `{section['c'][0][0]}`: not all its notes are cited"
            )
    if used:
        report.append(f"{len(used)} notes at the end made notes in the chapters that cite them")
    return _without(blocks, dropped | {id(items[target]) for target in used})


def _is_note_ref(link: Node) -> bool:
    """A link marked as a note reference, by epub:type (pandoc's class) or ARIA role."""
    _, classes, attributes = link["c"][0]
    return "noteref" in classes or ["role", "doc-noteref"] in attributes


def _without(blocks: list[Node], dropped: set[int]) -> list[Node]:
    """`blocks` less the divs whose identity is in `dropped`, at any depth, and less the
    list items left empty by it (a note of a kept notes section that went inline)."""
    kept: list[Node] = []
    for block in blocks:
        if id(block) in dropped:
            continue
        if block["t"] == "Div":
            block["c"][1] = _without(block["c"][1], dropped)
        elif block["t"] in LISTS:
            items = list_items(block)
            left = [(_without(item, dropped), item) for item in items]
            items[:] = [rest for rest, item in left if rest or not item]
        kept.append(block)
    return kept


def _hgroups(blocks: list[Node]) -> list[Node]:
    """An `<hgroup>` (a heading and its title or subtitle) as one heading, `I: A Day at a
    Time`.

    Pandoc's reader keeps `<hgroup>` as raw HTML around the heading and a paragraph; in
    Markdown those tags would wrap the chapter's heading in a block the build cannot
    close, and the subtitle would be body text rather than part of the title."""
    kept: list[Node] = []
    group: list[Node] | None = None
    for block in blocks:
        if block["t"] == "Div":
            block["c"][1] = _hgroups(block["c"][1])
        raw = block["c"][1].strip() if block["t"] == "RawBlock" else ""
        if raw.startswith("<hgroup"):
            group = []
        elif raw == "</hgroup>" and group is not None:
            kept += _one_heading(group)
            group = None
        elif group is not None:
            group.append(block)
        else:
            kept.append(block)
    return kept + (group or [])


def _one_heading(group: list[Node]) -> list[Node]:
    """The blocks of an `<hgroup>` as its first heading and, after a colon, the text of
    the block after it (the title after a number, as SE's `<title>` has it). Any further
    lines (a date, a note reference) follow as paragraphs: in the heading they would be
    in the table of contents."""
    at = next((i for i, block in enumerate(group) if block["t"] == "Header"), None)
    if at is None:
        return group
    heading, rest = group[at], group[:at] + group[at + 1 :]
    if at < len(group) - 1 and group[at + 1]["t"] in ("Header", "Para", "Plain"):
        title = group[at + 1]
        inlines = title["c"][2] if title["t"] == "Header" else title["c"]
        heading["c"][2] += [{"t": "Str", "c": ":"}, {"t": "Space"}, *inlines]
        rest.remove(title)
    return [heading, *rest]


def _drop_back_links(blocks: list[Node]) -> None:
    """A note's link back to its reference (`↩` at its end, or its number at its start, as
    the build writes it; `role="doc-backlink"`) is the build's, which writes its own. The
    space after a number goes with it, and a paragraph that held nothing else."""
    for note in elements(blocks, "Note"):
        for holder in elements(note["c"], "Para", "Plain"):
            kept = [node for node in holder["c"] if not _is_back_link(node)]
            if len(kept) < len(holder["c"]):
                holder["c"] = list(itertools.dropwhile(_is_space, kept))
        note["c"] = [block for block in note["c"] if not _emptied(block)]


def _is_space(node: Node) -> bool:
    return node["t"] in {"Space", "SoftBreak", "LineBreak"}


def _emptied(block: Node) -> bool:
    """A paragraph with nothing left in it."""
    return block["t"] in {"Para", "Plain"} and not block["c"]


def _is_back_link(node: Node) -> bool:
    """A note's link back to its reference, as pandoc and the build write it."""
    if node["t"] != "Link":
        return False
    _, classes, attributes = node["c"][0]
    return (
        bool({"footnote-back", "backlink"} & set(classes)) or ["role", "doc-backlink"] in attributes
    )


def _open_sections(blocks: list[Node]) -> list[Node]:
    """`<section>` wrappers (divs of class `section`) and wrappers that carry nothing (a
    `<header>` around a heading) opened, so the Markdown has plain headings as the build's
    has. A section's id moves onto the heading it starts with, and so do the types that
    place it in the front or back matter (`imprint`, `colophon`, `dedication`), from which
    the build tells the book's partitions (`semantics.partition`)."""
    opened: list[Node] = []
    for block in blocks:
        if block["t"] == "Div":
            block["c"][1] = _open_sections(block["c"][1])
        bare = block["t"] == "Div" and block["c"][0] == ["", [], []]
        if block["t"] != "Div" or not (bare or "section" in block["c"][0][1]):
            opened.append(block)
            continue
        (id_, classes, _), inner = block["c"][0], block["c"][1]
        matter = [c for c in classes if c.removeprefix("z3998:") in MATTER]
        if inner and inner[0]["t"] == "Header":
            inner[0]["c"][1][1] += [c for c in matter if c not in inner[0]["c"][1][1]]
        if inner and inner[0]["t"] == "Header" and not inner[0]["c"][1][0]:
            inner[0]["c"][1][0] = id_
        elif id_:
            inner.insert(0, {"t": "Div", "c": [[id_, [], []], []]})
        opened += inner
    return opened


def _build_attributes(blocks: list[Node]) -> int:
    """The attributes the build writes itself taken off again, and its page markers
    written as its Markdown has them; how many page markers.

    `epub:` attributes pandoc copies from the source (`epub:type`: the values the build
    can take are carried by `epub_types.carry_semantics`, which `as_epub_types` writes
    back afterwards), the ARIA roles of divs and spans (the build derives them from the
    classes) and a class written twice go. A page-break span (`role=
    "doc-pagebreak"`, `epub:type="pagebreak"`) becomes `[]{.pagebreak page="N"}`, the
    number from its label. One walk for all: a novel's tree has a million elements."""
    pages = 0
    for node in attributed(blocks):
        attrs = node["c"][ATTR_AT[node["t"]]]
        pairs = dict(attrs[2])
        marks_page = "pagebreak" in attrs[1] or pairs.get("role") == "doc-pagebreak"
        if node["t"] == "Span" and marks_page:
            page = pairs.get("aria-label") or pairs.get("title") or ""
            node["c"] = page_marker(page)["c"]
            pages += 1
            continue
        dropped = ("role", "epub:") if node["t"] in ("Div", "Span") else ("epub:",)
        attrs[1] = list(dict.fromkeys(attrs[1]))
        attrs[2] = [pair for pair in attrs[2] if not pair[0].startswith(dropped)]
    return pages


def _marks_out_of_headings(blocks: list[Node]) -> None:
    """A page marker opening a heading moved to the start of the paragraph after it, as
    the build's Markdown has it: in the heading it would be part of the table of
    contents' entry."""
    for at, block in enumerate(blocks[:-1]):
        following = blocks[at + 1]
        if block["t"] == "Header" and following["t"] in ("Para", "Plain"):
            inlines = block["c"][2]
            marks = [node for node in inlines if is_page_marker(node)]
            block["c"][2] = [node for node in inlines if not is_page_marker(node)]
            following["c"][:0] = marks


def _line_blocks(blocks: list[Node]) -> list[Node]:
    """Pandoc writes a line block (verse, an address) as `<div class="line-block">` with
    line breaks, which its reader gives back as a div: a line block again, so the
    Markdown has `| line` as the build's does and the build writes what it wrote."""
    kept: list[Node] = []
    for block in blocks:
        if block["t"] in ("Div", "BlockQuote"):
            inner = block["c"][1] if block["t"] == "Div" else block["c"]
            inner[:] = _line_blocks(inner)
        is_lines = block["t"] == "Div" and "line-block" in block["c"][0][1]
        content = block["c"][1] if is_lines else []
        if len(content) == 1 and content[0]["t"] in ("Para", "Plain"):
            block = {"t": "LineBlock", "c": broken_lines(content[0]["c"])}
        kept.append(block)
    return kept
