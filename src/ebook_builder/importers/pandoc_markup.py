"""The Markdown and HTML reader of `ebook import`, through pandoc's document tree.

Pandoc reads the source to its JSON tree, where a note sits inline at its reference; the
top-level blocks are split at level-1 headings, and each chapter's blocks are written
back to Markdown in one batch. So every note stays in the chapter that cites it, and no
Markdown is parsed here. Ids are written out on every heading (`-auto_identifiers`), so a
link keeps its target whatever ids the build would derive.
"""

from __future__ import annotations

import base64
import binascii
import json
import mimetypes
import posixpath
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import unquote, unquote_to_bytes, urlsplit

from ebook_builder.convert import slugify
from ebook_builder.errors import InputError
from ebook_builder.importers.draft import Draft, read_manuscript
from ebook_builder.limits import TOO_DEEP, pandoc_problem
from ebook_builder.load import DATE, NOT_XML
from ebook_builder.model import ChapterSource
from ebook_builder.pandoc import Refused, convert_documents, convert_texts
from ebook_builder.sources import PICTURE_LIMIT, read_source
from ebook_builder.validate import IMAGE_TYPES

Node = dict[str, Any]
_NAMES = {"html": "HTML", "markdown": "Markdown"}
# Where an element's attributes sit in its content (`Header` has its level first).
ATTR_AT = {"Header": 1, "Div": 0, "Span": 0, "Link": 0, "Image": 0, "Code": 0}
ATTR_AT |= {"CodeBlock": 0, "Table": 0, "Figure": 0}
_SLUG_LIMIT = 48
_CARRIED = ("subtitle", "publisher", "description", "date")  # stated text fields kept
_PAGES = (".html", ".htm", ".xhtml")  # the files of a folder imported as HTML
_FRONT = "Front matter"  # the heading (hence file name) of text before the first heading


def read_markup(source: Path, kind: str) -> Draft:
    """The draft of a Markdown or HTML file, or a folder of HTML files: a chapter per
    level-1 heading."""
    report: list[str] = []
    if source.is_dir():
        if kind != "html":
            raise InputError("a folder is imported only as HTML: give --kind html", path=source)
        tree = _parse_folder(source, report)
    else:
        tree = _parse(source, kind, report)
    headings = [plain_text(h["c"][2]) for h in elements(tree["blocks"], "Header") if h["c"][0] == 1]
    metadata = _metadata(tree["meta"], next(iter(headings), ""), report)
    pictures_in = source if source.is_dir() else source.parent
    return draft_from_tree(tree, metadata, source, pictures_in, report)


def draft_from_tree(
    tree: Node, metadata: dict[str, Any], source: Path, pictures_in: Path, report: list[str]
) -> Draft:
    """The draft of pandoc's tree of `source`, shared by every reader that pandoc parses.

    Split at level-1 headings, links between chapters pointed at the chapter files,
    pictures found under `pictures_in` copied (the source's folder, or the folder pandoc
    extracted a package's pictures into), each chapter written back to Markdown in one
    batch. `metadata["title"]` heads a text without level-1 headings.
    """
    has_text = any(plain_text([block]) for block in tree["blocks"])  # stops at the first
    if not has_text and not elements(tree["blocks"], "Image"):
        raise InputError("no text to import", path=source)
    blocks = _unwrap(tree["blocks"], report)
    chapters = _split(blocks, metadata["title"], report)
    names = [_file_name(n, title) for n, (title, _) in enumerate(chapters, 1)]
    found = [attributed(blocks) for _, blocks in chapters]  # ids, links and pictures
    owners = {id_: names[n] for n, carriers in enumerate(found) for id_ in _ids(carriers)}
    pictures: dict[str, bytes] = {}
    for name, carriers in zip(names, found, strict=True):
        _relink([node for node in carriers if node["t"] == "Link"], name, owners, report)
        images = [node for node in carriers if node["t"] == "Image"]
        _take_pictures(images, pictures_in, pictures, report)
    version = tree["pandoc-api-version"]
    documents = [
        json.dumps({"pandoc-api-version": version, "meta": {}, "blocks": blocks})
        for _, blocks in chapters
    ]
    markdown = convert_texts(documents, "json", "markdown-auto_identifiers")
    return Draft(list(zip(names, markdown, strict=True)), metadata, pictures, report=report)


def _parse(source: Path, kind: str, report: list[str]) -> Node:
    """Pandoc's tree of the source, and what pandoc could not read in `report`."""
    name = _NAMES[kind]
    text = _checked_text(source, kind)
    try:
        [document] = convert_documents([text], kind, "json")
    except Refused as exc:
        raise InputError(f"not {name}: {exc}", path=source) from None
    report.extend(f"pandoc: {warning}" for warning in document.warnings)
    return read_tree(document.output, source)


