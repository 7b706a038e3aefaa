"""Benchmark: ebook-builder against the tools a user would otherwise pick.

Measured side by side in one run, each figure the median of `--runs` runs (default 5):
- a cold build of every format of each shipped book, against plain pandoc (the bundled
  binary) on the same concatenated Markdown, to EPUB and to DOCX, and against calibre's
  `ebook-convert` EPUB -> AZW3 where calibre is installed;
- the same for a book of about 100,000 words (the first book three times over), a novel's
  length, and `ebook import` of that book's EPUB against pandoc EPUB -> Markdown;
- a rebuild with nothing changed, and after one chapter changed, as a new command and in
  `ebook watch` (one resident process), and in `ebook preview` from the save to
  Chromium showing the edit (the first book);
- scaling: corpora made of the first book repeated 10× and 100× (100 and 1,000 chapters),
  time and peak memory against pandoc -> EPUB on the same input.

Prints a Markdown table and writes it to bench/RESULTS.md. Run from the project root:
`python bench/run.py` (add `--sizes 10` or `--runs 3` for a quicker look).

`python bench/run.py --catalog 100` measures catalog builds instead, into bench/CATALOG.md: a
generated catalog of 100 books of varied sizes, cold, every format, plain and on 1 and 2
local Dask workers (with each worker's peak memory) against pandoc and calibre book by
book, and the number of books from which a local cluster pays.
"""

from __future__ import annotations

import argparse
import compileall
import importlib.util
import json
import os
import platform
import queue
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path

import pypandoc
import yaml

REPO = Path(__file__).resolve().parents[1]
BOOKS = ("russian-revolution-1917", "revolutionary-heritage-1917")
FIRST = BOOKS[0]
NOVEL_TIMES = 4  # the first book's 31,000 words four times: a long novel, over 100,000 words


@dataclass
class Measure:
    """Median wall time (s) of a command over several runs, and its memory (MiB).

    `peak_mib` is the largest resident set of any one of its processes; `total_mib` (when
    sampled) the largest sum over all of its processes alive at once, read from /proc
    every 20 ms: pandoc runs beside the Python process. `cpu_seconds` is the median
    processor time (user + system) of the command and every process it waited for: on a
    machine of N cores, no schedule finishes in less than `cpu_seconds / N`.
    """

    seconds: float
    peak_mib: float
    total_mib: float | None = None
    cpu_seconds: float = 0.0


def run(
    command: list[str],
    cwd: Path,
    runs: int,
    before: Callable[[], None] | None = None,
    sample_memory: bool = False,
) -> Measure:
    """Run `command` `runs` times; `before()` (if given) runs untimed before each run."""
    times, peaks, totals, cpus = [], [], [], []
    for _ in range(runs):
        if before is not None:
            before()
        seconds, peak, total, cpu = run_once(command, cwd, sample_memory)
        times.append(seconds)
        peaks.append(peak)
        totals.append(total)
        cpus.append(cpu)
    return Measure(
        statistics.median(times),
        max(peaks),
        max(totals) if sample_memory else None,
        statistics.median(cpus),
    )


def side_by_side(
    commands: list[list[str]], cwd: Path, runs: int, before: Callable[[], None] | None = None
) -> list[Measure]:
    """Each command once per round, `runs` rounds: a slow spell of a shared machine then
    slows every contender alike, not only the one that happened to run during it.
    `before()` (if given) runs untimed at the start of each round."""
    times: list[list[float]] = [[] for _ in commands]
    peaks: list[list[float]] = [[] for _ in commands]
    cpus: list[list[float]] = [[] for _ in commands]
    for _ in range(runs):
        if before is not None:
            before()
        for command, spent, peak, used in zip(commands, times, peaks, cpus, strict=True):
            seconds, largest, _, cpu = run_once(command, cwd, False)
            spent.append(seconds)
            peak.append(largest)
            used.append(cpu)
    return [
        Measure(statistics.median(t), max(p), None, statistics.median(c))
        for t, p, c in zip(times, peaks, cpus, strict=True)
    ]


