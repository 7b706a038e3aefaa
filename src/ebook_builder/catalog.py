"""Catalog builds: many books at once on a Dask cluster, local or remote.

`api.build` works through the books one after another in one process, which leaves a
publisher's catalog of hundreds of books waiting on one or two cores. Here each book is one
Dask task: the client plans the book as `api.build` does (an up-to-date book gets no task
at all), loads it (so that a book with problems fails here, with the plain build's lines,
and without a worker), and sends its source files and the chapter-cache entries its
conversion looks up. The worker writes the files into a temporary folder, runs the plain
build there and returns each output's bytes and the cache entries it made; it needs no
shared disk and no project files, only ebook-builder installed. The client writes each
book's outputs (and their stamps) as they arrive, all or nothing per book, so that a book
with problems stops no other and a finished book is kept when the build is interrupted.

Dask reruns a task whose worker died on another worker (up to the scheduler's
`allowed-failures`, 3 by default); a task's outputs only ever reach `--out` whole.

`distributed` is imported only here, and only when a catalog build runs: its import costs
about a third of a second that a plain `ebook build` does not pay.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from ebook_builder import __version__, api
from ebook_builder.cache.keys import input_files
from ebook_builder.convert import cache_keys
from ebook_builder.errors import Diagnostic, EbookError, ExitCode, UsageError
from ebook_builder.load import Project, load_book, select_books, source_date_epoch
from ebook_builder.output import staged_outputs

if TYPE_CHECKING:
    from distributed import Client

INSTALL_HINT = "pip install 'ebook-builder[cluster]'"
# Where a worker writes a book's sources and outputs, inside its temporary folder.
WORKER_PROJECT = "project"
WORKER_OUT = "out"


@dataclass
class BookOutcome:
    """What a catalog build did for one book: the files in `--out`, or its problems."""

    book_id: str
    written: list[Path] = field(default_factory=list)
    problems: list[Diagnostic] = field(default_factory=list)
    exit_code: ExitCode = ExitCode.OK

    @property
    def failed(self) -> bool:
        return self.exit_code != ExitCode.OK


@dataclass(frozen=True)
class Tally:
    """How far a catalog build is: books finished, failed and on a worker, of `total`."""

    total: int
    done: int = 0
    failed: int = 0
    running: int = 0

    def __str__(self) -> str:
        return f"books: {self.done} done, {self.failed} failed, {self.running} running"


@dataclass(frozen=True)
class WorkerBuild:
    """What a worker sends back for one book: output bytes by file name, or problems."""

    outputs: dict[str, bytes]
    made_entries: dict[str, str]
    warnings: list[Diagnostic]
    problems: list[Diagnostic]
    exit_code: ExitCode


def cluster_client(workers: str | None, scheduler: str | None) -> Client:
    """A client of the cluster at `scheduler`, or of a new local cluster of `workers`
    processes (`auto`: one per core), each running one book at a time.

    One thread per worker: pandoc and the writers already use several cores for one book,
    and a process per book keeps one book's memory from another's.
    """
    try:
        from distributed import Client
    except ImportError:
        raise UsageError(f"catalog builds need Dask: {INSTALL_HINT}") from None
    if scheduler:
        try:
            return Client(scheduler, timeout=10)
        except OSError as exc:
            raise UsageError(f"cannot reach the Dask scheduler at {scheduler} ({exc})") from None
    count = (os.cpu_count() or 1) if workers == "auto" else _worker_count(workers)
    # A client given no address starts its own local cluster, and closes it when it closes.
    # Its scheduler serves HTTP (health checks) even without a dashboard: on any free port,
    # so that two builds at once neither clash nor warn about port 8787.
    return Client(n_workers=count, threads_per_worker=1, processes=True, dashboard_address=":0")


def _worker_count(workers: str | None) -> int:
    if workers is not None and workers.isdigit() and int(workers) > 0:
        return int(workers)
    raise UsageError(f"--workers must be a number of processes or 'auto', not {workers!r}")


def build(
    client: Client,
    root: Path,
    book_ids: list[str] | None = None,
    formats: list[str] | None = None,
    out: Path | None = None,
    progress: Callable[[Tally], None] = lambda _: None,
    use_cache: bool = True,
    warn: api.Warn = lambda _: None,
) -> list[BookOutcome]:
    """Build every requested book on the cluster of `client`; one outcome per book.

    Writes what `api.build` writes, byte for byte, but book by book: a book with problems
    is reported in its outcome and the others are still written. Ctrl-C cancels the tasks
    not finished and leaves every file written as it was.
    """
    from distributed import as_completed

    chosen = api.parse_formats(formats)
    out_dir = out if out is not None else root / api.DEFAULT_OUT
    project = Project(root)
    cache = api.chapter_cache(root, use_cache)
    book_list = select_books(project, book_ids)
    outcomes = {book_id: BookOutcome(book_id) for book_id in book_list}
    tasks = {}
    plans: dict[str, api.BookPlan] = {}
    tally = Tally(len(book_list))
    threads = sum(client.nthreads().values())

    def report(finished: BookOutcome | None = None) -> None:
        nonlocal tally
        if finished is not None:
            failed = tally.failed + finished.failed
            tally = Tally(tally.total, tally.done + (not finished.failed), failed, 0)
        left = len(tasks) - sum(future.done() for future in tasks.values())
        tally = Tally(tally.total, tally.done, tally.failed, min(left, threads))
        progress(tally)

    try:
        for book_id in book_list:
            outcome = outcomes[book_id]
            try:
                plan = api.plan_book(project, book_id, chosen, out_dir, use_cache)
                if plan.pending:
                    book = load_book(project, book_id)
                    entries = {key: text for key in cache_keys(book) if (text := cache.get(key))}
                    sources = {
                        project.display(path).as_posix(): path.read_bytes()
                        for path in _book_files(project, book_id)
                    }
                    pending = [fmt.name for fmt, _, _ in plan.pending]
                    tasks[book_id] = client.submit(
                        build_on_worker,
                        book_id,
                        sources,
                        entries,
                        pending,
                        source_date_epoch(),
                        __version__,
                        pure=False,
                    )
                    plans[book_id] = plan
                    report()
                    continue
                outcome.written = plan.targets
            except EbookError as exc:
                outcome.problems = exc.all_diagnostics()
                outcome.exit_code = exc.exit_code
            except OSError as exc:
                outcome.problems = [Diagnostic(None, f"cannot read the book's files ({exc})")]
                outcome.exit_code = ExitCode.BAD_USAGE
            report(outcome)
        by_future = {future: book_id for book_id, future in tasks.items()}
        for future in as_completed(tasks.values()):
            book_id = by_future[future]
            outcome = outcomes[book_id]
            _receive(future, outcome, plans[book_id], out_dir, cache, warn)
            future.release()
            report(outcome)
    except BaseException:
        client.cancel(list(tasks.values()))
        raise
    return list(outcomes.values())


def _book_files(project: Project, book_id: str) -> list[Path]:
    """The files a worker needs to build `book_id`: those of `api.watched_inputs` but the
    other books' metadata, which only the identifier check reads, and the client ran it."""
    own = project.metadata_dir / f"{book_id}.yaml"
    return [
        path
        for folder, pattern in api.watched_inputs(project.root, [book_id])
        for path in input_files(folder, pattern)
        if path.parent != project.metadata_dir or path == own
    ]


