"""The EPUB reader of `ebook import`: EPUB 2 and 3 books back to Markdown chapters.

Pandoc's EPUB reader gives the spine's documents as one tree, each opened by an empty
span whose id is the document's file name, every other id prefixed by it (`ch1.xhtml_x`)
and links between documents pointed at those ids. Here the tree is cut at those spans,
the cover page and the navigation document are dropped (the build makes its own), ids
lose their prefix again, `<section>` wrappers are opened, page-break markers are written
back as the build's `[]{.pagebreak page="N"}`; then the tree goes the way of Markdown and
HTML (`pandoc_markup.draft_from_tree`). Metadata and the cover come from the OPF.
"""

from __future__ import annotations

import io
import posixpath
import tempfile
import zipfile
from pathlib import Path
from typing import Any
from urllib.parse import unquote

from lxml import etree

from ebook_builder.errors import InputError
from ebook_builder.importers.draft import Draft
from ebook_builder.importers.epub_types import (
    MATTER,
    TITLE_PAGES,
    as_epub_types,
    carry_semantics,
)
from ebook_builder.importers.packaged import (
    DC,
    cover_suffix,
    open_package,
    pandoc_tree,
    read_xml,
)
from ebook_builder.importers.pandoc_markup import (
    ATTR_AT,
    Node,
    attributed,
    draft_from_tree,
    elements,
    plain_text,
    raise_headings,
)
from ebook_builder.load import DATE
from ebook_builder.markup.semantics import BACK_MATTER, FRONT_MATTER

_OPF = "{http://www.idpf.org/2007/opf}"
_CONTAINER = "{urn:oasis:names:tc:opendocument:xmlns:container}"
# Encryption that only obfuscates embedded fonts (IDPF, Adobe) locks no text away.
_FONT_OBFUSCATION = {"http://www.idpf.org/2008/embedding", "http://ns.adobe.com/pdf/enc#RC"}
_XHTML = "{http://www.w3.org/1999/xhtml}"
_ENC = "{http://www.w3.org/2001/04/xmlenc#}"
_AUTHOR_ROLES = {"", "aut"}
# Sections of notes at the end, by epub:type (pandoc's classes for it).
_NOTE_SECTIONS = {"endnotes", "footnotes", "rearnotes"}
_UNCARRIED = ("identifier", "rights", "source", "contributor", "coverage", "relation")


def read_epub(source: Path, kind: str) -> Draft:
    """The draft of an EPUB: a chapter per level-1 heading, metadata and cover from the OPF."""
    # Phase 1: the package checked and its OPF read, before pandoc sees anything.
    data, package = open_package(source, kind)
    _refuse_drm(package, source)
    opf_path = _opf_path(package, source)
    opf = read_xml(package, opf_path, source, kind)
    folder = posixpath.dirname(opf_path)
    manifest = {
        item.get("id"): item for item in opf.iter(f"{_OPF}item") if item.get("href") is not None
    }
    report: list[str] = []
    metadata = _metadata(opf, report)
    cover_href = _cover_href(opf, manifest)
    cover = _cover(package, folder, cover_href, source)
    skipped = {
        posixpath.basename(unquote(item.get("href")))
        for item in manifest.values()
        if "nav" in (item.get("properties") or "").split()
    }
    # Phase 2: the spine's documents read, and the semantics pandoc would lose from them
    # carried in markup it keeps (or reported).
    refs = [ref.get("idref") for ref in opf.iter(f"{_OPF}itemref")]
    hrefs = [unquote(manifest[ref].get("href")) for ref in refs if ref in manifest]
    spine = [posixpath.basename(href) for href in hrefs]  # pandoc's names for them
    pages = _spine_pages(package, folder, hrefs, source)
    ids, titles = _document_heads(pages)
    read = {name: root for name, (_, root) in pages.items() if name not in skipped}
    carried = carry_semantics(read, report)
    if carried:
        data = _repackaged(package, {pages[name][0]: pages[name][1] for name in carried})
    # Phase 3: pandoc's tree, cut into the spine's documents and given back the build's
    # Markdown conventions; then the path every pandoc-read source takes.
    with tempfile.TemporaryDirectory(prefix="ebook-import-") as media:
        tree = pandoc_tree(data, kind, Path(media), source)
        _restore_heading_ids(tree["blocks"], ids)
        tree["blocks"] = _endnotes(tree["blocks"], report)
        tree["blocks"] = _hgroups(tree["blocks"])
        tree["blocks"] = _documents(tree["blocks"], spine, skipped, cover_href, titles, report)
        _drop_back_links(tree["blocks"])
        _clean_ids(tree["blocks"], spine)
        tree["blocks"] = _open_sections(tree["blocks"])
        raise_headings(tree["blocks"])
        _page_breaks(tree["blocks"])
        _build_attributes(tree["blocks"])
        if carried:  # else no carried value is in the tree: a walk spared
            as_epub_types(tree["blocks"])
        tree["blocks"] = _line_blocks(tree["blocks"])
        draft = draft_from_tree(tree, metadata, source, Path(media), report)
    draft.cover = cover
    return draft


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


