"""Stage 1: read `book/`, `metadata/` and `covers/` into a `Book`.

Everything a book needs is checked here, and every problem of a book is reported at once
with the file and line it comes from. Nothing outside `book/<book-id>/` is read for a
chapter: absolute paths, `..` and symlinks that lead out are refused.
"""

from __future__ import annotations

import os
import re
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cached_property
from pathlib import Path, PurePosixPath
from typing import Any

import yaml

from ebook_builder.cover import load_cover
from ebook_builder.errors import BookError, Diagnostic, InputError, UsageError
from ebook_builder.model import Book, ChapterSource, Metadata

# BCP 47 in its common shape: a 2–3 letter language, then subtags (script, region, variant).
LANGUAGE_TAG = re.compile(r"^[A-Za-z]{2,3}(-[A-Za-z0-9]{1,8})*$")
# libyaml's loader where PyYAML was built with it: the same safe subset, ten times faster.
SAFE_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
BOOK_ID = re.compile(r"^[a-z0-9][a-z0-9-]*$")
# Characters XML 1.0 forbids: C0 controls but tab and newlines, and two non-characters.
NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
DATE = re.compile(r"^\d{4}(-\d{2}(-\d{2})?)?$")
TEXT_FIELDS = ("title", "subtitle", "publisher", "description", "page_source", "identifier")
LIST_FIELDS = ("creators", "subjects", "chapters")
KNOWN_FIELDS = {*TEXT_FIELDS, *LIST_FIELDS, "language", "date", "modified"}


def book_identifier(book_id: str) -> str:
    """A fixed `urn:uuid` for a new book: derived from its id, so never random."""
    return f"urn:uuid:{uuid.uuid5(uuid.NAMESPACE_URL, f'ebook-builder:{book_id}')}"


@dataclass(frozen=True)
class Project:
    """The folders of an ebook-builder project."""

    root: Path

    @property
    def book_root(self) -> Path:
        return self.root / "book"

    @property
    def metadata_dir(self) -> Path:
        return self.root / "metadata"

    @property
    def covers_dir(self) -> Path:
        return self.root / "covers"

    def book_ids(self) -> list[str]:
        """Every book that has a metadata file, sorted."""
        if not self.metadata_dir.is_dir():
            return []
        return sorted(p.stem for p in self.metadata_dir.glob("*.yaml") if BOOK_ID.match(p.stem))

    @cached_property
    def identifiers(self) -> dict[str, str]:
        """Each book's identifier as its metadata file states it, read once per project.

        A file that cannot be read claims nothing here; loading that book says why.
        """
        claims = {}
        for book_id in self.book_ids():
            try:
                text = (self.metadata_dir / f"{book_id}.yaml").read_text("utf-8")
                data = yaml.load(text, Loader=SAFE_LOADER)
            except (OSError, UnicodeDecodeError, yaml.YAMLError):
                continue
            if isinstance(data, dict):
                claims[book_id] = str(data.get("identifier", "")).strip()
        return claims

    def display(self, path: Path) -> Path:
        """`path` relative to the project root where it lies inside it."""
        try:
            return path.relative_to(self.root)
        except ValueError:
            return path


def select_books(project: Project, requested: list[str] | None) -> list[str]:
    """The book ids to work on: all of them by default; an unknown id is a usage error."""
    known = project.book_ids()
    if not requested:
        if not known:
            raise UsageError("no books found", path=project.display(project.metadata_dir))
        return known
    unknown = [b for b in requested if b not in known]
    if unknown:
        choices = ", ".join(known) or "none"
        raise UsageError(f"unknown book id {unknown[0]!r} (known: {choices})")
    return list(dict.fromkeys(requested))


def load_book(project: Project, book_id: str) -> Book:
    """Read and check one book; raises `InputError` or `BookError` with every problem."""
    metadata_path = project.metadata_dir / f"{book_id}.yaml"
    shown = project.display(metadata_path)
    raw, lines = _read_yaml(metadata_path, shown)
    problems: list[Diagnostic] = []
    metadata = _parse_metadata(raw, lines, shown, problems)
    if metadata is not None and (other := _identifier_owner(project, book_id, metadata.identifier)):
        message = f"identifier {metadata.identifier!r} is also the identifier of book {other!r}"
        problems.append(Diagnostic(shown, message, lines.get("identifier")))
    book_dir = project.book_root / book_id
    chapters = _read_chapters(project, book_dir, raw.get("chapters"), lines, shown, problems)
    if problems:
        error = InputError if any(_unreadable(p) for p in problems) else BookError
        raise error(f"{shown}: the book has problems", problems)
    assert metadata is not None
    cover = load_cover(project.covers_dir, book_id, metadata)
    return Book(book_id, book_dir, metadata_path, metadata, tuple(chapters), cover)


