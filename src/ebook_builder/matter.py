"""Stage 2, beside `convert`: the pages made from the metadata, not from a chapter.

A title page (title, subtitle, creators, publisher), an imprint (rights, edition, the
ISBNs, the identifier where a reader can look it up, the contributors by role, publisher
and date, the print edition the page numbers follow), a dedication when the metadata has
one, and a colophon at the end (what the book is set in, what made it, its cover). Each is
made once here as an XHTML body, and every writer lays it out as it lays out a chapter
(`ConvertedBook.documents`); the DOCX gives each paragraph a style of its own.

Each page says only what the metadata states: an imprint with nothing to say is left
out. Each carries its EPUB structural semantic (`titlepage`, `copyright-page`,
`dedication`, `colophon`) on a `<section>` in a body of `frontmatter` or `backmatter`
(EPUB 3 Structural Semantics Vocabulary), with the DPUB-ARIA role where there is one
(Ace's `epub-type-has-matching-role`); the EPUB lists each in its landmarks. The text is
set as lxml text nodes, so any title (`<`, `&`, right-to-left script) is escaped; a
name inside a sentence is a `<bdi>`, so that a name in another direction of writing
does not carry the sentence's punctuation with it (HTML's bidirectional isolation).
"""

from __future__ import annotations

from collections.abc import Iterable

from lxml import etree

from ebook_builder.convert import EPUB_TYPE_ROLES
from ebook_builder.fonts import FACE_LICENCE, FACE_NAME
from ebook_builder.markup.xhtml import EPUB_TYPE, NSMAP, page_breaks, tag
from ebook_builder.model import Book, ChapterDocument, MatterPage, Metadata
from ebook_builder.relators import CREDITS

PROGRAM = "ebook-builder"
# The class of every page's section: what tells `ebook import` that a page of an EPUB is
# one this module made, which the next build makes again (the dedication's text goes
# back into the metadata). A stylesheet selects each page by its kind, its other class
# (Kindles read no `epub:type` selector).
MADE_CLASS = "from-metadata"
# What each page, by kind, is called in a reader's menu (its landmark) and its `<title>`.
LABELS = {
    "titlepage": "Title Page",
    "copyright-page": "Imprint",
    "dedication": "Dedication",
    "colophon": "Colophon",
}
# The edition each ISBN of `Isbns` belongs to, as the imprint names it.
ISBN_EDITIONS = {"epub": "EPUB", "kindle": "Kindle", "print": "print"}

Inline = str | etree._Element


def matter_pages(book: Book, chapters: list[ChapterDocument]) -> list[MatterPage]:
    """The book's matter pages in reading order: title page, imprint, dedication (each
    when it has something to say), colophon. File names avoid the chapters'."""
    meta = book.metadata
    taken = {chapter.file_name for chapter in chapters}
    pages = [
        ("titlepage", True, _title_page(meta)),
        ("copyright-page", True, _imprint(meta, chapters)),
        ("dedication", True, _dedication(meta)),
        ("colophon", False, _colophon(book)),
    ]
    made = []
    for kind, front, paragraphs in pages:
        if paragraphs:
            body = _body(kind, front, paragraphs)
            made.append(MatterPage(kind, LABELS[kind], _free_name(kind, taken), front, body))
    return made


def _free_name(kind: str, taken: set[str]) -> str:
    """`kind.xhtml`, or `kind-2.xhtml`… when a chapter's file has that name already."""
    name, number = f"{kind}.xhtml", 1
    while name in taken:
        number += 1
        name = f"{kind}-{number}.xhtml"
    taken.add(name)
    return name


def _body(kind: str, front: bool, paragraphs: list[etree._Element]) -> etree._Element:
    body = etree.Element(tag("body"), nsmap=NSMAP)
    body.set(EPUB_TYPE, "frontmatter" if front else "backmatter")
    section = etree.SubElement(body, tag("section"))
    section.set(EPUB_TYPE, kind)
    section.set("class", f"{MADE_CLASS} {kind}")
    if kind in EPUB_TYPE_ROLES:  # DPUB-ARIA has none for a title page or a copyright page
        section.set("role", EPUB_TYPE_ROLES[kind])
    section.extend(paragraphs)
    return body


def made_page(body: etree._Element) -> str | None:
    """The kind of matter page `body` (an XHTML `<body>`) is, if this module made it."""
    section = body.find(tag("section"))
    if section is None or MADE_CLASS not in section.get("class", "").split():
        return None
    return section.get(EPUB_TYPE)


def _paragraph(*pieces: Inline, name: str = "p", css_class: str | None = None) -> etree._Element:
    """An element of text and inline elements, in order."""
    element = etree.Element(tag(name))
    if css_class:
        element.set("class", css_class)
    last: etree._Element | None = None
    for piece in pieces:
        if isinstance(piece, str):
            if last is None:
                element.text = (element.text or "") + piece
            else:
                last.tail = (last.tail or "") + piece
        else:
            element.append(piece)
            last = piece
    return element


