"""A draft book as every importer makes it, and writing it into a project all or nothing.

Each reader (plain text, Markdown, HTML, and later DOCX and EPUB) turns its source into a
`Draft`; only `write_draft` touches the project. So the rules every import keeps live
here once: an import never overwrites a book, its metadata or its cover, and a failed
import leaves nothing behind.
"""

from __future__ import annotations

import codecs
import os
import re
import shutil
import tempfile
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from ebook_builder.errors import InputError, OutputError, UsageError
from ebook_builder.load import book_identifier
from ebook_builder.sources import CHAPTER_LIMIT, read_input

REPORT = "IMPORT.md"
COVER_SUFFIXES = (".jpg", ".png")
# The encoding a text states in its header, as Project Gutenberg's 8-bit texts do
# (`Character set encoding: ISO-8859-1`), or an HTML page in its `<meta>` (`charset=`),
# read where it is: in the first few lines.
_DECLARED_ENCODING = re.compile(
    rb"^Character set encoding:[ \t]*([A-Za-z][\w.:-]*)|<meta[^>]*charset=[\"']?([A-Za-z][\w.:-]*)",
    re.M | re.I,
)
_HEADER_BYTES = 4096
# What a text declaring ISO-8859-1 or ASCII means by it: Windows-1252, whose quotes and
# dashes PG's 8-bit files hold (the WHATWG Encoding Standard reads those labels so too).
_LATIN_1 = {"iso8859-1", "ascii"}
_PAGE_MARKER = "{.pagebreak"  # how pandoc's Markdown writes the build's page marker
# Why a paginated book needs `page_source` (Ace's `epub-pagesource`, EPUB Accessibility).
_PAGE_SOURCE_NEEDED = (
    "the chapters mark print pages; name the print edition they follow, "
    "as EPUB readers and accessibility checkers require"
)


@dataclass
class Draft:
    """What a reader found in a source, before anything is written.

    `chapters` are (file name, Markdown) in reading order; `pictures` map a path relative
    to the book's folder (`images/…`) to the picture's bytes; `metadata` holds only what
    the source states (title, language, creators, each a name or `{name, file_as}`…);
    `cover` is (suffix, bytes); `report` lists every guess the reader made and every
    construct it could not carry.
    """

    chapters: list[tuple[str, str]]
    metadata: dict[str, Any]
    pictures: dict[str, bytes] = field(default_factory=dict)
    cover: tuple[str, bytes] | None = None
    report: list[str] = field(default_factory=list)


def creator_names(creators: list[str | dict[str, str]]) -> list[str]:
    """The names of a draft's creators, each written as a name or `{name, file_as}`."""
    return [entry if isinstance(entry, str) else entry["name"] for entry in creators]


@dataclass(frozen=True)
class ImportResult:
    """What an import wrote: the chapter files in reading order, the metadata file, every
    other file (report, pictures, cover), and `problems`: what `ebook check` still finds
    in the new book, one line each (empty when it is ready to build)."""

    chapters: list[Path]
    metadata: Path
    others: list[Path]
    problems: list[str] = field(default_factory=list)


def read_manuscript(source: Path, name: str) -> str:
    """The source's text, read as a chapter is (a regular file, within the chapter size
    bound): UTF-8, or the encoding its header declares (Project Gutenberg's 8-bit texts,
    an HTML page's `<meta charset>`); input that cannot be read or decoded is the user's
    to fix, in one line naming what the file should have been (`name`)."""
    data = read_input(source, CHAPTER_LIMIT, source)
    try:
        return data.decode("utf-8").removeprefix("\ufeff")
    except UnicodeDecodeError as exc:
        failure = exc
    if (declared := _declared_encoding(data)) is not None:
        try:
            return data.decode(declared)
        except UnicodeDecodeError as exc:
            failure = exc
    encoding = declared or "UTF-8"
    message = f"not {name}: not {encoding} ({failure.reason} at byte {failure.start})"
    raise InputError(message, path=source) from None


def _declared_encoding(data: bytes) -> str | None:
    """The codec of the encoding the text's header declares, if Python knows it."""
    found = _DECLARED_ENCODING.search(data[:_HEADER_BYTES])
    try:
        codec = codecs.lookup((found[1] or found[2]).decode("ascii")).name if found else None
    except LookupError:
        return None
    return "cp1252" if codec in _LATIN_1 else codec


def chapter_file(number: int, count: int, slug: str) -> str:
    """`NN-slug.md`, the `number`th of `count` chapters: numbered with as many digits as
    the last one needs (at least two), so that the folder lists them in reading order
    (War and Peace has 383: `009-…` before `100-…`)."""
    return f"{number:0{max(2, len(str(count)))}d}-{slug}.md"


def targets(root: Path, book_id: str) -> list[Path]:
    """Every path an import of `book_id` may create: none of them may exist already."""
    covers = [root / "covers" / f"{book_id}{suffix}" for suffix in COVER_SUFFIXES]
    return [root / "book" / book_id, root / "metadata" / f"{book_id}.yaml", *covers]


def refuse_existing(root: Path, book_id: str) -> None:
    """An import never overwrites: a book, metadata file or cover already there is the
    user's work, so the import stops before reading its source."""
    for existing in targets(root, book_id):
        if existing.exists():
            raise UsageError("already exists; an import never overwrites a book", path=existing)


