"""Catalog builds on Dask: a real scheduler and two real workers, in a folder without the
project, build a dozen books byte for byte as a plain build does, and survive a worker
killed mid-build and a book with problems among good ones."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from distributed import Client
from PIL import Image
from typer.testing import CliRunner

from ebook_builder import api, catalog, pandoc
from ebook_builder.cache.chapters import ChapterCache
from ebook_builder.cli import app
from ebook_builder.convert import cache_keys, convert_book
from ebook_builder.cores import usable_cores
from ebook_builder.load import Project, load_book
from tests.helpers import ProjectMaker

BIN = Path(sys.executable).parent
BOOK_COUNT = 12
FORMATS = "epub,kepub,azw3,docx"
runner = CliRunner()


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, list[int]]]:
    """`dask scheduler` and two `dask worker`s on 127.0.0.1: its address, the workers' pids.

    The workers run without a nanny, so that a test can kill one for good, and in an empty
    folder: they must build from what the tasks carry.
    """
    folder = tmp_path_factory.mktemp("dask")
    empty = tmp_path_factory.mktemp("empty")
    scheduler_file = folder / "scheduler.json"
    scheduler = [BIN / "dask", "scheduler", "--host", "127.0.0.1", "--port", "0"]
    scheduler += ["--no-dashboard", "--scheduler-file", scheduler_file]
    started = [subprocess.Popen(scheduler, cwd=empty, stderr=subprocess.DEVNULL)]
    try:
        while not scheduler_file.exists():
            time.sleep(0.05)
        worker = [BIN / "dask", "worker", "--scheduler-file", scheduler_file, "--no-nanny"]
        worker += ["--nworkers", "1", "--nthreads", "1", "--no-dashboard"]
        workers = [subprocess.Popen(worker, cwd=empty, stderr=subprocess.DEVNULL) for _ in range(2)]
        started += workers
        with Client(scheduler_file=str(scheduler_file)) as client:
            client.wait_for_workers(2, timeout=30)
            address = client.scheduler.address
        yield address, [process.pid for process in workers]
    finally:
        for process in started:
            process.kill()
            process.wait()


def make_catalog(root: Path, count: int = BOOK_COUNT) -> list[str]:
    """`count` small books of one to four chapters of different lengths; the first with a
    picture and a cover of its own, which its task must carry too."""
    maker = ProjectMaker(root)
    books = []
    for number in range(count):
        book_id = f"book-{number:02d}"
        chapters = {
            f"{part:02d}.md": f"# Part {part} of book {number}\n\n"
            + "A paragraph of the book, with *some* emphasis. " * (20 * (number + part))
            + "\n"
            for part in range(1, number % 4 + 2)
        }
        if number == 0:
            chapters["01.md"] += "\n![A red square.](square.png)\n"
        maker.book(book_id, chapters, title=f"Book {number}")
        books.append(book_id)
    Image.new("RGB", (40, 40), "red").save(root / "book" / "book-00" / "square.png")
    (root / "covers").mkdir()
    Image.new("RGB", (600, 900), "navy").save(root / "covers" / "book-00.jpg")
    return books


@pytest.fixture(scope="module")
def catalog_project(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A dozen books, and their plain build (the bytes a cluster build must write)."""
    root = tmp_path_factory.mktemp("catalog") / "project"
    make_catalog(root)
    plain = root / "plain"
    api.build(root, None, [FORMATS], plain, use_cache=False)
    return root, plain


def build(root: Path, *args: str) -> tuple[int, str, str]:
    result = runner.invoke(app, ["build", "--project", str(root), *args])
    return result.exit_code, result.stdout, result.stderr


def assert_same_files(built: Path, plain: Path) -> None:
    names = sorted(path.name for path in plain.iterdir())
    assert sorted(path.name for path in built.iterdir()) == names
    for name in names:
        assert (built / name).read_bytes() == (plain / name).read_bytes(), name


def test_scheduler_build_is_byte_identical_to_a_plain_build(cluster, catalog_project, tmp_path):
    root, plain = catalog_project
    out = tmp_path / "out"
    code, stdout, stderr = build(root, "--scheduler", cluster[0], "-f", FORMATS, "-o", str(out))
    assert (code, stderr) == (0, "")
    assert_same_files(out, plain)
    assert stdout.count("wrote ") == len(list(plain.iterdir()))
    # Written with their stamps: a rebuild, plain or on the cluster, leaves them alone.
    before = {path.name: path.stat().st_mtime_ns for path in out.iterdir()}
    code, stdout, _ = build(root, "--scheduler", cluster[0], "-f", FORMATS, "-o", str(out))
    assert code == 0
    api.build(root, None, [FORMATS], out)
    assert {path.name: path.stat().st_mtime_ns for path in out.iterdir()} == before