def run_once(
    command: list[str], cwd: Path, sample_memory: bool
) -> tuple[float, float, float, float]:
    """Seconds, the largest process's peak memory, the whole tree's peak (MiB) and the
    processor seconds of a run."""
    start = time.perf_counter()
    process = subprocess.Popen(command, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    total = 0
    while True:
        pid, status, usage = os.wait4(process.pid, os.WNOHANG if sample_memory else 0)
        if pid:
            break
        total = max(total, tree_rss_kib(process.pid))
        time.sleep(0.02)
    seconds = time.perf_counter() - start
    if os.waitstatus_to_exitcode(status) != 0:
        error = process.stderr.read().decode() if process.stderr else ""
        raise SystemExit(f"failed: {' '.join(command)}\n{error}")
    return seconds, usage.ru_maxrss / 1024, total / 1024, usage.ru_utime + usage.ru_stime


def tree_rss_kib(root: int) -> int:
    """The resident memory of process `root` and all its descendants, in KiB (Linux)."""
    parents = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                stat = Path(f"/proc/{entry}/stat").read_text()
            except OSError:
                continue
            parents[int(entry)] = int(stat.rsplit(")", 1)[1].split()[1])
    tree, grown = {root}, True
    while grown:
        grown = False
        for pid, parent in parents.items():
            if parent in tree and pid not in tree:
                tree.add(pid)
                grown = True
    total = 0
    for pid in tree:
        try:
            for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1])
        except OSError:
            continue
    return total


class Appender:
    """Changes one chapter before each run: a new sentence at its end."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.count = 0

    def __call__(self) -> None:
        self.count += 1
        with self.path.open("a", encoding="utf-8") as handle:
            handle.write(f"\nAn added sentence, number {self.count}.\n")


def timed(call: Callable[[], object], runs: int, before: Callable[[], None] | None = None) -> float:
    """Median seconds of `call()` in this process: the pipeline without interpreter start-up."""
    times = []
    for _ in range(runs):
        if before is not None:
            before()
        start = time.perf_counter()
        call()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def kindle_writer_seconds(root: Path, book_id: str, runs: int) -> float:
    """Our AZW3 writer on an already converted book: the part calibre's conversion replaces."""
    from ebook_builder import api
    from ebook_builder.formats.kindle import render_azw3

    (converted,) = api.check(root, [book_id])
    # A new book object each run: the KF8 text is kept per book object (`once_per_book`).
    return timed(lambda: render_azw3(replace(converted)), runs)


def library_rows(root: Path, book_id: str, out: Path, runs: int, chapter: Path) -> list[str]:
    """The same builds as a Python caller makes them, through `ebook_builder.api`."""
    from ebook_builder import api

    cold = timed(lambda: api.build(root, [book_id], out=out, use_cache=False), runs)
    warm = timed(lambda: api.build(root, [book_id], out=out), runs)
    one = timed(lambda: api.build(root, [book_id], out=out), runs, before=Appender(chapter))
    name = f"{book_id} (library call, no interpreter start-up)"
    return [
        f"| {name}: cold build | {cold:.2f} s | | |",
        f"| {name}: rebuild, nothing changed | {warm:.3f} s | cold {cold:.2f} s "
        f"| {warm / cold:.1%} |",
        f"| {name}: rebuild, one chapter changed | {one:.2f} s | cold {cold:.2f} s "
        f"| {one / cold:.1%} |",
    ]


def watch_rows(
    root: Path, book_id: str, out: Path, runs: int, chapter: Path, cold: float
) -> list[str]:
    """Rebuilds in `ebook watch`: from the save to the last file written, and the build alone.

    The watcher polls every 0.1 s and builds once the files have stayed the same for 0.05 s,
    so a save waits 0.05 to 0.15 s before its build starts.
    """
    from ebook_builder.watch import watch

    results: queue.Queue = queue.Queue()
    stop = threading.Event()
    watcher = threading.Thread(target=watch, args=(root, [book_id], None, out, results.put, stop))
    watcher.start()
    try:
        results.get(timeout=600)  # the first build: the EPUB
        results.get(timeout=600)  # and the other formats
        change = Appender(chapter)
        latencies, builds = [], []
        for _ in range(runs):
            time.sleep(0.25)
            saved = time.perf_counter()
            change()
            result = results.get(timeout=600)
            latencies.append(time.perf_counter() - saved)
            builds.append(result.seconds)
    finally:
        stop.set()
        watcher.join()
    latency, build = statistics.median(latencies), statistics.median(builds)
    name = f"{book_id}: rebuild, one chapter changed, in `ebook watch`"
    return [
        f"| {name} (save → last file written) | {latency:.2f} s | cold {cold:.2f} s "
        f"| {latency / cold:.1%} |",
        f"| {name} (the rebuild alone) | {build:.2f} s | cold {cold:.2f} s | {build / cold:.1%} |",
    ]