def _identifier_owner(project: Project, book_id: str, identifier: str) -> str | None:
    """Another book that claims `identifier`: stores and readers tell books apart by it."""
    owners = [other for other, claim in project.identifiers.items() if claim == identifier]
    return next((other for other in owners if other != book_id), None)


def _unreadable(problem: Diagnostic) -> bool:
    return problem.message.startswith(("cannot read", "not UTF-8", "missing chapter file"))


def _read_yaml(path: Path, shown: Path) -> tuple[dict[str, Any], dict[str, int]]:
    """The metadata mapping and the line of each top-level key."""
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise InputError(f"not UTF-8 ({exc.reason} at byte {exc.start})", path=shown) from None
    except OSError as exc:
        raise InputError(f"cannot read ({exc.strerror})", path=shown) from None
    try:
        node = yaml.compose(text, Loader=SAFE_LOADER)
        data = yaml.load(text, Loader=SAFE_LOADER)
    except yaml.MarkedYAMLError as exc:
        # At the end of the file the problem is where an unclosed bracket or quote began.
        mark = exc.problem_mark
        if mark is None or mark.line >= len(text.splitlines()):
            mark = exc.context_mark or mark
        line = mark.line + 1 if mark else None
        problem = f"malformed YAML: {exc.problem or exc.context}"
        raise InputError(problem, path=shown, line=line) from None
    except yaml.YAMLError as exc:
        raise InputError(f"malformed YAML: {exc}", path=shown) from None
    if not isinstance(data, dict) or not isinstance(node, yaml.MappingNode):
        raise BookError("metadata must be a mapping of keys such as 'title:'", path=shown, line=1)
    lines = {
        key.value: key.start_mark.line + 1
        for key, _ in node.value
        if isinstance(key, yaml.ScalarNode)
    }
    return data, lines


def _parse_metadata(
    raw: dict[str, Any], lines: dict[str, int], shown: Path, problems: list[Diagnostic]
) -> Metadata | None:
    flagged: set[str] = set()

    def problem(key: str, message: str) -> None:
        flagged.add(key)
        problems.append(Diagnostic(shown, message, lines.get(key, 1)))

    for key in sorted(set(map(str, raw)) - KNOWN_FIELDS):
        problem(key, f"unknown key {key!r}")
    text: dict[str, str | None] = {}
    for key in TEXT_FIELDS:
        value = raw.get(key)
        if value is not None and not isinstance(value, str):
            problem(key, f"'{key}' must be text, not {type(value).__name__}")
        text[key] = value.strip() or None if isinstance(value, str) else None
    lists: dict[str, tuple[str, ...]] = {}
    for key in ("creators", "subjects"):
        value = raw.get(key, [])
        if isinstance(value, str):
            value = [value]
        if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
            problem(key, f"'{key}' must be a list of names")
            value = []
        lists[key] = tuple(v.strip() for v in value)
    for key in ("title", "identifier"):
        if key not in flagged and text[key] is None:
            absent = raw.get(key) is None
            problem(key, f"missing required key '{key}'" if absent else f"'{key}' is empty")
    if "creators" not in flagged and not lists["creators"]:
        problem("creators", "at least one creator is required under 'creators'")
    language = raw.get("language")
    if language is None:
        problem("language", "missing required key 'language'")
    elif not isinstance(language, str) or not LANGUAGE_TAG.match(language):
        problem(
            "language", f"'language' must be a BCP 47 tag such as 'en' or 'fr-CA', not {language!r}"
        )
    date = raw.get("date")
    if date is not None:
        date = str(date)
        if not DATE.match(date):
            problem("date", f"'date' must be YYYY, YYYY-MM or YYYY-MM-DD, not {date!r}")
    modified = _modified(raw.get("modified"), date, lambda m: problem("modified", m))
    if problems:
        return None
    return Metadata(
        title=text["title"] or "",
        language=str(language),
        identifier=text["identifier"] or "",
        creators=lists["creators"],
        modified=modified,
        subtitle=text["subtitle"],
        publisher=text["publisher"],
        date=date,
        description=text["description"],
        subjects=lists["subjects"],
        page_source=text["page_source"],
    )