def test_a_killed_worker_costs_time_not_books(cluster, catalog_project, tmp_path):
    root, plain = catalog_project
    out = tmp_path / "out"
    command = [BIN / "ebook", "build", "-C", root, "--scheduler", cluster[0], "-f", FORMATS]
    building = subprocess.Popen([*command, "-o", out, "--no-cache"], stderr=subprocess.PIPE)
    with Client(cluster[0]) as client:
        pids = client.run(os.getpid)
        busy = None
        while busy is None and building.poll() is None:
            busy = next((w for w, keys in client.processing().items() if keys), None)
        assert busy is not None, "the build ended before a worker had a book"
        os.kill(pids[busy], signal.SIGKILL)
        _, stderr = building.communicate(timeout=120)
        assert building.returncode == 0, stderr.decode()
        assert_same_files(out, plain)
        assert len(client.scheduler_info()["workers"]) == 1


def test_ctrl_c_cancels_the_books_and_leaves_every_file_whole(cluster, catalog_project, tmp_path):
    """Each file in `--out` is afterwards the earlier build's or this one's, never a part."""
    root, plain = catalog_project
    out = tmp_path / "out"
    out.mkdir()
    earlier = {path.name: b"an earlier build of " + path.name.encode() for path in plain.iterdir()}
    for name, data in earlier.items():
        (out / name).write_bytes(data)
    command = [BIN / "ebook", "build", "-C", root, "--scheduler", cluster[0], "-f", FORMATS]
    building = subprocess.Popen(
        [*command, "-o", out, "--no-cache"], stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    with Client(cluster[0]) as client:
        assert building.stdout is not None
        while not building.stdout.readline().startswith(b"wrote "):  # a first book is done
            assert building.poll() is None, building.stderr
        building.send_signal(signal.SIGINT)
        building.communicate(timeout=60)
        assert building.returncode == 130
        deadline = time.monotonic() + 10
        while any(client.processing().values()):  # the books not finished are cancelled
            assert time.monotonic() < deadline, client.processing()
            time.sleep(0.1)
    assert sorted(path.name for path in out.iterdir()) == sorted(earlier)
    kept = {name for name, data in earlier.items() if (out / name).read_bytes() == data}
    assert 0 < len(kept) < len(earlier)  # the finished books written, the others left alone
    for name in set(earlier) - kept:
        assert (out / name).read_bytes() == (plain / name).read_bytes(), name


def test_a_book_with_problems_stops_no_other(tmp_path):
    root = tmp_path / "project"
    make_catalog(root, 3)
    ProjectMaker(root).book("broken", {"01.md": "# Broken\n\nSee [there](#nowhere).\n"})
    outcomes = catalog.build(catalog.connector("2", None), root, None, ["epub"], tmp_path / "out")
    assert [o.book_id for o in outcomes if o.failed] == ["broken"]
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == [
        f"book-0{n}.epub" for n in range(3)
    ]
    expected = runner.invoke(app, ["build", "broken", "-C", str(root), "-f", "epub"])
    code, stdout, stderr = build(root, "--workers", "2", "-f", "epub", "-o", str(tmp_path / "o"))
    assert code == expected.exit_code == 1
    assert stderr == expected.stderr
    assert stdout.count("wrote ") == 3


def test_json_summary_lists_each_books_files_or_problems(tmp_path):
    root = tmp_path / "project"
    ProjectMaker(root).book("good")
    ProjectMaker(root).book("bad", {"01.md": "# Bad\n\n[x](#nowhere)\n"})
    out = tmp_path / "out"
    code, stdout, _ = build(root, "--workers", "1", "-f", "epub", "-o", str(out), "--json")
    assert code == 1
    summary = json.loads(stdout)
    assert summary["good"] == {"written": [str(out / "good.epub")], "problems": []}
    assert summary["bad"]["written"] == []
    assert summary["bad"]["problems"][0]["path"] == "book/bad/01.md"


def test_json_without_a_cluster_builds_book_by_book_here(tmp_path):
    root = tmp_path / "project"
    ProjectMaker(root).book("good")
    ProjectMaker(root).book("bad", {"01.md": "# Bad\n\n[x](#nowhere)\n"})
    out = tmp_path / "out"
    code, stdout, _ = build(root, "-f", "epub", "-o", str(out), "--json")
    assert code == 1
    summary = json.loads(stdout)
    assert summary["good"] == {"written": [str(out / "good.epub")], "problems": []}
    assert summary["bad"]["problems"][0]["path"] == "book/bad/01.md"
    assert sorted(path.name for path in out.iterdir()) == ["good.epub"]


def test_a_warm_rebuild_converts_nothing(make_project, tmp_path, counted):
    """Workers in this process, so that `counted` sees their pandoc runs."""
    make_project.book("demo", {"01.md": "# A\n\nText.\n", "02.md": "# B\n\n<!-- raw -->\n"})
    root = make_project.root

    def here() -> Client:
        return Client(processes=False, n_workers=1, threads_per_worker=1, dashboard_address=":0")

    catalog.build(here, root, None, ["epub"], tmp_path / "cold")
    converted = len(counted)
    outcomes = catalog.build(here, root, None, ["epub"], tmp_path / "warm")
    assert converted > 0 and len(counted) == converted
    assert outcomes[0].written == [tmp_path / "warm" / "demo.epub"]

    def unreachable() -> Client:
        raise AssertionError("a build with every output current reached the cluster")

    catalog.build(unreachable, root, None, ["epub"], tmp_path / "warm")


def test_a_worker_of_another_version_refuses_the_book():
    result = catalog.build_on_worker("demo", {}, {}, ["epub"], "", "0.0.0")
    assert [str(problem) for problem in result.problems] == [
        f"the worker runs ebook-builder {catalog.__version__}, the client 0.0.0"
    ]


def test_cache_keys_are_the_entries_a_conversion_looks_up(make_project):
    make_project.book("demo", {"01.md": "# A\n\nText.\n", "02.md": "# B\n\n<span>x</span>\n"})
    book = load_book(Project(make_project.root), "demo")
    looked_up: list[str] = []

    class Recording(ChapterCache):
        def get(self, key: str) -> str | None:
            looked_up.append(key)
            return None

    convert_book(book, Recording(None))
    assert sorted(looked_up) == sorted(cache_keys(book))


def test_a_local_cluster(catalog_project, tmp_path):
    root, plain = catalog_project
    out = tmp_path / "out"
    books = [f"book-0{n}" for n in range(3)]
    code, _, stderr = build(root, *books, "--workers", "2", "-f", FORMATS, "-o", str(out))
    assert (code, stderr) == (0, "")
    for path in out.iterdir():
        assert path.read_bytes() == (plain / path.name).read_bytes()


def test_without_dask_a_cluster_build_says_what_to_install(make_project, monkeypatch):
    make_project.book()
    monkeypatch.setitem(sys.modules, "distributed", None)
    code, _, stderr = build(make_project.root, "--workers", "2")
    assert code == 2
    assert stderr == f"error: catalog builds need Dask: {catalog.INSTALL_HINT}\n"


@pytest.mark.parametrize("options", [[], ["--workers", "auto"], ["--json"]])
def test_a_plain_build_never_imports_dask(make_project, options):
    """Nor does `--workers auto` for fewer books than a cluster pays for, nor `--json`."""
    make_project.book()
    args = ["build", "-C", str(make_project.root), "-f", "epub", *options]
    script = (
        "import sys; from ebook_builder.cli import app; from typer.testing import CliRunner; "
        f"r = CliRunner().invoke(app, {args!r}); assert r.exit_code == 0, r.output; "
        "assert 'distributed' not in sys.modules"
    )
    subprocess.run([sys.executable, "-c", script], check=True)


def test_each_local_worker_runs_its_share_of_pandoc_processes(monkeypatch):
    monkeypatch.setenv(pandoc.PROCESSES_VARIABLE, "1")
    assert pandoc.processes() == 1
    monkeypatch.setenv(pandoc.PROCESSES_VARIABLE, "none")
    assert pandoc.processes() == usable_cores()


@pytest.mark.skipif(not hasattr(os, "sched_setaffinity"), reason="no CPU affinity here")
def test_a_process_confined_to_one_core_runs_one_pandoc():
    """A worker that `taskset` (or a container's cpuset) gives one core of the machine's
    counts one: a pandoc per core of the machine would crowd that core."""
    script = (
        "import os; os.sched_setaffinity(0, {min(os.sched_getaffinity(0))}); "
        "from ebook_builder import api, pandoc; "
        "assert pandoc.processes() == 1 and api.usable_cores() == 1"
    )
    env = {k: v for k, v in os.environ.items() if k != pandoc.PROCESSES_VARIABLE}
    subprocess.run([sys.executable, "-c", script], check=True, env=env)


def test_a_book_whose_workers_all_died_is_exit_2_and_named(tmp_path):
    """The machines' failure, not the book's nor ours: named, as an unreachable cluster is."""
    from distributed import KilledWorker

    class Dead:
        def result(self) -> None:
            raise KilledWorker("build-demo", None, 3)

    outcome = catalog._received(Dead(), "demo", None, tmp_path, ChapterCache(None), print)
    assert outcome.exit_code == 2
    assert [str(problem) for problem in outcome.problems] == [
        "demo: every worker that took the book died (3 times): out of memory, or stopped; "
        "their logs say why"
    ]


def test_a_terminal_sees_a_bar_over_the_books(tmp_path):
    """The bar is drawn on stderr when it is a terminal: the books done, failed, running."""
    import pty

    root = tmp_path / "project"
    make_catalog(root, 2)
    ProjectMaker(root).book("broken", {"01.md": "# Broken\n\n[x](#nowhere)\n"})
    terminal, shown_on = pty.openpty()
    command = [BIN / "ebook", "build", "-C", root, "-f", "epub", "-o", tmp_path / "out", "--json"]
    building = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=shown_on)
    os.close(shown_on)
    drawn = b""
    while chunk := _read_terminal(terminal):
        drawn += chunk
    building.communicate(timeout=60)
    os.close(terminal)
    assert building.returncode == 1
    assert b"books: 2 done, 1 failed, 0 running" in drawn


def _read_terminal(terminal: int) -> bytes:
    """What the program drew since the last read; nothing once it closed the terminal."""
    try:
        return os.read(terminal, 4096)
    except OSError:  # Linux reports a closed pseudo-terminal as EIO
        return b""