def _receive(
    future: object,
    outcome: BookOutcome,
    plan: api.BookPlan,
    out_dir: Path,
    cache: api.ChapterCache,
    warn: api.Warn,
) -> None:
    """Write a finished task's outputs, with their stamps, all at once; or keep its problems."""
    try:
        result: WorkerBuild = future.result()  # type: ignore[attr-defined]
    except Exception as exc:  # the task raised, or its workers kept dying
        outcome.problems = [Diagnostic(None, f"the book's task failed on the cluster: {exc!r}")]
        outcome.exit_code = ExitCode.INTERNAL_ERROR
        return
    for warning in result.warnings:
        warn(warning)
    if result.problems:
        outcome.problems = result.problems
        outcome.exit_code = result.exit_code
        return
    for key, text in result.made_entries.items():
        cache.put(key, text)
    stamps = {target.name: stamp for _, target, stamp in plan.pending}
    try:
        with staged_outputs() as staged:
            for name, data in sorted(result.outputs.items()):
                target = out_dir / name
                built = staged.path(target)
                built.write_bytes(data)
                if name in stamps:
                    stamps[name].record(built, staged)
    except EbookError as exc:
        outcome.problems = exc.all_diagnostics()
        outcome.exit_code = exc.exit_code
        return
    except OSError as exc:
        outcome.problems = [Diagnostic(out_dir, f"cannot write ({exc.strerror or exc})")]
        outcome.exit_code = ExitCode.BAD_USAGE
        return
    outcome.written = list(dict.fromkeys([*plan.targets, *(out_dir / n for n in result.outputs)]))


def build_on_worker(
    book_id: str,
    sources: dict[str, bytes],
    entries: dict[str, str],
    formats: list[str],
    epoch: str,
    version: str,
) -> WorkerBuild:
    """Build one book from its files in a temporary project: the task a worker runs.

    The client's SOURCE_DATE_EPOCH is the build's, as it shapes the outputs; a worker of
    another ebook-builder version would write other bytes, so it refuses the book.
    """
    if version != __version__:
        message = f"the worker runs ebook-builder {__version__}, the client {version}"
        return WorkerBuild({}, {}, [], [Diagnostic(None, message)], ExitCode.BAD_USAGE)
    with tempfile.TemporaryDirectory(prefix="ebook-catalog-") as folder:
        root = Path(folder) / WORKER_PROJECT
        for name, data in sources.items():
            path = root / name
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(data)
        cache = api.chapter_cache(root, use_cache=True)
        for key, text in entries.items():
            cache.put(key, text)
        out = Path(folder) / WORKER_OUT
        warnings: list[Diagnostic] = []
        try:
            with _environment("SOURCE_DATE_EPOCH", epoch):
                api.build(root, [book_id], formats, out, warn=warnings.append)
        except EbookError as exc:
            return WorkerBuild({}, {}, warnings, exc.all_diagnostics(), exc.exit_code)
        outputs = {path.name: path.read_bytes() for path in sorted(out.iterdir())}
        assert cache.folder is not None
        made = {
            path.name: text
            for path in cache.folder.glob("??/*")
            if path.name not in entries and (text := cache.get(path.name)) is not None
        }
        return WorkerBuild(outputs, made, warnings, [], ExitCode.OK)


@contextmanager
def _environment(name: str, value: str) -> Iterator[None]:
    """Set (or, for "", unset) an environment variable for the block: one task a process."""
    before = os.environ.get(name)
    if value:
        os.environ[name] = value
    else:
        os.environ.pop(name, None)
    try:
        yield
    finally:
        if before is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = before