def _metadata(opf: Any, report: list[str]) -> dict[str, Any]:
    """What the OPF states that the metadata file has a key for; the rest reported."""
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
        "creators": [],
        "publisher": next((text(e) for e in meta.iter(f"{DC}publisher")), ""),
        "description": next((text(e) for e in meta.iter(f"{DC}description")), ""),
        "date": next((text(e) for e in meta.iter(f"{DC}date")), ""),
        "subjects": [text(e) for e in meta.iter(f"{DC}subject") if text(e)],
    }
    for creator in meta.iter(f"{DC}creator"):
        stated_roles = roles.get(creator.get("id", ""), set())
        if creator.get(f"{_OPF}role") is not None:
            stated_roles = {creator.get(f"{_OPF}role")}
        if not stated_roles or stated_roles & _AUTHOR_ROLES:
            stated["creators"].append(text(creator))
        else:
            role, name = ", ".join(sorted(stated_roles)), text(creator)
            report.append(
                f"metadata: creator `{name}` ({role}) not carried: no roles in `creators`"
            )
    if stated["date"] and not DATE.match(stated["date"]):  # often a time: 2001-05-06T00:00Z
        day = stated["date"][:10]
        if not DATE.match(day):
            report.append(f"metadata: `date` not carried ({stated['date']}): not a date")
        stated["date"] = day if DATE.match(day) else ""
    if not stated["language"]:
        stated["language"] = "en"
        report.append("metadata: `language` set to `en`: the OPF does not state it")
    for key in _UNCARRIED:
        for element in meta.iter(f"{DC}{key}"):
            report.append(f"metadata: `{key}` not carried: {text(element)}")
    for item in meta.iter(f"{_OPF}meta"):
        if item.get("property") == "belongs-to-collection" or item.get("name") == "calibre:series":
            value = text(item) or item.get("content", "")
            report.append(f"metadata: series not carried (the metadata file has no key): {value}")
    return stated


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
    blocks: list[Node],
    spine: list[str],
    skipped: set[str],
    cover: str | None,
    titles: dict[str, str],
    report: list[str],
) -> list[Node]:
    """The blocks of the spine's documents, less the navigation document, the cover
    page (a document with no text whose only picture is the cover), the title pages (a
    section of epub:type `titlepage` or `halftitlepage`: the build writes the title page
    from the metadata) and documents left empty (an endnotes page whose notes went inline).

    A document without a heading (a dedication, an epigraph) is headed by its `<title>`
    at the level the other documents open with: else it would run on into the chapter
    before it, since chapters are cut at headings."""
    documents: list[tuple[str, list[Node]]] = [("", [])]
    for block in blocks:
        marker = _marker(block)
        if marker in spine:
            documents.append((marker, []))
        else:
            documents[-1][1].append(block)
    chosen: list[tuple[str, list[Node]]] = []
    for name, content in documents:
        found = elements(content, "Image", "Div")
        pictures = [node["c"][2][0] for node in found if node["t"] == "Image"]
        is_cover = (
            cover is not None
            and not plain_text(content)
            and pictures
            and all(Path(url).name == posixpath.basename(cover) for url in pictures)
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
            if name:
                report.append(f"dropped {name}: the {what}; the build makes its own")
        elif not content or (not name and not plain_text(content)):
            if name:
                report.append(f"dropped {name}: nothing left in it")
        else:
            chosen.append((name, content))
            report += _matter(name, found)
    headings = [elements(content, "Header") for _, content in chosen]
    top = min((found[0]["c"][0] if found else 6 for found in headings), default=1)
    kept: list[Node] = []
    for (name, content), found in zip(chosen, headings, strict=True):
        if not found and titles.get(name):
            title = [{"t": "Str", "c": titles[name]}]
            section = content[0] if content[0]["t"] == "Div" else None
            opening = section["c"][1] if section and "section" in section["c"][0][1] else content
            opening.insert(0, {"t": "Header", "c": [top, ["", [], []], title]})
            report.append(f"{name} has no heading: headed `{titles[name]}`, its <title>")
        kept += content
    return kept


def _spine_pages(
    package: zipfile.ZipFile, folder: str, hrefs: list[str], source: Path
) -> dict[str, tuple[str, Any]]:
    """Each spine document's member and parsed root, by pandoc's name for it: read once,
    for every pass that needs what pandoc's tree lacks."""
    pages: dict[str, tuple[str, Any]] = {}
    for href in hrefs:
        member = posixpath.normpath(posixpath.join(folder, href))
        if member in package.namelist():
            pages[posixpath.basename(href)] = (member, read_xml(package, member, source, "epub"))
    return pages


def _repackaged(package: zipfile.ZipFile, changed: dict[str, Any]) -> bytes:
    """The package with the `changed` members (parsed roots by member) written anew.

    Stored, not compressed: pandoc reads it once, in memory, and the members were
    already checked against the limits (`open_package`)."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as repacked:
        for member in package.infolist():
            root = changed.get(member.filename)
            data = package.read(member) if root is None else etree.tostring(root, encoding="utf-8")
            repacked.writestr(member, data, compress_type=zipfile.ZIP_STORED)
    return out.getvalue()


def _matter(name: str, found: list[Node]) -> list[str]:
    """The report's line on a document kept as front or back matter: by its sections'
    types (not a div's within: a chapter's epigraph leaves it body matter), a partition
    said outright first, as `semantics.chapter_matter` reads them."""
    kinds = [
        k
        for div in found
        if div["t"] == "Div" and "section" in div["c"][0][1]
        for k in div["c"][0][1]
    ]
    partition = next((k for k in kinds if k in ("frontmatter", "backmatter")), None)
    typed = [k for k in kinds if k in FRONT_MATTER | BACK_MATTER]
    if partition is None and not typed:
        return []
    part = partition or ("frontmatter" if typed[0] in FRONT_MATTER else "backmatter")
    said = ", ".join(f"`{k}`" for k in dict.fromkeys([*filter(None, [partition]), *typed]))
    return [f"kept {name} as a chapter of the {part.removesuffix('matter')} matter ({said})"]


def _document_heads(pages: dict[str, tuple[str, Any]]) -> tuple[dict[str, str], dict[str, str]]:
    """Each spine document's first heading's id, or that of the `<section>` it opens (the
    nearest wrapper with an id); and the `<title>` of each document without a heading;
    both by pandoc's names for the documents.

    Pandoc's reader loses the id of a document's chapter section (`<section id="x"
    epub:type="chapter">`), yet links from other documents point at it; and it drops the
    `<head>`, where a headless document (a dedication) names itself."""
    ids: dict[str, str] = {}
    titles: dict[str, str] = {}
    for name, (_, page) in pages.items():
        heading = next(page.iter(*(f"{_XHTML}h{level}" for level in range(1, 7))), None)
        if heading is None:
            title = page.find(f"{_XHTML}head/{_XHTML}title")
            if title is not None and " ".join("".join(title.itertext()).split()):
                titles[name] = " ".join("".join(title.itertext()).split())
            continue
        around = (a.get("id") for a in heading.iterancestors() if a.get("id"))
        id_ = heading.get("id") or next(around, None)  # SE: section > header > hgroup > h2
        if id_:
            ids[name] = id_
    return ids, titles


def _restore_heading_ids(blocks: list[Node], ids: dict[str, str]) -> None:
    """Give each document's first heading the id its XHTML has, as pandoc names ids."""
    document: str | None = None
    for block in blocks:
        marker = _marker(block)
        if marker is not None:
            document = marker
        elif document in ids and (headings := elements(block, "Header")):
            heading = headings[0]  # perhaps in its `<section>`'s div
            held = block["t"] == "Div" and block["c"][0][0] == f"{document}_{ids[document]}"
            if not heading["c"][1][0] and not held:  # else `_open_sections` moves it
                heading["c"][1][0] = f"{document}_{ids[document]}"
            document = None


def _endnotes(blocks: list[Node], report: list[str]) -> list[Node]:
    """Notes at the end made notes again: a note reference (epub:type `noteref`, role
    `doc-noteref`) that links to an item of an endnotes section becomes a Markdown note
    holding that item, in the chapter that cites it, as the build's Markdown has them.
    A notes section whose every item went inline is dropped; one with items left is kept
    (reported), so no text is lost."""
    found = elements(blocks, "Div", "Para", "Plain")
    sections = [
        div
        for div in found
        if div["t"] == "Div" and div["c"][0][1] and _NOTE_SECTIONS & set(div["c"][0][1])
    ]
    items = {
        div["c"][0][0]: div
        for section in sections
        for div in elements(section["c"][1], "Div")
        if div["c"][0][0]
    }
    used: set[str] = set()
    for holder in (node for node in found if node["t"] != "Div"):
        for at, node in enumerate(holder["c"]):
            if node["t"] != "Link" or not _is_note_ref(node):
                continue
            target = node["c"][2][0].lstrip("#")
            if target in items and target not in used:
                used.add(target)
                holder["c"][at] = {"t": "Note", "c": items[target]["c"][1]}
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
    return _without(blocks, dropped)


def _is_note_ref(link: Node) -> bool:
    """A link marked as a note reference, by epub:type (pandoc's class) or ARIA role."""
    _, classes, attributes = link["c"][0]
    return "noteref" in classes or ["role", "doc-noteref"] in attributes


def _without(blocks: list[Node], dropped: set[int]) -> list[Node]:
    """`blocks` less the divs whose identity is in `dropped`, at any depth."""
    kept: list[Node] = []
    for block in blocks:
        if id(block) in dropped:
            continue
        if block["t"] == "Div":
            block["c"][1] = _without(block["c"][1], dropped)
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
    """A note's link back to its reference (`↩`, `role="doc-backlink"`) is the build's,
    which writes its own."""
    for note in elements(blocks, "Note"):
        for holder in elements(note["c"], "Para", "Plain"):
            holder["c"] = [node for node in holder["c"] if not _is_back_link(node)]


def _is_back_link(node: Node) -> bool:
    """A note's link back to its reference, as pandoc and the build write it."""
    if node["t"] != "Link":
        return False
    _, classes, attributes = node["c"][0]
    return (
        bool({"footnote-back", "backlink"} & set(classes)) or ["role", "doc-backlink"] in attributes
    )


def _marker(block: Node) -> str | None:
    """The document path of the empty span by which pandoc opens a spine document."""
    if block["t"] != "Para" or len(block["c"]) != 1 or block["c"][0]["t"] != "Span":
        return None
    (id_, _, _), inlines = block["c"][0]["c"]
    return str(id_) if not inlines else None


def _clean_ids(blocks: list[Node], spine: list[str]) -> None:
    """`ch1.xhtml_x` -> `x` on every element and link; a link to a whole document points
    at that document's first id: its heading's, or its section's (which `_open_sections`
    moves onto the heading)."""
    renamed: dict[str, str] = {}
    taken: set[str] = set()
    first: dict[str, str] = {}
    for node in attributed(blocks):
        attrs = node["c"][ATTR_AT[node["t"]]]
        old = attrs[0]
        if not old:
            continue
        document = next((d for d in spine if old.startswith(f"{d}_")), None)
        new = old[len(document) + 1 :] if document else old
        if new in taken:
            new = old.replace(".", "-")
        renamed[old] = new
        taken.add(new)
        attrs[0] = new
        if document and node["t"] in ("Header", "Div"):
            first.setdefault(document, new)
    for link in elements(blocks, "Link"):
        target = link["c"][2]
        if target[0].startswith("#"):
            name = target[0][1:]
            new = renamed.get(name) or first.get(name)
            if new is not None:
                target[0] = f"#{new}"


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


def _page_breaks(blocks: list[Node]) -> None:
    """Page-break spans (`role="doc-pagebreak"`, `epub:type="pagebreak"`) as the build
    writes them in Markdown: `[]{.pagebreak page="N"}`, the page number from their label.

    One opening a heading moves to the start of the paragraph after it, as the build's
    Markdown has it: in the heading it would be part of the table of contents' entry.
    """
    for span in elements(blocks, "Span"):
        _, classes, attributes = span["c"][0]
        pairs = dict(attributes)
        if "pagebreak" in classes or pairs.get("role") == "doc-pagebreak":
            page = pairs.get("aria-label") or pairs.get("title") or ""
            span["c"][0] = ["", ["pagebreak"], [["page", page]] if page else []]
            span["c"][1] = []
    for at, block in enumerate(blocks[:-1]):
        following = blocks[at + 1]
        if block["t"] == "Header" and following["t"] in ("Para", "Plain"):
            inlines = block["c"][2]
            marks = [node for node in inlines if _is_page_break(node)]
            block["c"][2] = [node for node in inlines if not _is_page_break(node)]
            following["c"][:0] = marks


def _is_page_break(node: Node) -> bool:
    """A page-break marker as `_page_breaks` writes it: an empty span of that class alone."""
    return node["t"] == "Span" and node["c"][0][1] == ["pagebreak"] and not node["c"][1]


def _build_attributes(blocks: list[Node]) -> None:
    """The build's own additions to a div's or span's attributes taken off again: ARIA
    roles (it derives them from the classes) and a class written twice."""
    for node in elements(blocks, "Div", "Span"):
        attrs = node["c"][0]
        attrs[1] = list(dict.fromkeys(attrs[1]))
        attrs[2] = [pair for pair in attrs[2] if pair[0] != "role"]


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
            lines: list[list[Node]] = [[]]
            for node in content[0]["c"]:
                if node["t"] == "LineBreak":
                    lines.append([])
                elif node["t"] != "SoftBreak" or lines[-1]:
                    lines[-1].append({"t": "Space"} if node["t"] == "SoftBreak" else node)
            block = {"t": "LineBlock", "c": lines}
        kept.append(block)
    return kept