def _inline(name: str, text: str) -> etree._Element:
    element = etree.Element(tag(name))
    element.text = text
    return element


def _names(names: Iterable[str]) -> list[Inline]:
    """Names joined as a sentence joins them ("A", "A and B", "A, B and C"), each isolated."""
    listed = [_inline("bdi", name) for name in names]
    pieces: list[Inline] = []
    for number, name in enumerate(listed):
        if number:
            pieces.append(" and " if number == len(listed) - 1 else ", ")
        pieces.append(name)
    return pieces


def _title_page(meta: Metadata) -> list[etree._Element]:
    """Title, subtitle, each creator, and the publisher unless a creator published it."""
    lines = [_paragraph(meta.title, name="h1", css_class="title")]
    if meta.subtitle:
        lines.append(_paragraph(meta.subtitle, css_class="subtitle"))
    lines += [_paragraph(name, css_class="author") for name in meta.creator_names]
    if meta.publisher and meta.publisher not in meta.creator_names:
        lines.append(_paragraph(meta.publisher, css_class="publisher"))
    return lines


def _imprint(meta: Metadata, chapters: list[ChapterDocument]) -> list[etree._Element]:
    """What the metadata says about this edition, a paragraph per fact."""
    lines = []
    if meta.rights:
        lines.append(_paragraph(meta.rights))
    if meta.edition:
        lines.append(_paragraph(meta.edition))
    lines += [_paragraph(*credit) for credit in _credits(meta)]
    if meta.publisher or meta.date:
        published = ["Published"]
        if meta.publisher:
            published += [" by ", _inline("bdi", meta.publisher)]
        if meta.date:
            published.append(f" {_when(meta.date)}")
        lines.append(_paragraph(*published, "."))
    lines += [_paragraph(line) for line in _identifiers(meta)]
    if meta.page_source and any(page_breaks(chapter.body) for chapter in chapters):
        source = _inline("bdi", meta.page_source)
        lines.append(_paragraph("The page numbers in this ebook are those of ", source, "."))
    return lines


def _when(date: str) -> str:
    """ "in 2017", "in 2017-03", "on 2017-03-01": a year or month is in, a day on."""
    return f"{'on' if len(date) >= len('2017-03-01') else 'in'} {date}"


def _credits(meta: Metadata) -> list[list[Inline]]:
    """ "Translated by A and B.", one sentence per role, in the order roles first appear."""
    roles: dict[str, list[str]] = {}
    for contributor in meta.contributors:
        roles.setdefault(contributor.role, []).append(contributor.name)
    return [[f"{CREDITS[role]} ", *_names(names), "."] for role, names in roles.items()]


def _identifiers(meta: Metadata) -> list[str]:
    """The ISBN of each edition, then the book's identifier if a reader can look it up:
    not a `urn:uuid:` (a number made to be unique, not to be found), nor an ISBN listed."""
    lines = [
        f"ISBN {number} ({ISBN_EDITIONS[edition]})"
        for edition, number in vars(meta.isbn).items()
        if number
    ]
    identifier = meta.identifier
    bare = identifier.lower().removeprefix("urn:isbn:").replace("-", "").replace(" ", "")
    listed = {number.lower() for number in vars(meta.isbn).values() if number}
    if not identifier.lower().startswith("urn:uuid:") and bare not in listed:
        lines.append(f"Identifier: {identifier}")
    return lines


def _dedication(meta: Metadata) -> list[etree._Element]:
    """The dedication, a paragraph per paragraph of it (a blank line between)."""
    if not meta.dedication:
        return []
    paragraphs = (" ".join(part.split()) for part in meta.dedication.split("\n\n"))
    return [_paragraph(text) for text in paragraphs if text]


def _colophon(book: Book) -> list[etree._Element]:
    """Who wrote the book and when it was published, what made the ebook, what it is
    set in and under which licence, and where its cover comes from: what a colophon such
    as Standard Ebooks' says, as far as the metadata knows it."""
    meta = book.metadata
    written: list[Inline] = [_inline("i", meta.title), " was written by "]
    written += _names(meta.creator_names)
    if meta.date:
        written.append(f" and published {_when(meta.date)}")
    lines = [
        _paragraph(*written, "."),
        _paragraph(f"This ebook was made with {PROGRAM}."),
        _paragraph(f"It is set in {FACE_NAME}, under the {FACE_LICENCE}."),
    ]
    designers = [c.name for c in meta.contributors if c.role == "cover designer"]
    if book.cover.generated:
        lines.append(_paragraph(f"Its cover was generated by {PROGRAM} from the metadata."))
    elif designers:
        lines.append(_paragraph("Its cover was designed by ", *_names(designers), "."))
    return lines
