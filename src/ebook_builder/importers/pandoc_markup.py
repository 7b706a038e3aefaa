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
from pathlib import Path
from typing import Any
from urllib.parse import unquote, unquote_to_bytes, urlsplit

from ebook_builder.convert import Ids, slugify, unique
from ebook_builder.errors import InputError
from ebook_builder.importers import gutenberg
from ebook_builder.importers.draft import Draft, chapter_file, read_manuscript
from ebook_builder.importers.linked_notes import inline_linked_notes
from ebook_builder.importers.tree import (
    ATTR_AT,
    LISTS,
    Node,
    attributed,
    blocks_in,
    elements,
    ids,
    list_items,
    lists,
    nodes,
    plain_text,
)
from ebook_builder.limits import TOO_DEEP, pandoc_problem
from ebook_builder.load import DATE, NOT_XML
from ebook_builder.model import ChapterSource
from ebook_builder.pandoc import Refused, convert_documents, convert_texts
from ebook_builder.sources import PICTURE_LIMIT, read_source
from ebook_builder.validate import IMAGE_TYPES

_NAMES = {"html": "HTML", "markdown": "Markdown"}
_SLUG_LIMIT = 48
_CARRIED = ("subtitle", "publisher", "description", "date")  # stated text fields kept
_PAGES = (".html", ".htm", ".xhtml")  # the files of a folder imported as HTML
# An id pandoc's Markdown reader takes in `{#id}` (`_markdown_ids`), and what it does not.
_MARKDOWN_ID = re.compile(r"[\w:.-]+")
_NOT_IN_ID = re.compile(r"[^\w:.-]")
# Words under a book's title before its first chapter that are a byline or a dedication, not
# a chapter's opening paragraphs (`_title_heading`).
_BYLINE_WORDS = 40
_FRONT = "Front matter"  # the heading (hence file name) of text before the first heading
# The blocks a table of contents is made of: paragraphs, lists or a table of entries.
_CONTENTS_BLOCKS = {"Para", "Plain", "BulletList", "OrderedList", "Table"}


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
    _unique_ids(tree["blocks"], report)
    blocks = gutenberg.read_conventions(tree["blocks"], metadata, report)
    blocks = inline_linked_notes(blocks, report)
    blocks = _title_page_headings(blocks, report)
    blocks = _unwrap(blocks, report)
    blocks = _termless_definitions(blocks, report)
    blocks = _drop_contents(blocks, report)
    _markdown_ids(blocks, report)
    _unnest_notes(blocks, report)
    chapters = _split(blocks, metadata["title"], report)
    skipped = sum(_step_headings(blocks) for _, blocks in chapters)
    if skipped:
        report.append(f"{skipped} headings that skipped a level raised to the next one down")
    names = [_file_name(n, len(chapters), title) for n, (title, _) in enumerate(chapters, 1)]
    found = [attributed(blocks) for _, blocks in chapters]  # ids, links and pictures
    owners = {id_: names[n] for n, carriers in enumerate(found) for id_ in ids(carriers)}
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


def _unique_ids(blocks: list[Node], report: list[str]) -> None:
    """Every id used once, in place: the later of two renamed `id-2`, and links left to
    the first, as a browser follows them. Pandoc gives a heading an id made of its text,
    which may be the id of an anchor inside it (PG's `<h3><a id="contents">CONTENTS`)
    or of another element; an XHTML page, and so the build, refuses an id used twice."""
    taken = Ids()
    renamed = 0
    for node in attributed(blocks):
        attrs = node["c"][ATTR_AT[node["t"]]]
        if attrs[0] in taken:
            attrs[0] = unique(attrs[0], taken)
            renamed += 1
        elif attrs[0]:
            taken.add(attrs[0])
    if renamed:
        report.append(f"{renamed} ids used twice in the source renamed (`id-2`)")


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


# Inlines that hold nothing to read: a definition's term of only these is no term.
_BLANK = {"Space", "SoftBreak", "LineBreak"}
# A run of digits in a file's name.
_DIGITS = re.compile(r"(\d+)")