def _parse_folder(folder: Path, report: list[str]) -> Node:
    """Pandoc's tree of every HTML file in `folder` (not its subfolders), in name order,
    as one document: a book saved as a page per chapter (a website, an unzipped EPUB)."""
    files = sorted(
        path for path in folder.iterdir() if path.suffix.lower() in _PAGES and path.is_file()
    )
    if not files:
        raise InputError("no .html or .xhtml file in the folder", path=folder)
    texts = [_checked_text(path, "html") for path in files]
    try:
        documents = convert_documents(texts, "html", "json")
    except Refused as exc:
        raise InputError(f"not HTML: {exc}", path=files[exc.index]) from None
    trees = [read_tree(d.output, path) for path, d in zip(files, documents, strict=True)]
    for path, document in zip(files, documents, strict=True):
        report.extend(f"pandoc: {path.name}: {warning}" for warning in document.warnings)
    pages = [(path.name, tree["blocks"]) for path, tree in zip(files, trees, strict=True)]
    join_documents(pages, report)
    report.append(f"read {len(files)} HTML files in name order as one document")
    return {**trees[0], "blocks": [block for _, blocks in pages for block in blocks]}


def join_documents(documents: list[tuple[str, list[Node]]], report: list[str]) -> None:
    """Several documents made ready to be read as one, in place.

    `documents` are (path, blocks) with paths relative to one root (`ch2.xhtml`,
    `text/ch2.xhtml`), and each document's links and pictures relative to its own folder,
    as in a website or an EPUB. A link to another of the documents becomes a link to the
    id it names, or to that document's first id when it names none (which `_relink` then
    points at that id's chapter); a picture's path becomes relative to the root, where
    `draft_from_tree` looks. An id that an earlier document already has is renamed
    `name-id`, with the links to it: pages are written apart and reuse ids (`note-1`).
    """
    taken: set[str] = set()
    renamed: dict[tuple[str, str], str] = {}
    firsts: dict[str, str] = {}
    clashes = 0
    paths = {path for path, _ in documents}
    for path, blocks in documents:
        stem = slugify(posixpath.splitext(posixpath.basename(path))[0]) or "page"
        for node in attributed(blocks):
            attrs = node["c"][ATTR_AT[node["t"]]]
            old = attrs[0]
            if not old:
                continue
            new = old if old not in taken else _unused(f"{stem}-{old}", taken)
            clashes += new != old
            taken.add(new)
            renamed.setdefault((path, old), new)
            firsts.setdefault(path, new)
            attrs[0] = new
    for path, blocks in documents:
        folder = posixpath.dirname(path)
        for node in elements(blocks, "Link", "Image"):
            target = node["c"][2]
            parts = urlsplit(target[0])
            if parts.scheme or parts.netloc or not (parts.path or parts.fragment):
                continue
            page = posixpath.normpath(posixpath.join(folder, unquote(parts.path)))
            if node["t"] == "Image" and parts.path:
                target[0] = page
            elif node["t"] == "Link" and (not parts.path or page in paths):
                where = page if parts.path else path
                fragment = unquote(parts.fragment)
                found = renamed.get((where, fragment)) if fragment else firsts.get(where)
                target[0] = f"#{found or fragment}"
    if clashes:
        report.append(f"{clashes} ids used by an earlier page renamed `page-id`, with their links")


def _unused(name: str, taken: set[str]) -> str:
    """`name`, or `name-2`, `name-3`…: the first not in `taken`."""
    number, found = 1, name
    while found in taken:
        number += 1
        found = f"{name}-{number}"
    return found


def _checked_text(source: Path, kind: str) -> str:
    """The text of a source file, refused in one line when it is not text of its kind,
    since pandoc would read any bytes as a paragraph of noise."""
    name = _NAMES[kind]
    text = read_manuscript(source, name)
    if (control := NOT_XML.search(text)) is not None:
        message = f"not {name}: binary data (control character at character {control.start()})"
        raise InputError(message, path=source)
    if kind == "html" and not re.search(r"<[A-Za-z!]", text):
        raise InputError("not HTML: no element in it", path=source)
    if kind == "markdown":  # the guard every chapter passes before pandoc reads it
        problem = pandoc_problem(ChapterSource(source.name, source, source, text))
        if problem is not None:
            raise InputError(problem.message, path=source, line=problem.line)
    return text


def read_tree(output: str, source: Path) -> Node:
    """Pandoc's JSON tree of `source`, refused when too deep for Python to decode (the
    build refuses a book nested past `limits.MAX_DEPTH` anyway)."""
    try:
        return dict(json.loads(output))
    except RecursionError:
        raise InputError(TOO_DEEP, path=source) from None


