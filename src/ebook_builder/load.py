"""Stage 1: read `book/`, `metadata/` and `covers/` into a `Book`.

Everything a book needs is checked here, and every problem of a book is reported at once
with the file and line it comes from. Nothing outside `book/<book-id>/` is read for a
chapter: absolute paths, `..` and symlinks that lead out are refused.
"""

from __future__ import annotations

import os
import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from functools import cached_property
from pathlib import Path, PurePosixPath
from typing import Any

import yaml

from ebook_builder import metadata_fields
from ebook_builder.cover import load_cover
from ebook_builder.errors import BookError, Diagnostic, EbookError, InputError, UsageError
from ebook_builder.metadata_fields import TEXT_LIMIT, kind
from ebook_builder.model import CONTENTS_DEPTH, DESIGNS, TOC_DEPTH, Book, ChapterSource, Metadata
from ebook_builder.sources import CHAPTER_LIMIT, METADATA_LIMIT, read_input, read_source, resolved

# BCP 47 in its common shape: a 2–3 letter language, then subtags (script, region, variant).
# Patterns end in \Z, not $: `$` also matches before a final newline, and "en\n" is no tag.
LANGUAGE_TAG = re.compile(r"\A[A-Za-z]{2,3}(-[A-Za-z0-9]{1,8})*\Z")
# libyaml's loader where PyYAML was built with it: the same safe subset, ten times faster.
SAFE_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
BOOK_ID = re.compile(r"\A[a-z0-9][a-z0-9-]*\Z")
# Characters XML 1.0 forbids: C0 controls but tab and newlines, and two non-characters.
NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
DATE = re.compile(r"\A\d{4}(-\d{2}(-\d{2})?)?\Z")
# The first year EPUB's `dcterms:modified` (CCYY-MM-DDThh:mm:ssZ) can carry.
EARLIEST_YEAR = 1000
TEXT_FIELDS = (
    "title",
    "subtitle",
    "publisher",
    "description",
    "page_source",
    "identifier",
    "rights",
    "edition",
    "dedication",
)
SHAPED_FIELDS = ("creators", "contributors", "series", "isbn")
KNOWN_FIELDS = {
    *TEXT_FIELDS,
    "toc_depth",
    "design",
    "cover_color",
    *SHAPED_FIELDS,
    "subjects",
    "chapters",
    "language",
    "date",
    "modified",
}


class MetadataLoader(SAFE_LOADER):  # type: ignore[misc,valid-type]
    """The safe loader, with dates and times left as the text they are written as.

    PyYAML turns `2017-02-30` into a date itself and fails inside its own code; as text,
    each value is checked here and a wrong one named with its key and line.
    """


MetadataLoader.add_constructor("tag:yaml.org,2002:timestamp", SAFE_LOADER.construct_yaml_str)


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
            path = self.metadata_dir / f"{book_id}.yaml"
            try:
                data, _ = read_metadata(self, path, self.display(path))
            except EbookError:
                continue
            if isinstance(claim := data.get("identifier"), str):
                claims[book_id] = claim.strip()
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


def chosen_book(project: Project, book_id: str | None, command: str) -> str:
    """The one book a command shows (`preview`, `proof`): the one named, or the project's
    only book, so that a project of one book needs no id."""
    if book_id is not None:
        return select_books(project, [book_id])[0]
    books = project.book_ids()
    if len(books) != 1:
        known = ", ".join(books) or "none in metadata/"
        raise UsageError(f"name the book to {command} (books: {known})")
    return books[0]


def load_book(project: Project, book_id: str) -> Book:
    """Read and check one book; raises `InputError` or `BookError` with every problem."""
    metadata_path = project.metadata_dir / f"{book_id}.yaml"
    shown = project.display(metadata_path)
    raw, lines = read_metadata(project, metadata_path, shown)
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


def read_metadata(
    project: Project, path: Path, shown: Path
) -> tuple[dict[str, Any], dict[str, int]]:
    """The metadata mapping and the line of each top-level key.

    Raises `InputError` for a file that cannot be read or parsed, `BookError` for one that
    is not a mapping, holds an alias, or a character no book may carry.
    """
    data = read_input(path, METADATA_LIMIT, shown, inside=project.root)
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InputError(f"not UTF-8 ({exc.reason} at byte {exc.start})", path=shown) from None
    loader = MetadataLoader(text)
    try:
        _refuse_aliases(text, shown)
        node = loader.get_single_node()
        data = loader.construct_document(node) if node is not None else None
    except yaml.MarkedYAMLError as exc:
        # At the end of the file the problem is where an unclosed bracket or quote began.
        mark = exc.problem_mark
        if mark is None or mark.line >= len(text.splitlines()):
            mark = exc.context_mark or mark
        line = mark.line + 1 if mark else None
        problem = f"malformed YAML: {exc.problem or exc.context}"
        raise InputError(problem, path=shown, line=line) from None
    except yaml.reader.ReaderError as exc:
        # A character YAML refuses as it is (escaped, "\x07", it is refused below).
        line = text.count("\n", 0, exc.position) + 1
        message = f"control character U+{exc.character:04X} cannot appear in a book"
        raise BookError(message, path=shown, line=line) from None
    except yaml.YAMLError as exc:
        raise InputError(f"malformed YAML: {exc}", path=shown) from None
    finally:
        loader.dispose()
    if not isinstance(data, dict) or not isinstance(node, yaml.MappingNode):
        raise BookError("metadata must be a mapping of keys such as 'title:'", path=shown, line=1)
    _refuse_control_characters(node, shown)
    return data, _value_lines(node)