def preview_row(root: Path, book_id: str, runs: int, chapter: Path) -> str:
    """`ebook preview` in Debian's Chromium: from saving a one-sentence edit to the reader
    showing the new sentence (the rebuild, the event, the book reopened at the same place)."""
    sys.path.insert(0, str(REPO))
    from ebook_builder.browser import chromium
    from ebook_builder.preview import preview
    from tests.browser import shown_text

    urls: queue.Queue = queue.Queue()
    results: queue.Queue = queue.Queue()
    stop = threading.Event()
    args = (root, book_id, 0, urls.put, results.put, stop)
    server = threading.Thread(target=preview, args=args)
    server.start()
    latencies = []
    try:
        url = urls.get(timeout=60)
        results.get(timeout=600)  # the first build: the EPUB
        results.get(timeout=600)  # and the other formats
        with chromium() as browser:
            page = browser.new_page()
            page.goto(url)
            change = Appender(chapter)
            for _ in range(runs):
                page.wait_for_timeout(500)
                saved = time.perf_counter()
                change()
                sentence = f"An added sentence, number {change.count}."
                while sentence not in shown_text(page):
                    page.wait_for_timeout(10)
                latencies.append(time.perf_counter() - saved)
                results.get(timeout=60)  # the EPUB
                results.get(timeout=60)  # the other formats
    finally:
        stop.set()
        server.join()
    latency = statistics.median(latencies)
    return (
        f"| {book_id}: `ebook preview`, save a one-sentence edit → Chromium shows it "
        f"| {latency:.2f} s | target 0.50 s | {latency / 0.5:.0%} of the target |"
    )


def import_row(epub: Path, words: int, tmp: Path, runs: int) -> str:
    """`ebook import` of a novel's EPUB into a fresh project, against pandoc alone
    converting the same EPUB to Markdown with its pictures.

    Ours is all the user waits for: pandoc's reading, the clean-up of its tree, the
    Markdown, the files written and the `ebook check` that ends every import.
    """
    project, media = tmp / "imported", tmp / "media"

    def fresh() -> None:
        for folder in (project, media):
            shutil.rmtree(folder, ignore_errors=True)
        project.mkdir()

    ours, theirs = side_by_side(
        [
            ebook("import", str(epub), "--book-id", "novel", "-C", str(project)),
            [
                pypandoc.get_pandoc_path(),
                *("-f", "epub", "-t", "markdown", "-o", str(tmp / "imported.md")),
                f"--extract-media={media}",
                str(epub),
            ],
        ],
        tmp,
        runs,
        before=fresh,
    )
    return (
        f"| a {words:,}-word EPUB (our build of it): `ebook import` into a new project, "
        f"check included, vs pandoc EPUB → Markdown | {ours.seconds:.2f} s "
        f"| {theirs.seconds:.2f} s | {ratio(ours.seconds, theirs.seconds)} |"
    )


def ebook(*args: str) -> list[str]:
    return [sys.executable, "-m", "ebook_builder", *args]


def formats() -> list[str]:
    from ebook_builder.formats import FORMATS

    return list(FORMATS)


def chapter_paths(root: Path, book_id: str) -> list[Path]:
    meta = yaml.safe_load((root / "metadata" / f"{book_id}.yaml").read_text())
    return [root / "book" / book_id / name for name in meta["chapters"]]


def pandoc(root: Path, book_id: str, target: Path) -> list[str]:
    """Plain pandoc on the book's chapters, as a user without ebook-builder would run it."""
    meta = yaml.safe_load((root / "metadata" / f"{book_id}.yaml").read_text())
    return [
        pypandoc.get_pandoc_path(),
        "--metadata",
        f"title={meta['title']}",
        "-o",
        str(target),
        *map(str, chapter_paths(root, book_id)),
    ]