def _unwrap(blocks: list[Node], report: list[str]) -> list[Node]:
    """Blocks with every div holding a level-1 heading opened up.

    HTML wraps chapters in `<section>` or `<div>`, which pandoc reads as divs, so their
    headings would not be at the top level where the split looks. A div's id stays, as an
    empty div after its heading, since a link may point at it; its classes go (reported).
    """
    opened: list[Node] = []
    for block in blocks:
        if block["t"] != "Div" or not _heading_inside(block["c"][1]):
            opened.append(block)
            continue
        (id_, classes, _), inner = block["c"]
        inner = _unwrap(inner, report)
        if id_:
            at = 1 if inner and _heading_inside(inner[:1]) else 0
            inner.insert(at, {"t": "Div", "c": [[id_, [], []], []]})
        dropped = [name for name in classes if name != "section"]  # pandoc's, for <section>
        if dropped:
            names = ", ".join(dropped)
            report.append(f"opened a div holding a level-1 heading; its classes dropped: {names}")
        opened += inner
    return opened


def _heading_inside(blocks: list[Node]) -> bool:
    """Whether a level-1 heading is among `blocks` or inside them."""
    return any(header["c"][0] == 1 for header in elements(blocks, "Header"))


def _split(blocks: list[Node], title: str, report: list[str]) -> list[tuple[str, list[Node]]]:
    """(title, blocks) per chapter: each level-1 heading opens one.

    What comes before the first is a chapter of its own only if it holds text (a lone rule
    or empty div does not). Every chapter must open with a heading (the build refuses one
    without), so that chapter gets `# Front matter {.frontmatter}`, and a text without any
    level-1 heading gets the book's `title` (or `Untitled`): both reported, to rename.
    """
    chapters: list[tuple[str, list[Node]]] = []
    front: list[Node] = []
    blocks = _without_empty_headings(blocks, report)
    for block in blocks:
        if block["t"] == "Header" and block["c"][0] == 1:
            chapters.append((plain_text(block["c"][2]), [block]))
        elif chapters:
            chapters[-1][1].append(block)
        else:
            front.append(block)
    if not chapters:
        heading = title or "Untitled"
        report.append(f"no level-1 heading: the whole text is one chapter, headed `{heading}`")
        return [(heading, [_heading(heading, []), *front])]
    if plain_text(front):
        chapters.insert(0, (_FRONT, [_heading(_FRONT, ["frontmatter"]), *front]))
        report.append(f"the text before the first level-1 heading is chapter 1, headed `{_FRONT}`")
    elif front:
        report.append("dropped what came before the first level-1 heading: it holds no text")
    report.append(f"split into {len(chapters)} chapters at level-1 headings")
    return chapters


def _without_empty_headings(blocks: list[Node], report: list[str]) -> list[Node]:
    """Headings without text (a converter's empty `<h1>`, Word's blank heading line)
    made paragraphs of what they hold, or dropped when they hold nothing: the build
    refuses a heading the contents list cannot name."""
    kept: list[Node] = []
    emptied = 0
    for block in blocks:
        if block["t"] == "Header" and not plain_text(block["c"][2]):
            emptied += 1
            if block["c"][1][0]:  # a link may point at it
                kept.append({"t": "Div", "c": [[block["c"][1][0], [], []], []]})
            if block["c"][2]:
                kept.append({"t": "Para", "c": block["c"][2]})
        else:
            kept.append(block)
    if emptied:
        report.append(f"{emptied} headings without text made paragraphs (or dropped if empty)")
    return kept


def _heading(text: str, classes: list[str]) -> Node:
    """A level-1 heading the source lacks, without an id (the build gives it one)."""
    words = [{"t": "Str", "c": word} for word in text.split()]
    inlines = [node for word in words for node in ({"t": "Space"}, word)][1:]
    return {"t": "Header", "c": [1, ["", classes, []], inlines]}


def _file_name(number: int, title: str) -> str:
    """`NN-slug.md`: numbered so the folder lists in reading order, short enough to type."""
    slug = slugify(title) if title else "chapter"
    while len(slug) > _SLUG_LIMIT and "-" in slug:
        slug = slug.rsplit("-", 1)[0]
    return f"{number:02d}-{slug[:_SLUG_LIMIT]}.md"


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


def _ids(nodes: list[Node]) -> list[str]:
    """Every id set on one of `nodes` (elements that carry attributes), in their order."""
    found = (node["c"][ATTR_AT[node["t"]]][0] for node in nodes)
    return [id_ for id_ in found if id_]