def _value_lines(root: yaml.MappingNode) -> dict[str, int]:
    """The line of each key and list entry, by its dotted path (`contributors.2.role`).

    A problem with a nested value is reported at its own line, not at its top-level key's.
    """
    lines: dict[str, int] = {}
    pending: list[tuple[str, yaml.Node]] = [("", root)]
    while pending:
        path, node = pending.pop()
        if isinstance(node, yaml.MappingNode):
            for key, value in node.value:
                if isinstance(key, yaml.ScalarNode):
                    inner = f"{path}.{key.value}" if path else key.value
                    lines[inner] = key.start_mark.line + 1
                    pending.append((inner, value))
        elif isinstance(node, yaml.SequenceNode):
            for number, value in enumerate(node.value):
                inner = f"{path}.{number}"
                lines[inner] = value.start_mark.line + 1
                pending.append((inner, value))
    return lines


def _line(lines: dict[str, int], path: str) -> int:
    """The line of the value at `path`, else of the nearest value that holds it, else 1."""
    while path not in lines and "." in path:
        path = path.rpartition(".")[0]
    return lines.get(path, 1)


def _refuse_aliases(text: str, shown: Path) -> None:
    """Refuse YAML aliases (`*name`), which metadata never needs.

    Nine aliases of nine aliases ("billion laughs") are a billion values to any code that
    walks or prints them; PyYAML's safe loader expands them all the same.
    """
    for event in yaml.parse(text, Loader=MetadataLoader):
        if isinstance(event, yaml.AliasEvent):
            message = f"YAML aliases (*{event.anchor}) are not allowed in metadata"
            raise BookError(message, path=shown, line=event.start_mark.line + 1)


def _refuse_control_characters(root: yaml.Node, shown: Path) -> None:
    """Refuse a character XML forbids in any key or value, at its own line.

    Every text of the metadata ends up in XML (the package document, the DOCX's core
    properties), where one such character makes the whole file unreadable.
    """
    problems = []
    pending = [root]
    while pending:
        node = pending.pop()
        if isinstance(node, yaml.ScalarNode):
            if control := NOT_XML.search(node.value):
                message = f"control character U+{ord(control.group()):04X} cannot appear in a book"
                problems.append(Diagnostic(shown, message, node.start_mark.line + 1))
        elif isinstance(node, yaml.SequenceNode):
            pending.extend(reversed(node.value))
        elif isinstance(node, yaml.MappingNode):
            pending.extend(part for pair in reversed(node.value) for part in reversed(pair))
    if problems:
        raise BookError(f"{shown}: the metadata has problems", problems)


def _parse_metadata(
    raw: dict[str, Any], lines: dict[str, int], shown: Path, problems: list[Diagnostic]
) -> Metadata | None:
    flagged: set[str] = set()

    def problem(where: str, message: str) -> None:
        """A problem of the value at `where`, a key or a dotted path (`series.position`)."""
        flagged.add(where.partition(".")[0])
        problems.append(Diagnostic(shown, message, _line(lines, where)))

    for key in sorted(set(map(str, raw)) - KNOWN_FIELDS):
        problem(key, f"unknown key {key!r}")
    text: dict[str, str | None] = {}
    for key in TEXT_FIELDS:
        value = raw.get(key)
        if value is not None and not isinstance(value, str):
            problem(key, f"'{key}' must be text, not {kind(value)}")
        elif isinstance(value, str) and len(value) > TEXT_LIMIT:
            problem(key, f"'{key}' is {len(value):,} characters long; at most {TEXT_LIMIT:,}")
            value = None
        text[key] = value.strip() or None if isinstance(value, str) else None
    subjects = _subjects(raw.get("subjects", []), lambda m: problem("subjects", m))
    creators = metadata_fields.creators(raw.get("creators"), problem)
    contributors = metadata_fields.contributors(raw.get("contributors"), problem)
    series = metadata_fields.series(raw.get("series"), problem)
    isbn = metadata_fields.isbns(raw.get("isbn"), problem)
    for key in ("title", "identifier"):
        if key not in flagged and text[key] is None:
            absent = raw.get(key) is None
            problem(key, f"missing required key '{key}'" if absent else f"'{key}' is empty")
    if "creators" not in flagged and not creators:
        problem("creators", "at least one creator is required under 'creators'")
    if "identifier" not in flagged and (text["identifier"] or "").lower().startswith("urn:isbn:"):
        metadata_fields.isbn(text["identifier"], "identifier", problem)
    language = raw.get("language")
    if language is None:
        problem("language", "missing required key 'language'")
    elif not isinstance(language, str) or not LANGUAGE_TAG.match(language):
        problem(
            "language", f"'language' must be a BCP 47 tag such as 'en' or 'fr-CA', not {language!r}"
        )
    toc_depth = raw.get("toc_depth", CONTENTS_DEPTH)
    if type(toc_depth) is not int or not 1 <= toc_depth <= TOC_DEPTH:
        problem("toc_depth", f"'toc_depth' must be a whole number from 1 to {TOC_DEPTH}")
    design = raw.get("design", DESIGNS[0])
    if design not in DESIGNS:
        problem("design", f"'design' must be one of: {', '.join(DESIGNS)}")
    cover_color = metadata_fields.cover_color(raw, problem)
    date = _date(raw.get("date"), lambda m: problem("date", m))
    modified = _modified(raw.get("modified"), date, lambda m: problem("modified", m))
    if problems:
        return None
    return Metadata(
        title=text["title"] or "",
        language=str(language),
        identifier=text["identifier"] or "",
        creators=creators,
        modified=modified,
        subtitle=text["subtitle"],
        publisher=text["publisher"],
        date=date,
        description=text["description"],
        subjects=subjects,
        page_source=text["page_source"],
        contributors=contributors,
        series=series,
        rights=text["rights"],
        edition=text["edition"],
        dedication=text["dedication"],
        isbn=isbn,
        toc_depth=toc_depth,
        design=design,
        cover_color=cover_color,
    )


