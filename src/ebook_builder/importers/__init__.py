"""`ebook import`: a first draft of a book from a manuscript in another format.

The stage before `load`: a reader per kind of source turns it into a `Draft` (chapters as
Markdown, pictures, the metadata the source states, a cover, a report of every guess);
`draft.write_draft` writes it into the project all or nothing; `ebook check` then says
what is left to do. A new kind (DOCX, EPUB) is one reader and one row in each table.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

from ebook_builder.errors import EbookError, InputError, UsageError
from ebook_builder.importers import docx, epub, pandoc_markup, text
from ebook_builder.importers.draft import Draft, ImportResult, refuse_existing, write_draft
from ebook_builder.limits import TOO_DEEP
from ebook_builder.load import BOOK_ID

# Each kind's reader: (source, kind) -> Draft.
READERS: dict[str, Callable[[Path, str], Draft]] = {
    "web": text.read_text,
    "pdf-text": text.read_text,
    "markdown": pandoc_markup.read_markup,
    "html": pandoc_markup.read_markup,
    "docx": docx.read_docx,
    "epub": epub.read_epub,
}
# The kind a file's suffix implies; plain text is read as a saved web page unless told.
SUFFIXES = {
    ".txt": "web",
    ".md": "markdown",
    ".markdown": "markdown",
    ".html": "html",
    ".htm": "html",
    ".xhtml": "html",
    ".docx": "docx",
    ".epub": "epub",
}

__all__ = ["READERS", "SUFFIXES", "ImportResult", "import_book"]


def import_book(
    file: Path, book_id: str, kind: str | None = None, project: Path = Path(".")
) -> ImportResult:
    """Import `file` as the new book `book_id` of the project at `project`, then check it.

    `kind` defaults to the one the file's suffix implies. Raises before writing anything
    when the request or the source is bad; once the book is written, what `ebook check`
    finds in it is returned in `problems` rather than raised, since the import itself
    succeeded and those problems are the user's next edits.
    """
    if not BOOK_ID.match(book_id):
        raise UsageError(f"book id {book_id!r} must match [a-z0-9][a-z0-9-]*", path=file)
    chosen = kind if kind is not None else SUFFIXES.get(file.suffix.lower())
    if chosen not in READERS:
        what = f"unknown kind {kind!r}" if kind is not None else f"unknown suffix {file.suffix!r}"
        choices = ", ".join(READERS)
        raise UsageError(f"{what}: give --kind {choices}", path=file)
    refuse_existing(project, book_id)
    try:
        draft = READERS[chosen](file, chosen)
    except RecursionError:  # a tree too deep to walk: the build refuses such a book anyway
        raise InputError(TOO_DEEP, path=file) from None
    result = write_draft(draft, book_id, project, file)
    return replace(result, problems=_check(project, book_id))


def _check(project: Path, book_id: str) -> list[str]:
    """`ebook check` on the new book: its problems, one line each, or none."""
    from ebook_builder import api  # api reaches every stage; an import needs it only here

    try:
        api.check(project, [book_id])
    except EbookError as exc:
        return exc.lines()
    return []
