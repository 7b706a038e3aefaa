"""What the CLI and Python callers use: `check`, `build`, `check_stores`, `new_book`.

Each call runs the stages in order (load -> convert -> validate -> write) and raises an
`EbookError` carrying every problem; nothing is written unless every requested book is
free of problems and every writer succeeds.
"""

from __future__ import annotations

import gc
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import yaml

from ebook_builder.cache.chapters import NO_CACHE, ChapterCache
from ebook_builder.cache.keys import cache_key, file_hash, input_files, package_fingerprint
from ebook_builder.cache.stamps import OutputStamp
from ebook_builder.convert import convert_book
from ebook_builder.cores import usable_cores
from ebook_builder.cover import render_cover
from ebook_builder.errors import BuildFailed, Diagnostic, EbookError, OutputError, UsageError
from ebook_builder.formats import FORMATS, OutputFormat
from ebook_builder.load import (
    BOOK_ID,
    Project,
    book_identifier,
    load_book,
    select_books,
    source_date_epoch,
)
from ebook_builder.model import Book, ConvertedBook
from ebook_builder.output import StagedOutputs, atomic_output, staged_outputs
from ebook_builder.pandoc import pandoc_fingerprint
from ebook_builder.validate import validate_book

if TYPE_CHECKING:
    from ebook_builder.checks.stores import StoreCheck

Progress = Callable[[str], None]
# Receives each warning: what a book loses in conversion, at its chapter's line. Warnings
# never stop a build; the CLI prints them as `warning: file:line: message`.
Warn = Callable[[Diagnostic], None]
DEFAULT_OUT = "dist"
CACHE_DIR = ".cache"


def _quiet(_: str | Diagnostic) -> None:
    """The default progress and warning callback: say nothing."""


@contextmanager
def _collecting_rarely() -> Iterator[None]:
    """Run the cycle collector after every 50,000 new objects instead of 700 meanwhile.

    A long book makes millions of short-lived objects while it is converted and written,
    and each time the collector looks at all of them: with Python's setting, a book of
    100,000 sections spent 10 of its 37 seconds of processor time collecting.
    """
    thresholds = gc.get_threshold()
    gc.set_threshold(50_000, *thresholds[1:])
    try:
        yield
    finally:
        gc.set_threshold(*thresholds)


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


def prepare(book: Book, cache: ChapterCache = NO_CACHE, warn: Warn = _quiet) -> ConvertedBook:
    """Convert and validate a loaded book; its warnings go to `warn` before validation,
    so that a book with problems shows them too."""
    chapters = convert_book(book, cache)
    for chapter in chapters:
        for warning in chapter.warnings:
            warn(warning)
    return validate_book(book, chapters)


def chapter_cache(root: Path, use_cache: bool) -> ChapterCache:
    """The project's cache of converted chapters (`.cache/chapters/`), or none."""
    return ChapterCache(root / CACHE_DIR / "chapters" if use_cache else None)


def check(
    root: Path,
    book_ids: list[str] | None = None,
    progress: Progress = _quiet,
    use_cache: bool = True,
    warn: Warn = _quiet,
) -> list[ConvertedBook]:
    """Run every stage but packaging; raise with every problem of every book."""
    with _collecting_rarely():
        plans = _plan(root, book_ids, [], None, progress, use_cache, warn)
    return [plan.converted for plan in plans if plan.converted is not None]


def check_stores(
    root: Path,
    book_ids: list[str] | None,
    stores: list[str],
    out: Path | None = None,
    progress: Progress = _quiet,
) -> list[StoreCheck]:
    """Check each book's built `.epub` in `out` (default dist/) against the stores' rules.

    Reads only the built files, which are what a store is sent. Raises a usage error for
    an unknown store or a file not built; returns a row per book, store and rule otherwise.
    """
    from ebook_builder.checks.stores import built_epubs, check_books, parse_stores

    chosen = parse_stores(stores)
    project = Project(root)
    files = built_epubs(project, book_ids, out if out is not None else root / DEFAULT_OUT)
    return check_books(files, chosen, progress, project.display)


def build(
    root: Path,
    book_ids: list[str] | None = None,
    formats: list[str] | None = None,
    out: Path | None = None,
    progress: Progress = _quiet,
    use_cache: bool = True,
    warn: Warn = _quiet,
) -> list[Path]:
    """Write every requested format of every requested book; return the files written.

    The books converted (those with an output to write) send their warnings to `warn`.

    All or nothing: the files are renamed into place only once every writer has succeeded
    (`output.staged_outputs`), so a failure or Ctrl-C leaves every earlier file as it was.

    With the cache, an output whose sources, options and tool versions are unchanged since
    it was written (and that nobody changed since) is left as it is.
    """
    chosen = parse_formats(formats)
    out_dir = out if out is not None else root / DEFAULT_OUT
    with _collecting_rarely():
        plans = _plan(root, book_ids, chosen, out_dir, progress, use_cache, warn)
        return _write_books(plans, out_dir, progress)


def _write_books(plans: list[BookPlan], out_dir: Path, progress: Progress) -> list[Path]:
    """Write every plan's pending formats; return every target of every plan."""
    jobs = [_Job(plan, *pending, out_dir) for plan in plans for pending in plan.pending]
    for job in jobs:
        progress(f"writing {job.target.name}")
    # A writer that runs a program (pandoc for the DOCX) spends its time waiting, which
    # frees the interpreter: it runs in a thread while this one writes the others. Leaving
    # the pool waits for every thread, so a failure is raised once all writers have ended,
    # and only then are the staged files renamed into place (or all removed).
    here = [job for job in jobs if not job.fmt.tools]
    beside = [job for job in jobs if job.fmt.tools]
    workers = max(1, usable_cores() - 1)
    with staged_outputs() as staged, ThreadPoolExecutor(workers) as pool:
        futures = [pool.submit(_write_all, [job], staged) for job in beside]
        companions = _write_all(here, staged)
        companions += [companion for future in futures for companion in future.result()]
    for job, companion in zip([*here, *beside], companions, strict=True):
        if companion is not None:
            job.plan.targets.append(companion)
    return list(dict.fromkeys(target for plan in plans for target in plan.targets))