def write_draft(draft: Draft, book_id: str, root: Path, source: Path) -> ImportResult:
    """Write `draft` as `book/<book_id>/`, `metadata/<book_id>.yaml` and its cover.

    Everything is first written into a temporary folder inside the project (the same
    file system, so each move is a rename) and moved into place only once all is written;
    a failure removes what was moved, so nothing is left behind.
    """
    refuse_existing(root, book_id)
    book_dir, metadata_path, *_ = targets(root, book_id)
    names = [name for name, _ in draft.chapters]
    files: dict[Path, bytes] = {Path(name): text.encode() for name, text in draft.chapters}
    files.update({Path(name): data for name, data in draft.pictures.items()})
    files[Path(REPORT)] = _report(draft, source).encode()
    metadata = _metadata(draft, book_id, source).encode()
    cover_path = None
    if draft.cover is not None:
        cover_path = root / "covers" / f"{book_id}{draft.cover[0]}"
    try:
        root.mkdir(parents=True, exist_ok=True)
        stage = Path(tempfile.mkdtemp(dir=root, prefix=f".import-{book_id}."))
    except OSError as exc:
        raise OutputError(f"cannot write ({exc.strerror})", path=root) from None
    moved: list[Path] = []
    try:
        for relative, data in files.items():
            (stage / "book" / relative).parent.mkdir(parents=True, exist_ok=True)
            (stage / "book" / relative).write_bytes(data)
        (stage / "metadata.yaml").write_bytes(metadata)
        moves = [(stage / "book", book_dir), (stage / "metadata.yaml", metadata_path)]
        if draft.cover is not None and cover_path is not None:
            (stage / "cover").write_bytes(draft.cover[1])
            moves.append((stage / "cover", cover_path))
        for staged, target in moves:
            target.parent.mkdir(parents=True, exist_ok=True)
            os.rename(staged, target)  # refuses a folder that appeared meanwhile
            moved.append(target)
    except OSError as exc:
        _remove(moved)
        raise OutputError(f"cannot write ({exc.strerror or exc})", path=root) from None
    except BaseException:
        _remove(moved)
        raise
    finally:
        shutil.rmtree(stage, ignore_errors=True)
    others = [book_dir / REPORT, *(book_dir / name for name in draft.pictures)]
    if cover_path is not None:
        others.append(cover_path)
    return ImportResult([book_dir / name for name in names], metadata_path, others)


def _remove(paths: list[Path]) -> None:
    """Undo the moves of a failed import: these paths did not exist before it."""
    for path in paths:
        if path.is_dir():
            shutil.rmtree(path, ignore_errors=True)
        else:
            path.unlink(missing_ok=True)


def _paginated(draft: Draft) -> bool:
    """Whether the chapters mark print pages (`[]{.pagebreak page="N"}`)."""
    return any(_PAGE_MARKER in text for _, text in draft.chapters)


def _metadata(draft: Draft, book_id: str, source: Path) -> str:
    """The metadata file to finish by hand: only what the source states, plus the fixed
    identifier every new book gets when the source states none; a creator left empty
    says so in a comment, since inventing one would pass `ebook check` with a wrong
    book."""
    chapters = [name for name, _ in draft.chapters]
    known = {key: value for key, value in draft.metadata.items() if value}
    known.setdefault("title", book_id)
    known.setdefault("identifier", book_identifier(book_id))
    creators = known.pop("creators", [])
    data = yaml.safe_dump(known, allow_unicode=True, sort_keys=False, width=100)
    if creators:
        data += yaml.safe_dump({"creators": creators}, allow_unicode=True, width=100)
    else:
        data += "# TODO: the author(s) as the text names them, e.g. creators: [Jane Doe]\n"
        data += "creators: []\n"
    if _paginated(draft) and not known.get("page_source"):
        data += f"# TODO: page_source: {_PAGE_SOURCE_NEEDED}\n"
    listing = "".join(f"  - {name}\n" for name in chapters)
    return (
        f"# Draft made by `ebook import` from {source.name}: check every field "
        f"(book/{book_id}/{REPORT} lists what the import guessed).\n"
        f"{data}chapters:\n{listing}"
    )


def _report(draft: Draft, source: Path) -> str:
    """`IMPORT.md`: what a person must review, each line once (with how many times it
    was said: LaTeX2HTML's Debian guide said the same of 500 navigation pictures). It is
    not listed as a chapter, so it never goes into the book."""
    lines = list(draft.report)
    if not draft.metadata.get("title"):
        lines.append("metadata: `title` set to the book id: the source states none")
    if not draft.metadata.get("creators"):
        lines.append("metadata: `creators` is needed: the source does not name its author")
    if _paginated(draft) and not draft.metadata.get("page_source"):
        lines.append(f"metadata: `page_source` is needed: {_PAGE_SOURCE_NEEDED}")
    counts = Counter(lines)  # a line said of every page (its navigation's pictures) once
    body = "".join(
        f"- {line}" + (f" ({counts[line]} times)" if counts[line] > 1 else "") + "\n"
        for line in counts
    )
    body = body or "- nothing to review\n"
    return (
        f"# Import report: {source.name}\n\n"
        "What `ebook import` guessed or could not carry; this file is not a chapter.\n\n"
        f"{body}"
    )