def make_corpus(root: Path, times: int) -> str:
    """A book of the first book's chapters repeated `times` times, in a copy of the project."""
    book_id = f"corpus-{times}x"
    sources = chapter_paths(REPO, FIRST)
    folder = root / "book" / book_id
    folder.mkdir(parents=True)
    names = []
    for copy in range(times):
        for source in sources:
            name = f"{copy:04d}-{source.name}"
            shutil.copy(source, folder / name)
            names.append(name)
    meta = yaml.safe_load((REPO / "metadata" / f"{FIRST}.yaml").read_text())
    meta.update(
        title=f"{meta['title']} ({times}×)",
        identifier=f"urn:uuid:00000000-0000-4000-8000-{times:012d}",
        chapters=names,
    )
    (root / "metadata" / f"{book_id}.yaml").write_text(yaml.safe_dump(meta, allow_unicode=True))
    shutil.copy(REPO / "covers" / f"{FIRST}.jpg", root / "covers" / f"{book_id}.jpg")
    return book_id


def make_catalog(root: Path, count: int, size: int | None = None) -> list[str]:
    """`count` books in a new project at `root`, each of `size` chapters (by default 1 to
    20, five books of each size) taken in turn from the shipped pamphlets' 14, each with
    its own title, identifier and a copy of the first book's cover."""
    pool = [path for book_id in BOOKS for path in chapter_paths(REPO, book_id)]
    meta = yaml.safe_load((REPO / "metadata" / f"{FIRST}.yaml").read_text())
    for folder in ("book", "metadata", "covers"):
        (root / folder).mkdir(parents=True, exist_ok=True)
    book_ids = []
    for number in range(count):
        book_id = f"catalog-{number:03d}"
        folder = root / "book" / book_id
        folder.mkdir()
        names = []
        for index in range(size or 1 + number * 7 % 20):
            source = pool[(number + index) % len(pool)]
            names.append(f"{index:02d}-{source.name}")
            shutil.copy(source, folder / names[-1])
        meta.update(
            title=f"Catalog book {number}",
            identifier=f"urn:uuid:00000000-0000-4000-8001-{number:012d}",
            chapters=names,
        )
        (root / "metadata" / f"{book_id}.yaml").write_text(yaml.safe_dump(meta))
        shutil.copy(REPO / "covers" / f"{FIRST}.jpg", root / "covers" / f"{book_id}.jpg")
        book_ids.append(book_id)
    return book_ids