@dataclass(frozen=True)
class _Job:
    plan: BookPlan
    fmt: OutputFormat
    target: Path
    stamp: OutputStamp
    out_dir: Path


def _write_all(jobs: list[_Job], staged: StagedOutputs) -> list[Path | None]:
    """Stage each job's output, its stamp and its companion file (whose path it gives)."""
    companions: list[Path | None] = []
    for job in jobs:
        converted = job.plan.converted
        assert converted is not None
        built = staged.path(job.target)
        companion = None
        try:
            job.fmt.write(converted, built)
            extra = job.fmt.companion_file(converted)
            if extra is not None:
                name, data = extra
                companion = job.out_dir / name
                staged.path(companion).write_bytes(data)
        except OSError as exc:
            raise OutputError(f"cannot write ({exc.strerror or exc})", path=job.target) from None
        job.stamp.record(built, staged)
        companions.append(companion)
    return companions


@dataclass
class BookPlan:
    """What a build does for one book: the formats still to write, and the book if needed."""

    targets: list[Path]
    pending: list[tuple[OutputFormat, Path, OutputStamp]]
    converted: ConvertedBook | None


def _plan(
    root: Path,
    book_ids: list[str] | None,
    formats: list[OutputFormat],
    out_dir: Path | None,
    progress: Progress,
    use_cache: bool,
    warn: Warn,
) -> list[BookPlan]:
    """Load every book, and convert and validate those with outputs to write.

    All books are checked before anything is written, and every problem of every book is
    raised at once.
    """
    project = Project(root)
    cache = chapter_cache(root, use_cache)
    plans, errors = [], []
    # The writers' modules are imported in a thread while pandoc converts: started once,
    # after the first book to write is loaded, so that pandoc never waits for imports.
    writers = threading.Thread(target=lambda: [fmt.warm_up() for fmt in formats])
    try:
        for book_id in select_books(project, book_ids):
            progress(f"checking {book_id}")
            try:
                plan = plan_book(project, book_id, formats, out_dir, use_cache)
                if plan.pending or not formats:
                    book = load_book(project, book_id)
                    if plan.pending and writers.ident is None:
                        writers.start()
                    plan.converted = prepare(book, cache, warn)
                plans.append(plan)
            except EbookError as exc:
                errors.append(exc)
    finally:
        if writers.ident is not None:
            writers.join()
    cache.prune()
    if errors:
        raise errors[0] if len(errors) == 1 else BuildFailed(errors)
    return plans


def plan_book(
    project: Project,
    book_id: str,
    formats: list[OutputFormat],
    out_dir: Path | None,
    use_cache: bool,
) -> BookPlan:
    """A book's outputs, and those of them not current (all of them without the cache)."""
    inputs = _inputs_key(project, book_id) if use_cache else None
    targets, pending = [], []
    for fmt in formats:
        assert out_dir is not None
        target = out_dir / f"{book_id}{fmt.suffix}"
        stamp = _output_stamp(project.root, book_id, fmt, target, inputs)
        targets.append(target)
        if not stamp.is_current(target):
            pending.append((fmt, target, stamp))
    return BookPlan(targets, pending, None)


def watched_inputs(root: Path, book_ids: list[str] | None = None) -> list[tuple[Path, str]]:
    """Where the inputs of the books lie, as (folder, glob pattern): what a build reads.

    That is all metadata files (identifiers must differ between books), every file in each
    book's folder and its cover.
    """
    project = Project(root)
    watched = [(project.metadata_dir, "*.yaml")]
    for book_id in select_books(project, book_ids):
        watched += [(project.book_root / book_id, "**/*"), (project.covers_dir, f"{book_id}.*")]
    return watched


def _inputs_key(project: Project, book_id: str) -> str | None:
    """A hash of every byte a book's outputs are made from, read raw: no parsing.

    That is the files of `watched_inputs`, SOURCE_DATE_EPOCH and the tools' versions. None
    when a file cannot be read: the load stage will say why.
    """
    watched = watched_inputs(project.root, [book_id])
    if any(_refused(project, folder, pattern) for folder, pattern in watched):
        return None
    files = [path for folder, pattern in watched for path in input_files(folder, pattern)]
    try:
        hashes = [f"{project.display(p)}\0{file_hash(p)}" for p in files]
    except OSError:
        return None
    epoch = source_date_epoch()
    return cache_key(package_fingerprint(), pandoc_fingerprint(), epoch, *hashes)


def _refused(project: Project, folder: Path, pattern: str) -> bool:
    """Whether a FIFO, device, broken link (or a folder but in a book's folder) matches.

    The load stage refuses to read such a thing where a source should be; a stamp, which
    hashes regular files only, must not vouch for outputs made before it appeared.
    """
    for path in folder.glob(pattern):
        if not path.is_file() and not (path.is_dir() and folder.parent == project.book_root):
            return True
    return False


def _output_stamp(
    root: Path, book_id: str, fmt: OutputFormat, target: Path, inputs: str | None
) -> OutputStamp:
    """The stamp of one output, keyed by its inputs, its format and where it is written."""
    if inputs is None:
        return OutputStamp(None, "")
    key = cache_key(inputs, fmt.name, str(target.resolve()))
    return OutputStamp(root / CACHE_DIR / "outputs" / f"{book_id}.{fmt.name}.stamp", key)


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
