"""Build books, then rebuild each one whose inputs change, until told to stop.

Starting Python and the pipeline's libraries costs about a quarter second per command; a
resident process pays it once. Changes are found by polling the stat of the files that
`api.watched_inputs` names: no dependency, and a poll of a few dozen files costs a fraction
of a millisecond. The output stamps and the chapter cache keep each rebuild to what changed.

Polling only ever stats a file, never opens it: opening a FIFO put in a file's place would
block the watch until something wrote to it. What a rebuild reads is the load stage's to
refuse.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from ebook_builder import api
from ebook_builder.cache.keys import input_files
from ebook_builder.errors import Diagnostic, EbookError
from ebook_builder.load import Project

DEFAULT_INTERVAL = 0.1
# How long the files must stay the same after a change before it is built: editors save in
# several writes, a few milliseconds apart. Shorter than a poll, since it is paid per save.
SETTLE = 0.05

# Each book's input files, as their `Stat` by path in each place `api.watched_inputs` names.
Stat = tuple[int, int, int, int]
Snapshot = dict[str, list[dict[Path, Stat]]]


@dataclass(frozen=True)
class BuildResult:
    """One book's build: the files it wrote and the time it took, or the error that stopped it,
    and the warnings of its conversion either way."""

    book_id: str
    seconds: float
    written: list[Path] = field(default_factory=list)
    error: EbookError | None = None
    warnings: list[Diagnostic] = field(default_factory=list)


def watch(
    root: Path,
    book_ids: list[str] | None,
    formats: list[str] | None,
    out: Path | None,
    on_result: Callable[[BuildResult], None],
    stop: threading.Event,
    interval: float = DEFAULT_INTERVAL,
    settle: float = SETTLE,
) -> None:
    """Build the books, then rebuild each book whose inputs change, until `stop` is set.

    An unknown book id or format raises at once, as `api.build` does. A failed build is
    reported and the watch goes on: the next change is built again, and the earlier outputs
    stay as they were. A change is built once the files have stayed the same for `settle`
    seconds.
    """
    api.watched_inputs(root, book_ids)
    api.parse_formats(formats)
    outputs = (out if out is not None else root / api.DEFAULT_OUT).resolve()
    built = _snapshot(root, book_ids, outputs)
    _build(root, list(built), formats, out, on_result)
    while not stop.wait(interval):
        current = _snapshot(root, book_ids, outputs)
        if current == built:
            continue
        while not stop.wait(settle):
            latest, current = current, _snapshot(root, book_ids, outputs)
            if current == latest:
                break
        else:
            return
        changed = [book_id for book_id, files in current.items() if files != built.get(book_id)]
        built = current
        _build(root, changed, formats, out, on_result)


def _snapshot(root: Path, book_ids: list[str] | None, outputs: Path) -> Snapshot:
    """Each book's input files with their stat, to compare with the next poll's.

    Files in the output folder `outputs` are left out, wherever it lies (`--out` inside a
    book's folder, or `covers/`, whose `<id>.*` matches `<id>.epub`): else each build
    would be a change, and the watch would rebuild on its own outputs and temporaries.

    Every book's inputs include all metadata files (identifiers must differ between books),
    so a change to one rebuilds every book; each folder is read once per poll all the same.
    Without ids, the books are those that have metadata now: a book added while watching is
    built and watched too.
    """
    inputs = {book_id: _inputs(root, book_id) for book_id in book_ids or Project(root).book_ids()}
    stats = {
        (folder, pattern): {
            path: _stat(path)
            for path in input_files(folder, pattern)
            if not path.resolve().is_relative_to(outputs)
        }
        for watched in inputs.values()
        for folder, pattern in watched
    }
    return {book_id: [stats[place] for place in watched] for book_id, watched in inputs.items()}


def _stat(path: Path) -> Stat:
    """What a save changes, and what `chmod` changes (the mode, and the ctime, which no
    tool can set back): a file made unreadable is a change, whose build says so. A file
    removed since it was listed counts as changed."""
    try:
        info = path.stat()
    except OSError:
        return (-1, -1, -1, -1)
    return (info.st_size, info.st_mtime_ns, info.st_mode, info.st_ctime_ns)


def _inputs(root: Path, book_id: str) -> list[tuple[Path, str]]:
    """Where a book's inputs lie; nowhere once its metadata file is gone (its build says so)."""
    try:
        return api.watched_inputs(root, [book_id])
    except EbookError:
        return []


def _build(
    root: Path,
    book_ids: list[str],
    formats: list[str] | None,
    out: Path | None,
    on_result: Callable[[BuildResult], None],
) -> None:
    """Build each book on its own, so that one book's problems hold back no other book."""
    for book_id in book_ids:
        on_result(build_book(root, book_id, formats, out))


def build_book(
    root: Path, book_id: str, formats: list[str] | None, out: Path | None
) -> BuildResult:
    """One book's build as a result, whatever happens: a watch reports it and goes on.

    A failure that is not the book's (a bug of ours) is reported as an internal error, as
    the CLI reports one, and the watch goes on: the next change may build.
    """
    start = time.perf_counter()
    warnings: list[Diagnostic] = []
    try:
        written = api.build(root, [book_id], formats, out, warn=warnings.append)
    except EbookError as exc:
        error = exc
    except Exception as exc:  # reported: one bad build must not end the watch
        error = EbookError(f"internal error: {repr(exc)[:200]} (a bug; ebook build shows where)")
    else:
        return BuildResult(book_id, time.perf_counter() - start, written, warnings=warnings)
    return BuildResult(book_id, time.perf_counter() - start, error=error, warnings=warnings)