def source_date_epoch() -> str:
    """The reproducible-builds time (https://reproducible-builds.org/specs/source-date-epoch/),
    or "": it overrides every output's timestamp, so it shapes the outputs as the files do.
    """
    return os.environ.get("SOURCE_DATE_EPOCH", "")


def _modified(value: Any, date: str | None, problem: Any) -> datetime:
    """The fixed timestamp of every output: SOURCE_DATE_EPOCH, else `modified`, else `date`.

    Reproducible builds need a time that comes from the sources, never the clock.
    """
    epoch = source_date_epoch()
    if epoch.isdigit():
        return datetime.fromtimestamp(int(epoch), UTC)
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    if value is not None:
        try:
            return datetime.fromisoformat(str(value)).replace(tzinfo=UTC)
        except ValueError:
            problem(f"'modified' must be an ISO 8601 date and time, not {value!r}")
    if date and DATE.match(date):
        parts = [int(p) for p in date.split("-")] + [1, 1]
        return datetime(parts[0], parts[1], parts[2], tzinfo=UTC)
    return datetime(1980, 1, 1, tzinfo=UTC)


def _read_chapters(
    project: Project,
    book_dir: Path,
    listed: Any,
    lines: dict[str, int],
    shown: Path,
    problems: list[Diagnostic],
) -> list[ChapterSource]:
    line = lines.get("chapters", 1)
    if listed is None:
        problems.append(Diagnostic(shown, "missing required key 'chapters'", line))
        return []
    if not isinstance(listed, list) or not listed:
        problems.append(Diagnostic(shown, "'chapters' must be a non-empty list of files", line))
        return []
    chapters = []
    seen: set[str] = set()
    for entry in listed:
        if not isinstance(entry, str) or not entry.strip():
            problems.append(Diagnostic(shown, f"chapter entry {entry!r} is not a file name", line))
            continue
        if entry in seen:
            problems.append(Diagnostic(shown, f"chapter {entry!r} is listed twice", line))
            continue
        seen.add(entry)
        path = _confined_path(book_dir, entry)
        if path is None:
            message = (
                f"chapter {entry!r} must be a relative path inside {project.display(book_dir)}/"
            )
            problems.append(Diagnostic(shown, message, line))
            continue
        chapter = _read_chapter(project, entry, path, shown, line, problems)
        if chapter is not None:
            chapters.append(chapter)
    return chapters


def _confined_path(base: Path, entry: str) -> Path | None:
    """`base/entry` if it stays inside `base` once symlinks are resolved, else None."""
    relative = PurePosixPath(entry.replace("\\", "/"))
    if relative.is_absolute() or ".." in relative.parts or re.match(r"^[A-Za-z]:", entry):
        return None
    candidate = base / relative
    if not candidate.resolve().is_relative_to(base.resolve()):
        return None
    return candidate


def _read_chapter(
    project: Project, entry: str, path: Path, shown: Path, line: int, problems: list[Diagnostic]
) -> ChapterSource | None:
    display = project.display(path)
    if not path.is_file():
        problems.append(Diagnostic(shown, f"missing chapter file {display}", line))
        return None
    try:
        data = path.read_bytes()
    except OSError as exc:
        problems.append(Diagnostic(display, f"cannot read ({exc.strerror})"))
        return None
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        bad_line = data.count(b"\n", 0, exc.start) + 1
        hint = " (looks like UTF-16)" if data[:2] in (b"\xff\xfe", b"\xfe\xff") else ""
        problems.append(Diagnostic(display, f"not UTF-8{hint}: save the file as UTF-8", bad_line))
        return None
    text = text.removeprefix("\ufeff")
    if control := NOT_XML.search(text):
        line = text.count("\n", 0, control.start()) + 1
        message = f"control character U+{ord(control.group()):04X} cannot appear in a book"
        problems.append(Diagnostic(display, message, line))
        return None
    if not text.strip():
        problems.append(Diagnostic(display, "chapter file is empty: start it with '# Title'"))
        return None
    return ChapterSource(entry, path, display, text)