def _parse_folder(folder: Path, report: list[str]) -> Node:
    """Pandoc's tree of every HTML file in `folder` (not its subfolders), in name order,
    as one document: a book saved as a page per chapter (a website, an unzipped EPUB).
    Numbers in names count (`node2` before `node10`): LaTeX2HTML and many a website
    number their pages without leading zeros."""
    files = sorted(
        (path for path in folder.iterdir() if path.suffix.lower() in _PAGES and path.is_file()),
        key=_name_order,
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


def _name_order(path: Path) -> list[tuple[int, str]]:
    """A file's place in name order, the runs of digits in its name compared as numbers."""
    return [(int(part), "") if part.isdigit() else (-1, part) for part in _DIGITS.split(path.name)]


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
    taken = Ids()
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
            new = unique(f"{stem}-{old}", taken) if old in taken else old
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


def _termless_definitions(blocks: list[Node], report: list[str]) -> list[Node]:
    """Definitions without a term (`<dd>` without `<dt>`, as LaTeX2HTML and pages that
    indent with it write) made the blocks they hold. Markdown writes a definition under
    its term; without one, it reads `:   text` back as a paragraph and the indented
    blocks after it as code, their ids, links and markup lost."""
    opened = 0

    def without_termless(blocks: list[Node]) -> list[Node]:
        nonlocal opened
        kept: list[Node] = []
        for block in blocks:
            if block["t"] != "DefinitionList":
                kept.append(block)
                continue
            items: list[Node] = []
            for term, meanings in block["c"]:
                if any(node["t"] not in _BLANK for node in term):
                    items.append([term, meanings])
                    continue
                if items:
                    kept.append({"t": "DefinitionList", "c": items})
                    items = []
                kept += [inner for meaning in meanings for inner in meaning]
                opened += 1
            if items:
                kept.append({"t": "DefinitionList", "c": items})
        return kept

    result = without_termless(blocks)
    for block in blocks_in(result):  # it walks the blocks put in each container here
        kind, content = block["t"], block.get("c")
        if kind in ("Div", "Figure"):
            content[-1] = without_termless(content[-1])
        elif kind == "BlockQuote":
            block["c"] = without_termless(content)
        elif kind in LISTS:
            items = list_items(block)
            items[:] = [without_termless(item) for item in items]
        elif kind == "DefinitionList":
            block["c"] = [
                [term, [without_termless(m) for m in meanings]] for term, meanings in content
            ]
    if opened:
        report.append(f"{opened} definitions without a term (`<dd>` alone) made plain text")
    return result


def _title_page_headings(blocks: list[Node], report: list[str]) -> list[Node]:
    """A title page set in headings made paragraphs: two or more headings with no text
    between them from the book's first heading on, before the heading that opens its
    text (PG's `<h1>CONTRIBUTION</h1><h2>TO</h2><h1>PASSAMAQUODDY FOLK-LORE</h1>`, or
    `<h1>Title</h1><h2>by Author</h2><h2>Contents</h2>`). As headings they would each
    open an empty chapter or section; their text stays, in the front matter. If that
    took the book's level-1 headings, its chapters are the next level down, raised (as
    `raise_headings` does for a production's title page). A book with no such title page
    may still have its title in its one level-1 heading (`_title_heading`)."""
    run: list[tuple[list[Node], int]] = []  # the headings, by their list and place in it
    _opening_headings(blocks, run)
    display = run[:-1]
    if len(display) < 2:
        _title_heading(blocks, report)
        return blocks
    linked = _link_targets(blocks)
    for where, n in display:
        _make_paragraph(where[n], linked)
    shown = "; ".join(plain_text(where[n]) for where, n in display)
    report.append(f"the headings over no text at the start (a title page) made paragraphs: {shown}")
    if not any(header["c"][0] == 1 for header in elements(blocks, "Header")):
        raise_headings(blocks)
    return blocks


def _title_heading(blocks: list[Node], report: list[str]) -> None:
    """A book with no title page in headings, whose one level-1 heading is its first
    heading, over no more than a byline and two or more level-2 headings, has its title
    there and its chapters at level 2 (PG's HTML: `<h1>THE TALE</h1>`, `by ANN AUTHOR`,
    `<h2>CHAPTER I</h2>`…): cut at level 1, it would be one chapter. The title's text
    stays, as a paragraph in the front matter, and the chapters rise. An essay's heading
    over its opening paragraphs and then its sections stays one chapter."""
    headings = elements(blocks, "Header")
    tops = [heading for heading in headings if heading["c"][0] == 1]
    seconds = [heading for heading in headings if heading["c"][0] == 2]
    if len(tops) != 1 or headings[0] is not tops[0] or len(seconds) < 2:
        return
    if _words_between(blocks, tops[0], seconds[0]) > _BYLINE_WORDS:
        return
    shown = plain_text(tops[0])
    _make_paragraph(tops[0], _link_targets(blocks))
    raise_headings(blocks)
    report.append(
        f"the one level-1 heading, `{shown}`, over {len(seconds)} level-2 headings taken for the "
        "book's title: kept as a paragraph in the front matter, the chapters cut at level 2"
    )


def _words_between(blocks: list[Node], first: Node, last: Node) -> int:
    """The words a reader reads between two elements of `blocks`, not counting links'
    (a contents list's entries)."""
    words, counting, linked = 0, False, set()
    for node in nodes(blocks):
        if node is first:
            counting = True
        elif node is last:
            break
        elif counting and node["t"] == "Link":
            linked.update(id(inner) for inner in nodes(node["c"]))
        elif counting and node["t"] == "Str" and id(node) not in linked:
            words += 1
    return words


def _link_targets(blocks: list[Node]) -> set[str]:
    """The ids that the links of `blocks` point at within the source."""
    return {link["c"][2][0][1:] for link in elements(blocks, "Link")}


def _make_paragraph(heading: Node, linked: set[str]) -> None:
    """`heading` made a paragraph of its text, in place; its id kept if a link needs it."""
    (id_, _, _), inlines = heading["c"][1:]
    heading["t"] = "Para"
    heading["c"] = [{"t": "Span", "c": [[id_, [], []], inlines]}] if id_ in linked else inlines


def _opening_headings(blocks: list[Node], run: list[tuple[list[Node], int]]) -> bool:
    """Collect in `run` the headings from the first on with no text between them, looking
    into divs (PG wraps a book's start in `div.chapter`, its title lines in `div.title`);
    says whether text after them ended the run. A lone heading other than level 1 over
    text (PG's notice of other editions) is no title page: the run starts again."""
    for at, block in enumerate(blocks):
        if block["t"] == "Header":
            run.append((blocks, at))
        elif block["t"] == "Div":
            if _opening_headings(block["c"][1], run):
                return True
        elif run and plain_text(block):
            if len(run) > 1 or run[0][0][run[0][1]]["c"][0] == 1:
                return True
            run.clear()
    return False


def _drop_contents(blocks: list[Node], report: list[str]) -> list[Node]:
    """The source's own table of contents dropped, since the build makes one from the
    chapters: a heading over nothing but entries (paragraphs, list items, table rows),
    two or more, each linking to a heading of its own (PG's `<h2>Contents</h2>` over a
    table of `CHAPTER I.` links and titles, or a div of lines `STAVE I<br/><a>MARLEY'S
    GHOST</a>`); blank lines, rules and the divs around them do not count."""
    headings = [at for at, block in enumerate(blocks) if block["t"] == "Header"]
    places: set[str] | None = None  # found once a section looks like contents
    for at, end in zip(headings, [*headings[1:], len(blocks)][: len(headings)], strict=True):
        parts = _contents_parts(blocks[at + 1 : end])
        if parts is None:
            continue
        entries = [entry for block in parts for entry in _entries(block)]
        if len(entries) < 2 or not all(map(_links_inside, entries)):
            continue
        places = _heading_places(blocks) if places is None else places
        targets = [_heading_target(entry, places) for entry in entries]
        if all(targets) and len(set(targets)) == len(targets):
            heading = plain_text(blocks[at]["c"][2])
            report.append(
                f"dropped `{heading}`, the source's table of contents: the build makes its own"
            )
            return blocks[:at] + blocks[end:]
    return blocks


def _contents_parts(blocks: list[Node]) -> list[Node] | None:
    """The blocks of a section that may hold contents entries, divs opened and blank
    lines and rules left out; None if it holds any other kind of block."""
    parts: list[Node] = []
    for block in blocks:
        if block["t"] == "Div":
            inner = _contents_parts(block["c"][1])
            if inner is None:
                return None
            parts += inner
        elif block["t"] in _CONTENTS_BLOCKS:
            if block["t"] not in ("Para", "Plain") or plain_text(block):
                parts.append(block)
        elif block["t"] != "HorizontalRule":
            return None
    return parts


def _entries(block: Node) -> list[Any]:
    """A block's entries as a table of contents has them: a list's items, a table's rows,
    a paragraph's links if it is mostly links (lines of them), or the block itself."""
    if block["t"] in ("Para", "Plain"):
        links = [node for node in block["c"] if node["t"] == "Link"]
        rest = [node for node in block["c"] if node["t"] != "Link"]
        if len(links) > 1 and len(plain_text(rest)) <= len(plain_text(links)):
            return links
        return [block]
    if block["t"] in LISTS:
        return list(list_items(block))
    if block["t"] == "Table":
        _, _, _, head, bodies, foot = block["c"]
        rows = [*head[1], *foot[1], *(row for body in bodies for row in body[2] + body[3])]
        return [row for row in rows if plain_text(row)]
    return [block]


def _links_inside(entry: Any) -> bool:
    """Whether an entry links to a place in the document."""
    return any(link["c"][2][0].startswith("#") for link in elements(entry, "Link"))


def _heading_places(blocks: list[Node]) -> set[str]:
    """The ids that name a heading: its own, those inside it (PG's `<h2><a id="CHAP_I">`),
    and that of a div it opens (a chapter's `<div class="chapter" id="chap01">`)."""
    places: set[str] = set()
    for node in blocks_in(blocks):
        if node["t"] == "Header":
            places.update(ids(attributed(node)))
        elif node["t"] == "Div" and node["c"][1] and node["c"][1][0]["t"] == "Header":
            places.update([node["c"][0][0]] if node["c"][0][0] else [])
    return places


def _heading_target(entry: Any, places: set[str]) -> str:
    """The heading an entry links to, or "" if it links to none (or holds no text)."""
    targets = (link["c"][2][0][1:] for link in elements(entry, "Link"))
    return next((t for t in targets if t in places), "") if plain_text(entry) else ""


def _step_headings(blocks: list[Node]) -> int:
    """A chapter's headings with no level skipped (the build refuses `#` then `####`, as
    a contents list cannot nest them): each goes one below the nearest heading above it
    of a higher source level, so siblings stay siblings. Returns how many moved."""
    above: list[tuple[int, int]] = []  # (source level, level now) of the open headings
    moved = 0
    for heading in (block for block in blocks_in(blocks) if block["t"] == "Header"):
        level = heading["c"][0]
        while above and above[-1][0] >= level:
            above.pop()
        now = above[-1][1] + 1 if above else level
        if now != level:
            heading["c"][0] = now
            moved += 1
        above.append((level, now))
    return moved


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


def _file_name(number: int, count: int, title: str) -> str:
    """The chapter's file, named after its title, short enough to type."""
    slug = slugify(title) if title else "chapter"
    while len(slug) > _SLUG_LIMIT and "-" in slug:
        slug = slug.rsplit("-", 1)[0]
    return chapter_file(number, count, slug[:_SLUG_LIMIT])


def _unnest_notes(blocks: list[Node], report: list[str]) -> None:
    """Each note cited inside a note moved out, to follow the note that cited it.

    Markdown has no note in a note: pandoc's writer puts the inner note's mark in the
    outer one and drops its text (in Standard Ebooks' Dante, a poem quoted in a note has
    notes of its own: "Tiresias, who was blind" was lost)."""
    moved = 0
    for inlines in lists(blocks):
        at = 0
        while at < len(inlines):  # a note moved out is looked into in its turn
            if _is_note(inlines[at]):
                inner = _notes_out_of(inlines[at]["c"])
                inlines[at + 1 : at + 1] = inner
                moved += len(inner)
            at += 1
    if moved:
        report.append(
            f"{moved} notes cited inside notes moved to follow the note citing them: "
            "Markdown has no note in a note"
        )


def _notes_out_of(content: list[Node]) -> list[Node]:
    """The notes inside `content`, in their order, taken out of it (a note inside one of
    them stays there, to be moved out in its turn)."""
    taken: list[Node] = []
    for inlines in lists(content):
        if any(_is_note(node) for node in inlines):
            taken += [node for node in inlines if _is_note(node)]
            inlines[:] = [node for node in inlines if not _is_note(node)]
    return taken


def _is_note(node: Any) -> bool:
    """Whether `node` (any item of a list in pandoc's tree) is a note."""
    return isinstance(node, dict) and node.get("t") == "Note"


def _markdown_ids(blocks: list[Node], report: list[str]) -> None:
    """Each id that Markdown cannot hold renamed, with the links to it (reported).

    Pandoc's Markdown reader takes letters, digits and `-_:.` for an id in `{#id}`, but
    its writer writes any id there; one with another character (HTML allows all but
    spaces: `entry-1661-7-18/1661-7-23` in Standard Ebooks' Pepys) is read back as text,
    so the `::: {#…}` line would be printed in the book and the links to it broken.
    """
    carriers = attributed(blocks)
    taken = Ids(ids(carriers))
    renamed: dict[str, str] = {}
    for node in carriers:
        attributes = node["c"][ATTR_AT[node["t"]]]
        old = attributes[0]
        if old and not _MARKDOWN_ID.fullmatch(old):
            if old not in renamed:
                renamed[old] = unique(_NOT_IN_ID.sub("-", old), taken)
            attributes[0] = renamed[old]
    for link in (node for node in carriers if node["t"] == "Link"):
        target = link["c"][2][0]
        if target.startswith("#") and target[1:] in renamed:
            link["c"][2][0] = f"#{renamed[target[1:]]}"
    for old, new in renamed.items():
        report.append(f"id `{old}` renamed `{new}`: Markdown cannot hold it")


def _as_text(link: Node) -> None:
    """A link made its text, in place: a span with the link's id (other links may point
    at it), without the attributes of a link (`target`, `rel`), which a span may not
    have (EPUBCheck refuses `<span target="_blank">`)."""
    (id_, classes, _), inlines = link["c"][:2]
    link["t"], link["c"] = "Span", [[id_, classes, []], inlines]


def _relink(links: list[Node], name: str, owners: dict[str, str], report: list[str]) -> None:
    """`#id` whose target is in another chapter -> `NN-name.md#id`: the build resolves a
    link to another chapter by the chapter's file name (convert.chapter_files). A link to
    an id the source does not have (a bookmark Word lost) becomes its text, reported:
    the build would refuse it, and only a person knows where it should point. So does a
    link to a file beside the source (PG's `music/song.midi`): the book carries only its
    chapters and pictures, and EPUBCheck refuses a link to a file the package lacks.
    Made text, a link keeps its id: other links may point at it (LaTeX2HTML's `<a
    name="tex2html2134" href="debian-tutorial.html">`)."""
    for link in links:
        target = link["c"][2]
        parts = urlsplit(target[0])
        if not parts.scheme and not parts.netloc and parts.path:
            report.append(f"link to `{target[0]}` kept as its text: the book holds no such file")
            _as_text(link)
            continue
        if not target[0].startswith("#"):
            continue
        owner = owners.get(target[0][1:])
        if owner is None:
            report.append(f"link to `{target[0]}` kept as its text: no such id in the source")
            _as_text(link)
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
