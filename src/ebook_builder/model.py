"""The Book model: plain typed data handed from stage to stage.

`load` fills a `Book` from the project's files; `convert` turns each `ChapterSource` into a
`ChapterDocument`, and `matter` makes the `MatterPage`s from the metadata; the format
writers read a `ConvertedBook` and nothing else, so every format sees the same chapters,
pages, order, metadata and typography.
"""

from __future__ import annotations

import threading
import weakref
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from functools import wraps
from pathlib import Path
from typing import TypeVar

from lxml import etree

from ebook_builder.errors import Diagnostic

Made = TypeVar("Made")
# How deep every format's table of contents goes: chapters, their sections and subsections.
# Deeper headings stay in the text; a reader's contents list grows unwieldy past three.
TOC_DEPTH = 3
# How deep the contents page in the book goes unless `toc_depth` says: its chapters, so that
# a phone shows chapter 1 after a screen, not three; the reader's own navigation keeps
# every level down to `TOC_DEPTH`.
CONTENTS_DEPTH = 1
# The book designs a book chooses from with `design:` (each a stylesheet, a Word reference
# document and a cover layout); the first is the default.
DESIGNS = ("classic", "modern")


@dataclass(frozen=True)
class Person:
    """A creator of the book, and the form a library sorts the name by ("Reed, John")."""

    name: str
    file_as: str | None = None


@dataclass(frozen=True)
class Contributor:
    """Someone who helped make the book; `role` is a name of `relators.RELATORS`."""

    name: str
    role: str
    file_as: str | None = None


@dataclass(frozen=True)
class Series:
    """The series a book belongs to; `position` is a number as written ("2", "1.5")."""

    name: str
    position: str | None = None


@dataclass(frozen=True)
class Isbns:
    """The ISBN of each edition the publisher registered, as 10 or 13 digits (no hyphens).

    `epub` is the .epub's and the .kepub.epub's (the same EPUB, with Kobo's spans);
    `kindle` the .azw3's and the .mobi's; `print` the printed book's.
    """

    epub: str | None = None
    kindle: str | None = None
    print: str | None = None


@dataclass(frozen=True)
class Metadata:
    """What `metadata/<book-id>.yaml` says about a book, already checked."""

    title: str
    language: str
    identifier: str
    creators: tuple[Person, ...]
    modified: datetime
    subtitle: str | None = None
    publisher: str | None = None
    date: str | None = None
    description: str | None = None
    subjects: tuple[str, ...] = ()
    page_source: str | None = None
    contributors: tuple[Contributor, ...] = ()
    series: Series | None = None
    rights: str | None = None
    edition: str | None = None
    dedication: str | None = None
    isbn: Isbns = Isbns()
    toc_depth: int = CONTENTS_DEPTH
    design: str = DESIGNS[0]
    cover_color: str | None = None  # "#rrggbb", the generated cover's field

    @property
    def creator_names(self) -> tuple[str, ...]:
        """The creators' names, as the book shows them."""
        return tuple(creator.name for creator in self.creators)


@dataclass(frozen=True)
class ChapterSource:
    """One chapter's Markdown, as read from `book/<book-id>/`.

    `entry` is the chapter as the metadata lists it (relative to the book folder);
    `display_path` is relative to the project root: it is what diagnostics show.
    """

    entry: str
    path: Path
    display_path: Path
    text: str


@dataclass(frozen=True)
class CoverImage:
    """The cover picture; `generated` is true when no file in `covers/` supplied it."""

    data: bytes
    media_type: str
    generated: bool


@dataclass(frozen=True)
class Book:
    """A book's sources, read and checked by the load stage."""

    book_id: str
    book_dir: Path
    metadata_path: Path
    metadata: Metadata
    chapters: tuple[ChapterSource, ...]
    cover: CoverImage


@dataclass(frozen=True)
class Heading:
    """A heading of a chapter, for the table of contents."""

    level: int
    title: str
    anchor: str


@dataclass
class ChapterDocument:
    """One chapter converted to XHTML.

    `body` is the `<body>` element (XHTML namespace) that the writers serialise;
    `auto_ids` are the ids the pipeline made from heading text, which it may rename
    when two chapters would otherwise share one; `warnings` are what the conversion could
    not carry into the book (they never stop a build; the CLI prints them).
    """

    source: ChapterSource
    file_name: str
    title: str
    body: etree._Element
    auto_ids: set[str] = field(default_factory=set)
    warnings: list[Diagnostic] = field(default_factory=list)


@dataclass(frozen=True)
class ImageAsset:
    """An image a chapter shows; `href` is its path relative to the book folder, which is
    also where it lies in the EPUB, beside the chapters."""

    source: Path
    href: str
    media_type: str


@dataclass(frozen=True)
class MatterPage:
    """A page made from the metadata, not from a chapter: title page, imprint, dedication
    or colophon (`matter.matter_pages`).

    `kind` is its EPUB structural semantic (`titlepage`, `copyright-page`, `dedication`,
    `colophon`), `label` what a reader's menu calls it (its landmark and `<title>`);
    `front` whether it comes before the chapters (its body's `epub:type` is `frontmatter`)
    or after them (`backmatter`). `body` is its XHTML `<body>`; it holds no ids and no
    links, so that no chapter's link can land in it by mistake.
    """

    kind: str
    label: str
    file_name: str
    front: bool
    body: etree._Element

    @property
    def title(self) -> str:
        """Its `<title>`, as a chapter's is its heading."""
        return self.label


@dataclass(eq=False)
class ConvertedBook:
    """A validated book ready for the format writers.

    `matter` holds the pages made from the metadata, in reading order: the front matter's
    before the chapters, the back matter's after them (`documents`). The contents lists
    only the chapters; the matter pages are reached through the landmarks.
    Compared by identity: a writer's result is kept per book object (`once_per_book`).
    """

    book: Book
    chapters: list[ChapterDocument]
    images: list[ImageAsset]
    matter: list[MatterPage] = field(default_factory=list)

    @property
    def front_matter(self) -> list[MatterPage]:
        return [page for page in self.matter if page.front]

    @property
    def back_matter(self) -> list[MatterPage]:
        return [page for page in self.matter if not page.front]

    @property
    def documents(self) -> list[ChapterDocument | MatterPage]:
        """Every document of the text in reading order: front matter, chapters, back matter."""
        return [*self.front_matter, *self.chapters, *self.back_matter]

    @property
    def warnings(self) -> list[Diagnostic]:
        """Every chapter's warnings, in reading order: `ebook check` and `build` print them."""
        return [warning for chapter in self.chapters for warning in chapter.warnings]


def once_per_book(
    make: Callable[[ConvertedBook], Made],
) -> Callable[[ConvertedBook], Made]:
    """`make`, run once per book: the writers that share its result run in parallel threads.

    The .epub and the .kepub.epub are made from the same EPUB, and the .azw3 and the .mobi
    from the same resources; the second writer to ask waits for the first one's result
    instead of making it again. A result lives as long as its book.
    """
    made: weakref.WeakKeyDictionary[ConvertedBook, Made] = weakref.WeakKeyDictionary()
    lock = threading.Lock()

    @wraps(make)
    def once(converted: ConvertedBook) -> Made:
        with lock:
            if converted not in made:
                made[converted] = make(converted)
            return made[converted]

    return once
