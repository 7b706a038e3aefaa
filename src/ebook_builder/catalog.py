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

import logging
import os
import sys
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING

from ebook_builder import __version__, api
from ebook_builder.cache.chapters import ChapterCache
from ebook_builder.cache.keys import input_files
from ebook_builder.convert import cache_keys
from ebook_builder.cores import usable_cores
from ebook_builder.errors import Diagnostic, EbookError, ExitCode, UsageError
from ebook_builder.load import Project, load_book, select_books, source_date_epoch
from ebook_builder.output import staged_outputs
from ebook_builder.pandoc import PROCESSES_VARIABLE

if TYPE_CHECKING:
    from distributed import Client, Future

INSTALL_HINT = "pip install 'ebook-builder[cluster]'"
# A plain build keeps this many cores busy (pandoc converts a book's chapters in one
# process per core, the DOCX is written in a thread beside the other formats): on such a
# machine, a local cluster only adds its own start (`python bench/run.py --catalog`).
PLAIN_BUILD_CORES = 2
# On a machine of more cores, the fewest books to build that repay a local cluster's start
# (Dask's import, the worker processes and their imports): estimated from the processor
# time of a book built each way, not measured (the machines measured on had 2 cores).
CLUSTER_PAYS_FROM = 6
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


def connector(workers: str | None, scheduler: str | None) -> Callable[[], Client]:
    """How to reach the cluster: the scheduler at `scheduler`, or a new local cluster of
    `workers` processes (`auto`: one per core), each running one book at a time.

    The cluster is reached (and Dask imported) only when a book needs building. One thread
    per worker: pandoc and the writers already use several cores for one book, and a
    process per book keeps one book's memory from another's.
    """
    count = usable_cores() if workers == "auto" or scheduler else _worker_count(workers)

    def connect() -> Client:
        try:
            from distributed import Client
        except ImportError:
            raise UsageError(f"catalog builds need Dask: {INSTALL_HINT}") from None
        if scheduler:
            try:
                return Client(scheduler, timeout=10)
            except OSError as exc:
                message = f"cannot reach the Dask scheduler at {scheduler} ({exc})"
                raise UsageError(message) from None
        # A client given no address starts a local cluster, and closes it when it closes.
        # Its scheduler serves HTTP (health checks) even without a dashboard: on any free
        # port, so that two builds at once neither clash nor warn about port 8787. Workers'
        # warnings (a task cancelled by Ctrl-C) are Dask's business, not the user's. Each
        # worker runs its share of the cores' pandoc processes, or as many as the user's
        # EBOOK_PANDOC_PROCESSES says (1: a worker per core, as a cluster's are sized).
        share = os.environ.get(PROCESSES_VARIABLE) or max(1, usable_cores() // count)
        return Client(
            n_workers=count,
            threads_per_worker=1,
            processes=True,
            dashboard_address=":0",
            silence_logs=logging.ERROR,
            env={PROCESSES_VARIABLE: str(share)},
        )

    return connect


def cluster_pays_from(workers: str | None, scheduler: str | None) -> int:
    """How many books `--workers auto` needs to build before a local cluster pays, and
    none for a cluster asked for by its size or its scheduler (`build`'s `here_below`)."""
    if scheduler or workers != "auto":
        return 0
    return CLUSTER_PAYS_FROM if usable_cores() > PLAIN_BUILD_CORES else sys.maxsize


def _worker_count(workers: str | None) -> int:
    if workers is not None and workers.isdigit() and int(workers) > 0:
        return int(workers)
    raise UsageError(f"--workers must be a number of processes or 'auto', not {workers!r}")


def build(
    connect: Callable[[], Client] | None,
    root: Path,
    book_ids: list[str] | None = None,
    formats: list[str] | None = None,
    out: Path | None = None,
    *,
    here_below: int = 0,
    progress: Callable[[Tally], None] = lambda _: None,
    finished: Callable[[BookOutcome], None] = lambda _: None,
    use_cache: bool = True,
    warn: api.Warn = lambda _: None,
) -> list[BookOutcome]:
    """Build every requested book, each on the cluster `connect` reaches; an outcome a book.

    Writes what `api.build` writes, byte for byte, but book by book: a book with problems
    is reported in its outcome (and to `finished`, as each book is) and the others are
    still written. Ctrl-C cancels the tasks not finished and leaves every file written.

    No cluster is reached when every output is current, nor when fewer than `here_below`
    books need building (starting a cluster would cost more than it saves on them), nor
    without `connect`: the books are then built here, one after another, by `api.build`.
    """
    chosen = api.parse_formats(formats)
    out_dir = out if out is not None else root / api.DEFAULT_OUT
    project = Project(root)
    book_list = select_books(project, book_ids)
    books = _Books(len(book_list), progress, finished)
    plans: dict[str, api.BookPlan] = {}
    for book_id in book_list:
        plan = api.plan_book(project, book_id, chosen, out_dir, use_cache)
        if plan.pending:
            plans[book_id] = plan
        else:
            books.finish(BookOutcome(book_id, plan.targets))
    if connect is None or len(plans) < here_below:
        for book_id, plan in plans.items():
            books.start(book_id)
            pending = [fmt.name for fmt, _, _ in plan.pending]
            try:
                written = api.build(
                    root, [book_id], pending, out_dir, use_cache=use_cache, warn=warn
                )
            except EbookError as exc:
                books.finish(_failed(book_id, exc))
                continue
            books.finish(BookOutcome(book_id, list(dict.fromkeys([*plan.targets, *written]))))
    elif plans:
        with connect() as client:
            _build_on(client, project, plans, out_dir, books, use_cache, warn)
    return [books.outcomes[book_id] for book_id in book_list]


class _Books:
    """The outcomes of a catalog build so far, told to its callbacks as they come.

    A book started is running while fewer are started than `slots` (the cluster's
    threads), and waits on the scheduler otherwise.
    """

    def __init__(
        self,
        total: int,
        progress: Callable[[Tally], None],
        finished: Callable[[BookOutcome], None],
    ) -> None:
        self.tally = Tally(total)
        self.outcomes: dict[str, BookOutcome] = {}
        self.slots = 1
        self._started: set[str] = set()
        self._progress = progress
        self._finished = finished

    def start(self, book_id: str) -> None:
        self._started.add(book_id)
        self._tell()

    def finish(self, outcome: BookOutcome) -> None:
        self._started.discard(outcome.book_id)
        self.outcomes[outcome.book_id] = outcome
        self._finished(outcome)
        failed = self.tally.failed + outcome.failed
        self.tally = replace(self.tally, done=self.tally.done + (not outcome.failed), failed=failed)
        self._tell()

    def _tell(self) -> None:
        self.tally = replace(self.tally, running=min(len(self._started), self.slots))
        self._progress(self.tally)


def _failed(book_id: str, exc: EbookError | OSError) -> BookOutcome:
    if isinstance(exc, EbookError):
        return BookOutcome(book_id, [], exc.all_diagnostics(), exc.exit_code)
    message = f"cannot read the book's files ({exc.strerror or exc})"
    return BookOutcome(book_id, [], [Diagnostic(None, message)], ExitCode.BAD_USAGE)


def _build_on(
    client: Client,
    project: Project,
    plans: dict[str, api.BookPlan],
    out_dir: Path,
    books: _Books,
    use_cache: bool,
    warn: api.Warn,
) -> None:
    """Send the planned books to the cluster, and write their outputs as they come back.

    At most twice as many books as the cluster has threads are sent ahead: a task holds
    its book's files in the scheduler's memory until it runs, and a catalog's files need
    not all be there at once.
    """
    from distributed import as_completed

    cache = api.chapter_cache(project.root, use_cache)
    books.slots = sum(client.nthreads().values())
    waiting = iter(plans.items())
    tasks: dict[Future, str] = {}
    finished = as_completed()

    def send_more() -> None:
        while finished.count() < 2 * max(1, books.slots):
            book_id, plan = next(waiting, (None, None))
            if book_id is None or plan is None:
                return
            try:
                task = _task(project, book_id, plan, cache)
            except (EbookError, OSError) as exc:
                books.finish(_failed(book_id, exc))
                continue
            future = client.submit(build_on_worker, *task, pure=False)
            tasks[future] = book_id
            finished.add(future)
            books.start(book_id)

    try:
        send_more()
        for future in finished:
            book_id = tasks.pop(future)
            books.finish(_received(future, book_id, plans[book_id], out_dir, cache, warn))
            future.release()
            send_more()
    except BaseException:
        client.cancel(list(tasks))
        raise


def _task(
    project: Project, book_id: str, plan: api.BookPlan, cache: ChapterCache
) -> tuple[str, dict[str, bytes], dict[str, str], list[str], str, str]:
    """The arguments of `build_on_worker` for one book: what a worker without the project
    needs to build it as this machine would."""
    book = load_book(project, book_id)
    entries = {key: text for key in cache_keys(book) if (text := cache.get(key))}
    sources = {
        project.display(path).as_posix(): path.read_bytes()
        for path in _book_files(project, book_id)
    }
    pending = [fmt.name for fmt, _, _ in plan.pending]
    return book_id, sources, entries, pending, source_date_epoch(), __version__


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


def _received(
    future: Future,
    book_id: str,
    plan: api.BookPlan,
    out_dir: Path,
    cache: ChapterCache,
    warn: api.Warn,
) -> BookOutcome:
    """Write a finished task's outputs, with their stamps, all or nothing; or its problems."""
    from distributed import KilledWorker

    try:
        result: WorkerBuild = future.result()
    except KilledWorker as killed:  # the machines', not the book's nor ours: as unreachable
        message = (
            f"{book_id}: every worker that took the book died ({killed.allowed_failures} "
            "times): out of memory, or stopped; their logs say why"
        )
        return BookOutcome(book_id, [], [Diagnostic(None, message)], ExitCode.BAD_USAGE)
    except Exception as exc:  # the task raised: a bug of ours
        message = f"{book_id}: the book's task failed on the cluster: {exc!r}"
        return BookOutcome(book_id, [], [Diagnostic(None, message)], ExitCode.INTERNAL_ERROR)
    for warning in result.warnings:
        warn(warning)
    if result.problems:
        return BookOutcome(book_id, [], result.problems, result.exit_code)
    for key, text in result.made_entries.items():
        cache.put(key, text)
    stamps = {target.name: stamp for _, target, stamp in plan.pending}
    try:
        with staged_outputs() as staged:
            for name, data in sorted(result.outputs.items()):
                built = staged.path(out_dir / name)
                built.write_bytes(data)
                if name in stamps:
                    stamps[name].record(built, staged)
    except EbookError as exc:
        return _failed(book_id, exc)
    except OSError as exc:
        problem = Diagnostic(out_dir, f"cannot write ({exc.strerror or exc})")
        return BookOutcome(book_id, [], [problem], ExitCode.BAD_USAGE)
    written = [*plan.targets, *(out_dir / name for name in result.outputs)]
    return BookOutcome(book_id, list(dict.fromkeys(written)))


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
        made = {
            key: text
            for key in cache.stored_keys()
            if key not in entries and (text := cache.get(key)) is not None
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