def _subjects(value: Any, problem: Callable[[str], None]) -> tuple[str, ...]:
    """`subjects`: a list of headings (or one, written as text)."""
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
        problem("'subjects' must be a list of names")
        return ()
    if any(len(v) > TEXT_LIMIT for v in value):
        problem(f"a name under 'subjects' is longer than {TEXT_LIMIT:,} characters")
        return ()
    return tuple(v.strip() for v in value)


def source_date_epoch() -> str:
    """The reproducible-builds time (https://reproducible-builds.org/specs/source-date-epoch/),
    or "": it overrides every output's timestamp, so it shapes the outputs as the files do.
    """
    return os.environ.get("SOURCE_DATE_EPOCH", "")


def _date(value: Any, problem: Callable[[str], None]) -> str | None:
    """`date` as written, once it is a day, month or year of the calendar (not 2017-02-30)."""
    if value is None:
        return None
    if isinstance(value, int) and not isinstance(value, bool):
        value = str(value)  # `date: 2017` unquoted is a number to YAML
    if not isinstance(value, str) or not DATE.match(value):
        shown = repr(value) if isinstance(value, str) else kind(value)
        problem(f"'date' must be YYYY, YYYY-MM or YYYY-MM-DD, not {shown}")
        return None
    try:
        date.fromisoformat((value + "-01-01")[:10])
    except ValueError as exc:
        problem(f"'date' {value!r} is not a day of the calendar ({exc})")
        return None
    return value


def _modified(value: Any, written: str | None, problem: Callable[[str], None]) -> datetime:
    """The fixed timestamp of every output: SOURCE_DATE_EPOCH, else `modified`, else `date`.

    Reproducible builds need a time that comes from the sources, never the clock. A time
    with an offset is turned into UTC, as `dcterms:modified` records it. EPUB writes that
    time as CCYY-MM-DDThh:mm:ssZ, four digits of year: a `modified` before the year 1000 is
    refused, and a `date` before it (a work's date, not the edition's) stamps nothing.
    Years a zip entry cannot record (before 1980, after 2107) are the writers' to clamp.
    """
    epoch = source_date_epoch()
    if epoch.isdigit():
        try:
            return datetime.fromtimestamp(int(epoch), UTC)
        except (OverflowError, OSError, ValueError):
            raise UsageError(f"SOURCE_DATE_EPOCH={epoch[:20]} is beyond any date") from None
    if value is not None:
        try:
            when = datetime.fromisoformat(value if isinstance(value, str) else "")
            when = when.astimezone(UTC) if when.tzinfo else when.replace(tzinfo=UTC)
        except (ValueError, OverflowError) as exc:
            why = f"{value!r} ({exc})" if isinstance(value, str) else kind(value)
            problem(f"'modified' must be an ISO 8601 date and time, not {why}")
        else:
            if when.year >= EARLIEST_YEAR:
                return when
            problem(f"'modified' must be a time from the year {EARLIEST_YEAR} on, not {value!r}")
    if written and int(written[:4]) >= EARLIEST_YEAR:
        return datetime.combine(date.fromisoformat((written + "-01-01")[:10]), time(), UTC)
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
        try:
            path = _confined_path(book_dir, entry)
        except OSError as exc:
            message = f"cannot read chapter {entry!r} ({exc.strerror})"
            problems.append(Diagnostic(shown, message, line))
            continue
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
    if not resolved(candidate).is_relative_to(base.resolve()):
        return None
    return candidate


def _read_chapter(
    project: Project, entry: str, path: Path, shown: Path, line: int, problems: list[Diagnostic]
) -> ChapterSource | None:
    display = project.display(path)
    try:
        data = read_source(path, CHAPTER_LIMIT)
    except FileNotFoundError:
        problems.append(Diagnostic(shown, f"missing chapter file {display}", line))
        return None
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