def _relink(links: list[Node], name: str, owners: dict[str, str], report: list[str]) -> None:
    """`#id` whose target is in another chapter -> `NN-name.md#id`: the build resolves a
    link to another chapter by the chapter's file name (convert.chapter_files). A link to
    an id the source does not have (a bookmark Word lost) becomes its text, reported:
    the build would refuse it, and only a person knows where it should point."""
    for link in links:
        target = link["c"][2]
        if not target[0].startswith("#"):
            continue
        owner = owners.get(target[0][1:])
        if owner is None:
            report.append(f"link to `{target[0]}` kept as its text: no such id in the source")
            link["t"], link["c"] = "Span", [["", [], []], link["c"][1]]
        elif owner != name:
            target[0] = f"{owner}{target[0]}"


def _take_pictures(
    images: list[Node], folder: Path, pictures: dict[str, bytes], report: list[str]
) -> None:
    """Copy each picture found in `folder` into `images/` and point to the copy.

    Only files inside the folder are taken: a path climbing out of it (or an address on
    the web) could be anything on the disk, so it is reported and the picture becomes its
    alt text.
    """
    folder = folder.resolve()
    for image in images:
        url = image["c"][2][0]
        copy = _picture(url, folder, pictures)
        if copy is not None:
            image["c"][2][0] = copy
            continue
        report.append(f"picture `{url}` not taken (not a file inside the source's folder)")
        image["t"], image["c"] = "Span", [["", [], []], image["c"][1]]


def _picture(url: str, folder: Path, pictures: dict[str, bytes]) -> str | None:
    """The `images/…` path of the copy of the picture at `url`, or None if not taken."""
    parts = urlsplit(url)
    if parts.scheme == "data":
        return _data_picture(url, pictures)
    if parts.scheme or parts.netloc or not parts.path:
        return None
    path = folder / unquote(parts.path)
    try:  # as the build reads a picture: a regular file, bounded, links kept inside
        data = read_source(path, PICTURE_LIMIT, inside=folder)
    except OSError:
        return None
    return _stored(slugify(path.stem), path.suffix.lower(), data, pictures)


def _data_picture(url: str, pictures: dict[str, bytes]) -> str | None:
    """A picture held in its `data:` address (HTML saved as one file, some web editors'
    exports) written out as a file, as a picture of a type a book may carry, within the
    size the build reads."""
    head, _, payload = url.partition(",")
    media_type, *parameters = head.removeprefix("data:").lower().split(";")
    if media_type not in IMAGE_TYPES or len(payload) > 2 * PICTURE_LIMIT:
        return None
    if "base64" in parameters:
        try:
            data = base64.b64decode("".join(payload.split()), validate=True)
        except binascii.Error:
            return None
    else:
        data = unquote_to_bytes(payload)
    if not data or len(data) > PICTURE_LIMIT:
        return None
    return _stored("picture", mimetypes.guess_extension(media_type) or "", data, pictures)


def _stored(stem: str, suffix: str, data: bytes, pictures: dict[str, bytes]) -> str:
    """Where `data` goes under `images/`: `stem` + `suffix`, numbered when another
    picture took that name."""
    name, number = f"images/{stem}{suffix}", 1
    while name in pictures and pictures[name] != data:
        number += 1
        name = f"images/{stem}-{number}{suffix}"
    pictures[name] = data
    return name


def _metadata(meta: Node, first_heading: str, report: list[str]) -> dict[str, Any]:
    """Title, language and creators as the source states them; each guess reported."""
    title = plain_text(meta.get("title"))
    if not title:
        title = first_heading
        if title:
            report.append(f"metadata: `title` taken from the first heading: {title}")
    language = plain_text(meta.get("lang") or meta.get("language"))
    if not language:
        language = "en"
        report.append("metadata: `language` set to `en`: the source does not state it")
    author = meta.get("author")
    entries = author["c"] if author and author["t"] == "MetaList" else [author] if author else []
    creators = [name for name in (plain_text(entry) for entry in entries) if name]
    stated: dict[str, Any] = {"title": title, "language": language, "creators": creators}
    for key in _CARRIED:
        stated[key] = plain_text(meta.get(key))
    if stated["date"] and not DATE.match(stated["date"]):
        report.append(f"metadata: `date` not carried ({stated['date']}): write it as YYYY-MM-DD")
        stated["date"] = ""
    left = sorted(set(meta) - {"title", "lang", "language", "author", *_CARRIED})
    if left:
        report.append(f"metadata not carried: {', '.join(left)}")
    return stated


def raise_headings(blocks: list[Node]) -> None:
    """Headings raised so the book's top level is 1: chapters are cut at level-1
    headings, yet some productions keep level 1 for the title page and open every chapter
    at level 2 (Standard Ebooks' `<h1>`, calibre's DOCX of such a book); with the title
    page dropped, their chapters are level 2."""
    headings = elements(blocks, "Header")
    shift = min((heading["c"][0] for heading in headings), default=1) - 1
    for heading in headings:
        heading["c"][0] -= shift


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