def catalog_run(
    command: list[str], cwd: Path, nannies: list[int] | None = None
) -> tuple[float, float, list[float]]:
    """Seconds and processor seconds of a catalog build, and each worker's peak memory
    (MiB): the worker process with the pandoc processes it runs, sampled every 100 ms (less
    often than `run_once`: the build is long, and each look at /proc takes processor time
    from it). The workers are the processes that `nannies` spawned, or else those that the
    build spawned (its local cluster's)."""
    start = time.perf_counter()
    process = subprocess.Popen(command, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    peaks: dict[int, int] = {}
    while True:
        pid, status, usage = os.wait4(process.pid, os.WNOHANG)
        if pid:
            break
        for worker in (w for parent in nannies or [process.pid] for w in _children(parent)):
            peaks[worker] = max(peaks.get(worker, 0), tree_rss_kib(worker))
        time.sleep(0.1)
    seconds = time.perf_counter() - start
    if os.waitstatus_to_exitcode(status) != 0:
        error = process.stderr.read().decode() if process.stderr else ""
        raise SystemExit(f"failed: {' '.join(command)}\n{error}")
    return seconds, usage.ru_utime + usage.ru_stime, [kib / 1024 for kib in peaks.values()]


def _children(pid: int) -> list[int]:
    """The Dask worker processes a local cluster started: `pid`'s spawned children."""
    found = []
    for entry in os.listdir("/proc"):
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
            command = Path(f"/proc/{entry}/cmdline").read_bytes()
        except OSError:
            continue
        if int(stat.rsplit(")", 1)[1].split()[1]) == pid and b"spawn_main" in command:
            found.append(int(entry))
    return found


def one_core_cluster_run(root: Path, workers: int, out: Path) -> tuple[float, float, list[float]]:
    """`catalog_run` of a build through `--scheduler` on a standing cluster: a `dask
    scheduler` and `workers` `dask worker` commands as the README starts them, each confined
    to a core of its own, as machines of one core each would be. Timed once every worker has
    joined (a cluster is started once, for many builds); the processor time counts the
    workers' and their pandocs' too, since they are not the build's children."""
    dask = Path(sys.executable).with_name("dask")
    with tempfile.TemporaryDirectory() as folder:
        scheduler_file = Path(folder) / "scheduler.json"
        scheduler = [dask, "scheduler", "--host", "127.0.0.1", "--port", "0", "--no-dashboard"]
        scheduler += ["--scheduler-file", scheduler_file]
        started = [subprocess.Popen(scheduler, cwd=folder, stderr=subprocess.DEVNULL)]
        try:
            while not scheduler_file.exists():
                time.sleep(0.05)
            worker = [dask, "worker", "--scheduler-file", scheduler_file, "--nthreads", "1"]
            for core in range(workers):
                started.append(
                    subprocess.Popen(
                        [*worker, "--no-dashboard"],
                        cwd=folder,
                        stderr=subprocess.DEVNULL,
                        preexec_fn=lambda core=core: os.sched_setaffinity(0, {core}),
                    )
                )
            joined = (
                "import sys; from distributed import Client; "
                "c = Client(scheduler_file=sys.argv[1]); c.wait_for_workers(int(sys.argv[2]))"
            )
            subprocess.run([sys.executable, "-c", joined, scheduler_file, str(workers)], check=True)
            nannies = [process.pid for process in started[1:]]
            pids = [*nannies, *(pid for nanny in nannies for pid in _children(nanny))]
            before = sum(_processor_seconds(pid) for pid in pids)
            address = json.loads(scheduler_file.read_text())["address"]
            command = ebook("build", "--no-cache", "--scheduler", address, "-o", str(out))
            seconds, cpu, peaks = catalog_run(command, root, nannies)
            cpu += sum(_processor_seconds(pid) for pid in pids) - before
        finally:
            for process in started:
                process.terminate()
                process.wait()
    return seconds, cpu, peaks


def _processor_seconds(pid: int) -> float:
    """User and system time of process `pid` and of the children it has waited for."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return sum(int(value) for value in fields[11:15]) / os.sysconf("SC_CLK_TCK")


def naive_chain_seconds(root: Path, book_ids: list[str], tmp: Path) -> tuple[float, float]:
    """Seconds and processor seconds of what a user would script without ebook-builder,
    one book after another: pandoc → EPUB, pandoc → DOCX, calibre's `ebook-convert` EPUB →
    AZW3."""
    calibre = shutil.which("ebook-convert")
    assert calibre, "the naive chain needs calibre's ebook-convert"
    before = os.times()
    start = time.perf_counter()
    for book_id in book_ids:
        epub = tmp / f"{book_id}.epub"
        for command in (
            pandoc(root, book_id, epub),
            pandoc(root, book_id, tmp / f"{book_id}.docx"),
            [calibre, str(epub), str(tmp / f"{book_id}.azw3")],
        ):
            subprocess.run(command, cwd=root, check=True, capture_output=True)
    after = os.times()
    cpu = after.children_user + after.children_system
    return time.perf_counter() - start, cpu - before.children_user - before.children_system


def catalog_rows(tmp: Path, count: int, runs: int) -> list[str]:
    """A catalog of `count` books, cold, every format: plain, on 1 and 2 local workers, and
    the naive chain; then where a local cluster starts to pay, on books of a pamphlet's
    size (the first book's 10 chapters)."""
    root = tmp / "catalog"
    book_ids = make_catalog(root, count)
    words = sum(len(path.read_text().split()) for path in (root / "book").rglob("*.md"))
    fmts = ",".join(formats())
    rows = [
        f"Catalog of {count} books of 1 to 20 chapters ({words:,} words), every format "
        f"({fmts}), cold (`--no-cache`), one run each.",
        "",
        "| build | time | books per hour | vs 1 worker | processor time, all processes "
        "| peak memory per worker |",
        "| --- | ---: | ---: | ---: | ---: | ---: |",
    ]
    plain = run(ebook("build", "--no-cache", "-o", str(tmp / "plain")), root, 1)
    rows.append(
        f"| `ebook build` (one process) | {plain.seconds:.1f} s "
        f"| {count / plain.seconds * 3600:,.0f} | | {plain.cpu_seconds:.1f} s | |"
    )
    # Local clusters, each worker with its share of the machine's cores (the default), then
    # standing clusters whose workers each have a core of their own: one worker of the
    # first kind already keeps more than one core busy, so only the second shows how the
    # work spreads over workers, as over machines.
    runs_of = (
        (
            "`ebook build --workers {}`",
            lambda n, out: catalog_run(
                ebook("build", "--no-cache", "--workers", str(n), "-o", str(out)), root
            ),
        ),
        (
            "`ebook build --scheduler`, {} worker(s) of one core each",
            lambda n, out: one_core_cluster_run(root, n, out),
        ),
    )
    for label, measure in runs_of:
        one = None
        for workers in (1, 2):
            seconds, cpu, peaks = measure(workers, tmp / f"out-{len(rows)}")
            one = one or seconds
            rows.append(
                f"| {label.format(workers)} | {seconds:.1f} s "
                f"| {count / seconds * 3600:,.0f} | {seconds / one:.2f}× | {cpu:.1f} s "
                f"| {' / '.join(f'{peak:.0f} MiB' for peak in sorted(peaks))} |"
            )
    warm = run(ebook("build", "--workers", "2", "-o", str(tmp / "warm")), root, 1)
    rows.append(
        f"| `ebook build --workers 2`, warm cache, into a new folder (converts nothing) "
        f"| {warm.seconds:.1f} s | {count / warm.seconds * 3600:,.0f} | "
        f"| {warm.cpu_seconds:.1f} s | |"
    )
    naive, naive_cpu = naive_chain_seconds(root, book_ids, tmp)
    rows.append(
        f"| naive chain: pandoc → EPUB, pandoc → DOCX, calibre EPUB → AZW3 | {naive:.1f} s "
        f"| {count / naive * 3600:,.0f} | | {naive_cpu:.1f} s | |"
    )
    rows.append(f"\nLoad average (1 minute) at the end: {os.getloadavg()[0]:.1f}.")
    rows += [
        "",
        f"Where a local cluster pays: books of the first book's 10 chapters, cold, every "
        f"format; medians of {runs} runs.",
        "",
        "| books | `ebook build` | `ebook build --workers 2` | ratio | processor time, plain "
        "/ cluster |",
        "| ---: | ---: | ---: | ---: | ---: |",
    ]
    for books in (1, 2, 3, 4, 6, 8):
        folder = tmp / f"pamphlets-{books}"
        make_catalog(folder, books, size=10)
        here, cluster = side_by_side(
            [
                ebook("build", "--no-cache", "-o", str(folder / "a")),
                ebook("build", "--no-cache", "--workers", "2", "-o", str(folder / "b")),
            ],
            folder,
            runs,
        )
        rows.append(
            f"| {books} | {here.seconds:.2f} s | {cluster.seconds:.2f} s "
            f"| {ratio(cluster.seconds, here.seconds)} "
            f"| {here.cpu_seconds:.1f} s / {cluster.cpu_seconds:.1f} s |"
        )
    return rows


def project_copy(folder: Path) -> Path:
    root = folder / "project"
    for name in ("book", "metadata", "covers"):
        shutil.copytree(REPO / name, root / name)
    return root


def compile_package() -> None:
    """Compile ebook-builder's bytecode, as `pip install` does.

    An editable checkout run with PYTHONDONTWRITEBYTECODE set (as on CI machines) would
    otherwise compile every module from source on each start: not what a user's runs cost.
    """
    spec = importlib.util.find_spec("ebook_builder")
    assert spec is not None and spec.submodule_search_locations
    for folder in spec.submodule_search_locations:
        compileall.compile_dir(folder, quiet=1)


def ratio(ours: float, theirs: float) -> str:
    return f"{ours / theirs:.2f}×"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--sizes", default="10,100", help="corpus sizes, e.g. 10,100")
    parser.add_argument(
        "--catalog",
        type=int,
        metavar="BOOKS",
        help="measure catalog builds on Dask instead (slow: 100 books take minutes), "
        "into bench/CATALOG.md",
    )
    args = parser.parse_args()
    runs = args.runs
    compile_package()
    if args.catalog:
        with tempfile.TemporaryDirectory() as scratch:
            rows = catalog_rows(Path(scratch), args.catalog, runs)
        header = [
            "# Catalog builds",
            "",
            f"`python bench/run.py --catalog {args.catalog} --runs {runs}` on "
            f"{platform.machine()}, {os.cpu_count()} cores, Python "
            f"{platform.python_version()}, pandoc {pypandoc.get_pandoc_version()}.",
            "",
        ]
        table = "\n".join(header + rows) + "\n"
        print(table)
        (REPO / "bench" / "CATALOG.md").write_text(table, encoding="utf-8")
        return
    calibre = shutil.which("ebook-convert")
    fmts = formats()
    rows: list[str] = []
    with tempfile.TemporaryDirectory() as scratch:
        tmp = Path(scratch)
        root = project_copy(tmp)
        out = tmp / "out"
        rows.append("| measurement | ebook-builder | alternative | ratio |")
        rows.append("| --- | ---: | ---: | ---: |")
        python = run([sys.executable, "-c", "pass"], root, runs)
        rows.append(
            f"| Python's own start-up (`python -c pass`), part of every `ebook` command "
            f"| {python.seconds:.3f} s | | |"
        )
        imports = run([sys.executable, "-c", "import ebook_builder.cli"], root, runs)
        rows.append(
            "| Python's start-up and the CLI's imports (`python -c 'import ebook_builder.cli'`)"
            f", part of every `ebook` command that builds | {imports.seconds:.3f} s | | |"
        )
        for book_id in BOOKS:
            cold, p_epub, p_docx = side_by_side(
                [
                    ebook("build", book_id, "--no-cache", "-o", str(out)),
                    pandoc(root, book_id, tmp / "p.epub"),
                    pandoc(root, book_id, tmp / "p.docx"),
                ],
                root,
                runs,
            )
            all_formats = f"cold build, all formats ({', '.join(fmts)})"
            rows.append(
                f"| {book_id}: {all_formats} vs pandoc → EPUB | {cold.seconds:.2f} s "
                f"| {p_epub.seconds:.2f} s | {ratio(cold.seconds, p_epub.seconds)} |"
            )
            rows.append(
                f"| {book_id}: processor time of the same two, all processes (user + system)"
                f"; the cold build can take no less than its share on {os.cpu_count()} cores, "
                f"{cold.cpu_seconds / (os.cpu_count() or 1):.2f} s | {cold.cpu_seconds:.2f} s "
                f"| {p_epub.cpu_seconds:.2f} s | {ratio(cold.cpu_seconds, p_epub.cpu_seconds)} |"
            )
            naive = p_epub.seconds + p_docx.seconds
            chain = "pandoc → EPUB + pandoc → DOCX"
            if calibre:
                epub = out / f"{book_id}.epub"
                cal = run([calibre, str(epub), str(tmp / "c.azw3")], root, runs)
                naive += cal.seconds
                chain += " + calibre EPUB → AZW3"
                azw3 = run(
                    ebook("build", book_id, "--no-cache", "-f", "azw3", "-o", str(out)), root, runs
                )
                writer = kindle_writer_seconds(root, book_id, runs)
                rows.append(
                    f"| {book_id}: AZW3 from sources (`ebook build -f azw3`) vs calibre "
                    f"EPUB → AZW3 | {azw3.seconds:.2f} s | {cal.seconds:.2f} s "
                    f"| {ratio(azw3.seconds, cal.seconds)} |"
                )
                rows.append(
                    f"| {book_id}: our KF8 writer alone vs calibre EPUB → AZW3 | {writer:.3f} s "
                    f"| {cal.seconds:.2f} s | {cal.seconds / writer:.0f}× faster |"
                )
            rows.append(
                f"| {book_id}: cold build vs the naive chain ({chain}) | {cold.seconds:.2f} s "
                f"| {naive:.2f} s | {ratio(cold.seconds, naive)} |"
            )
            build = ebook("build", book_id, "-o", str(out))
            run(build, root, 1)
            warm = run(build, root, runs)
            rows.append(
                f"| {book_id}: rebuild, nothing changed | {warm.seconds:.2f} s "
                f"| cold {cold.seconds:.2f} s | {warm.seconds / cold.seconds:.1%} |"
            )
            chapters = chapter_paths(root, book_id)
            one = run(build, root, runs, before=Appender(chapters[len(chapters) // 2]))
            rows.append(
                f"| {book_id}: rebuild, one chapter changed | {one.seconds:.2f} s "
                f"| cold {cold.seconds:.2f} s | {one.seconds / cold.seconds:.1%} |"
            )
            rows += watch_rows(root, book_id, out, runs, chapters[1], cold.seconds)
            rows += library_rows(root, book_id, out, runs, chapters[0])
            if book_id == FIRST:
                rows.append(preview_row(root, book_id, runs, chapters[0]))
                proof = run(ebook("proof", book_id, "-o", str(tmp / "proof")), root, 1)
                rows.append(
                    f"| {book_id}: `ebook proof` (one run) | {proof.seconds:.2f} s "
                    f"| target 30 s | {proof.seconds / 30:.0%} of the target |"
                )
        novel = make_corpus(root, NOVEL_TIMES)
        words = sum(len(path.read_text().split()) for path in chapter_paths(root, novel))
        cold, p_epub = side_by_side(
            [
                ebook("build", novel, "--no-cache", "-o", str(out)),
                pandoc(root, novel, tmp / "n.epub"),
            ],
            root,
            runs,
        )
        rows.append(
            f"| a book of {words:,} words ({novel}): cold build, all formats vs pandoc → EPUB "
            f"| {cold.seconds:.2f} s | {p_epub.seconds:.2f} s "
            f"| {ratio(cold.seconds, p_epub.seconds)} |"
        )
        rows.append(import_row(out / f"{novel}.epub", words, tmp, runs))
        rows.append("")
        rows.append(
            "| corpus | chapters | ebook-builder EPUB | peak memory (largest process / all "
            "together) | pandoc → EPUB | peak memory | time ratio |"
        )
        rows.append("| --- | ---: | ---: | ---: | ---: | ---: | ---: |")
        for size in [1, *[int(s) for s in args.sizes.split(",") if s]]:
            book_id = FIRST if size == 1 else make_corpus(root, size)
            count = len(chapter_paths(root, book_id))
            size_runs = runs if size < 100 else max(runs, 5)
            ours = run(
                ebook("build", book_id, "--no-cache", "-f", "epub", "-o", str(out)),
                root,
                size_runs,
            )
            theirs = run(pandoc(root, book_id, tmp / "corpus.epub"), root, size_runs)
            # Memory in separate runs: sampling /proc takes time from the timed ones.
            ours_memory = run(
                ebook("build", book_id, "--no-cache", "-f", "epub", "-o", str(out)),
                root,
                1,
                sample_memory=True,
            )
            theirs_memory = run(pandoc(root, book_id, tmp / "c.epub"), root, 1, sample_memory=True)
            rows.append(
                f"| {size}× | {count} | {ours.seconds:.2f} s "
                f"| {ours_memory.peak_mib:.0f} MiB / {ours_memory.total_mib:.0f} MiB "
                f"| {theirs.seconds:.2f} s | {theirs_memory.peak_mib:.0f} MiB "
                f"| {ratio(ours.seconds, theirs.seconds)} |"
            )
    header = [
        "# Benchmark results",
        "",
        f"`python bench/run.py --runs {runs} --sizes {args.sizes}` on {platform.machine()}, "
        f"{os.cpu_count()} cores, Python {platform.python_version()}, "
        f"pandoc {pypandoc.get_pandoc_version()}"
        + (", calibre installed" if calibre else ", calibre absent")
        + f"; medians of {runs} runs. Peak memory: the largest resident set of one process,"
        " and of all the build's processes together (sampled every 20 ms, separate run).",
        "",
    ]
    table = "\n".join(header + rows) + "\n"
    print(table)
    (REPO / "bench" / "RESULTS.md").write_text(table, encoding="utf-8")


if __name__ == "__main__":
    main()
