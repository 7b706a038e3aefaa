"""What the CLI and Python callers use: `check`, `build`, `new_book`.

Each call runs the stages in order (load -> convert -> validate -> write) and raises an
`EbookError` carrying every problem; nothing is written unless every requested book is
free of problems.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import yaml

from ebook_builder.convert import convert_book
from ebook_builder.cover import render_cover
from ebook_builder.errors import BuildFailed, EbookError, UsageError
from ebook_builder.formats import FORMATS, OutputFormat
from ebook_builder.load import BOOK_ID, Project, book_identifier, load_book, select_books
from ebook_builder.model import ConvertedBook
from ebook_builder.output import atomic_output
from ebook_builder.validate import validate_book

Progress = Callable[[str], None]
DEFAULT_OUT = "dist"


def _quiet(_: str) -> None:
    """The default progress callback: say nothing."""


def parse_formats(requested: list[str] | None) -> list[OutputFormat]:
    """Formats by name (`["epub"]`, or `["epub,docx"]` as typed); all of them by default."""
    if not requested:
        return list(FORMATS.values())
    names = [n.strip().lower() for item in requested for n in item.split(",") if n.strip()]
    unknown = [n for n in names if n not in FORMATS]
    if unknown or not names:
        known = ", ".join(FORMATS)
        raise UsageError(f"unknown format {(unknown or [''])[0]!r} (known: {known})")
    return [FORMATS[n] for n in dict.fromkeys(names)]


def prepare(project: Project, book_id: str) -> ConvertedBook:
    """Load, convert and validate one book."""
    book = load_book(project, book_id)
    return validate_book(book, convert_book(book))


def check(
    root: Path, book_ids: list[str] | None = None, progress: Progress = _quiet
) -> list[ConvertedBook]:
    """Run every stage but packaging; raise with every problem of every book."""
    project = Project(root)
    books, errors = [], []
    for book_id in select_books(project, book_ids):
        progress(f"checking {book_id}")
        try:
            books.append(prepare(project, book_id))
        except EbookError as exc:
            errors.append(exc)
    if errors:
        raise errors[0] if len(errors) == 1 else BuildFailed(errors)
    return books


def build(
    root: Path,
    book_ids: list[str] | None = None,
    formats: list[str] | None = None,
    out: Path | None = None,
    progress: Progress = _quiet,
) -> list[Path]:
    """Write every requested format of every requested book; return the files written."""
    chosen = parse_formats(formats)
    out_dir = out if out is not None else root / DEFAULT_OUT
    written = []
    for converted in check(root, book_ids, progress):
        for fmt in chosen:
            target = out_dir / f"{converted.book.book_id}{fmt.suffix}"
            progress(f"writing {target.name}")
            with atomic_output(target) as temporary:
                fmt.write(converted, temporary)
            written.append(target)
    return written


def new_book(root: Path, book_id: str, title: str = "Untitled") -> list[Path]:
    """Scaffold a book: a first chapter, a metadata file and a generated cover."""
    project = Project(root)
    if not BOOK_ID.match(book_id):
        raise UsageError(f"book id {book_id!r} must be lower-case letters, digits and hyphens")
    book_dir = project.book_root / book_id
    metadata_path = project.metadata_dir / f"{book_id}.yaml"
    if book_dir.exists() or metadata_path.exists():
        raise UsageError(f"book {book_id!r} already exists")
    chapter = book_dir / "01-chapter-one.md"
    metadata = {
        "title": title,
        "creators": ["Author Name"],
        "language": "en",
        "identifier": book_identifier(book_id),
        "chapters": [chapter.name],
    }
    files = {
        chapter: "# Chapter One\n\nThe first paragraph.\n",
        metadata_path: yaml.safe_dump(metadata, sort_keys=False, allow_unicode=True),
    }
    for path, text in files.items():
        with atomic_output(path) as temporary:
            temporary.write_text(text, encoding="utf-8")
    cover = write_cover(root, book_id)
    return [*files, cover]


def write_cover(root: Path, book_id: str) -> Path:
    """Draw the typographic cover from the book's metadata into `covers/<book-id>.jpg`."""
    project = Project(root)
    select_books(project, [book_id])
    metadata = load_book(project, book_id).metadata
    target = project.covers_dir / f"{book_id}.jpg"
    with atomic_output(target) as temporary:
        temporary.write_bytes(render_cover(metadata))
    return target
