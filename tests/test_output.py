"""Staged output: a failed or interrupted build leaves every earlier file as it was."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from hashlib import md5
from pathlib import Path

import pytest
from typer.testing import CliRunner

from ebook_builder import api
from ebook_builder.cli import app
from ebook_builder.errors import ExitCode, OutputError
from ebook_builder.formats import FORMATS
from ebook_builder.output import atomic_output, staged_outputs

runner = CliRunner()


def test_success_replaces_the_file(tmp_path):
    target = tmp_path / "book.epub"
    target.write_bytes(b"old")
    with atomic_output(target) as temporary:
        temporary.write_bytes(b"new")
    assert target.read_bytes() == b"new"
    assert [p.name for p in tmp_path.iterdir()] == ["book.epub"]
    assert target.stat().st_mode & 0o777 != 0o600


@pytest.mark.parametrize("failure", [KeyboardInterrupt, RuntimeError])
def test_interruption_leaves_the_old_file_and_no_temporary(tmp_path, failure):
    target = tmp_path / "book.epub"
    target.write_bytes(b"old")
    with pytest.raises(failure), atomic_output(target) as temporary:
        temporary.write_bytes(b"half")
        raise failure()
    assert target.read_bytes() == b"old"
    assert [p.name for p in tmp_path.iterdir()] == ["book.epub"]


def test_staged_files_are_renamed_only_when_the_block_succeeds(tmp_path):
    first, second = tmp_path / "a.epub", tmp_path / "sub" / "a.docx"
    first.write_bytes(b"old")
    with pytest.raises(RuntimeError), staged_outputs() as staged:
        staged.path(first).write_bytes(b"new")
        staged.path(second).write_bytes(b"new")
        assert first.read_bytes() == b"old" and not second.exists()
        raise RuntimeError
    assert first.read_bytes() == b"old" and not second.exists()
    assert sorted(p.name for p in tmp_path.rglob("*")) == ["a.epub", "sub"]
    with staged_outputs() as staged:
        staged.path(first).write_bytes(b"new")
        staged.path(second).write_bytes(b"new")
    assert first.read_bytes() == second.read_bytes() == b"new"


def test_full_disk_becomes_an_output_error(tmp_path):
    target = tmp_path / "book.epub"
    target.write_bytes(b"old")
    with pytest.raises(OutputError, match=r"book\.epub: cannot write"), atomic_output(target):
        raise OSError(28, "No space left on device")
    assert target.read_bytes() == b"old"
    assert [p.name for p in tmp_path.iterdir()] == ["book.epub"]


def test_unwritable_output_folder(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with (
        pytest.raises(OutputError, match="cannot write to the output folder"),
        atomic_output(blocker / "sub" / "book.epub"),
    ):
        pass


def test_interrupted_build_keeps_the_earlier_epub(make_project, monkeypatch):
    make_project.book()
    (first,) = api.build(make_project.root, formats=["epub"])
    before = first.read_bytes()

    def interrupted(converted, path):
        path.write_bytes(b"partial")
        raise KeyboardInterrupt

    monkeypatch.setattr(FORMATS["epub"].load(), "write_epub", interrupted)
    with pytest.raises(KeyboardInterrupt):
        api.build(make_project.root, formats=["epub"], use_cache=False)
    assert first.read_bytes() == before
    assert [p.name for p in first.parent.iterdir()] == ["demo.epub"]


def _digests(root: Path) -> dict[str, str]:
    """The md5 of every file a build wrote: the outputs, companions and output stamps."""
    files = [*(root / "dist").rglob("*"), *(root / ".cache" / "outputs").rglob("*")]
    return {p.relative_to(root).as_posix(): md5(p.read_bytes()).hexdigest() for p in files}


@pytest.mark.parametrize(
    ("failing_format", "failure", "code"),
    [
        ("epub", OutputError("the disk is full"), ExitCode.BAD_USAGE),  # in the main thread
        ("docx", OutputError("the disk is full"), ExitCode.BAD_USAGE),  # in the DOCX's thread
        ("docx", RuntimeError("a bug"), ExitCode.INTERNAL_ERROR),
        ("azw3", KeyboardInterrupt(), ExitCode.INTERRUPTED),
    ],
)
def test_a_failing_writer_leaves_every_earlier_file_of_every_book_byte_identical(
    make_project, monkeypatch, failing_format, failure, code
):
    """All or nothing for the whole command (issue 17, item 2): the first book's outputs,
    the Kindle thumbnail and the output stamps stay as they were when the second book's
    writer fails, and no temporary is left. (Before, the formats written before the failure
    were renamed into place.)"""
    for book_id in ("demo", "other"):
        make_project.book(book_id)
    formats = ["--format", "epub,azw3,docx"]
    first = runner.invoke(app, ["build", *formats, "-C", str(make_project.root)])
    assert first.exit_code == 0, first.output
    before = _digests(make_project.root)
    assert any(name.endswith(".jpg") for name in before)  # the Kindle thumbnail
    assert any(name.endswith(".stamp") for name in before)
    for book_id in ("demo", "other"):  # new text: every output is out of date
        make_project.book(book_id, chapters={"01-one.md": "# One\n\nNew text.\n"})
    module = FORMATS[failing_format].load()
    writer = getattr(module, FORMATS[failing_format].writer)

    def failing(converted, path):
        if converted.book.book_id != "other":
            return writer(converted, path)
        path.write_bytes(b"partial")
        raise failure

    monkeypatch.setattr(module, FORMATS[failing_format].writer, failing)
    result = runner.invoke(app, ["build", *formats, "-C", str(make_project.root)])
    assert result.exit_code == code, result.output
    assert _digests(make_project.root) == before
    assert not [p for p in make_project.root.rglob("*.tmp")]


def test_a_failure_here_waits_for_the_writers_beside_and_keeps_none_of_their_files(
    make_project, monkeypatch
):
    make_project.book()
    finished = threading.Event()

    def failing(converted, path):
        raise OutputError("the disk is full", path=path)

    def slow_docx(converted, path):
        time.sleep(0.2)
        path.write_bytes(b"new docx")
        finished.set()

    monkeypatch.setattr(FORMATS["epub"].load(), "write_epub", failing)
    monkeypatch.setattr(FORMATS["docx"].load(), "write_docx", slow_docx)
    out = make_project.root / "dist"
    with pytest.raises(OutputError, match="the disk is full"):
        api.build(make_project.root, formats=["epub", "docx"], out=out, use_cache=False)
    assert finished.is_set()
    assert list(out.iterdir()) == []


def test_the_docx_is_written_while_the_others_are(make_project, monkeypatch):
    """The EPUB's writer waits until the DOCX's has started: one after the other, it would
    wait in vain."""
    make_project.book()
    started = threading.Event()

    def docx_writer(converted, path):
        started.set()
        path.write_text(str(threading.get_ident()))

    def epub_writer(converted, path):
        assert started.wait(timeout=30), "the DOCX was not written beside the EPUB"
        path.write_text(str(threading.get_ident()))

    monkeypatch.setattr(FORMATS["docx"].load(), "write_docx", docx_writer)
    monkeypatch.setattr(FORMATS["epub"].load(), "write_epub", epub_writer)
    monkeypatch.setattr(api, "usable_cores", lambda: 1)
    built = api.build(make_project.root, formats=["epub", "docx"], use_cache=False)
    docx, epub = (next(p for p in built if p.suffix == suffix) for suffix in (".docx", ".epub"))
    assert int(epub.read_text()) == threading.get_ident() != int(docx.read_text())


def test_a_build_killed_mid_write_leaves_temporaries_the_next_build_removes(make_project):
    """A real `kill -9` of `python -m ebook_builder build` while it writes: its temporaries
    stay (nothing can remove them then), and the next build into the folder removes them."""
    words = "the workers of russia took power in october " * 400
    chapters = {f"{n:02d}.md": f"# Part {n}\n\n" + f"{words}\n\n" * 40 for n in range(1, 6)}
    make_project.book(chapters=chapters)
    dist = make_project.root / "dist"
    command = [sys.executable, "-m", "ebook_builder", "build", "--no-cache"]
    process = subprocess.Popen(command, cwd=make_project.root, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 120
        while not list(dist.glob(".*.tmp")) and process.poll() is None:
            assert time.monotonic() < deadline, "the build never started writing"
            time.sleep(0.005)
        os.kill(process.pid, signal.SIGKILL)
    finally:
        process.wait()
    assert process.returncode == -signal.SIGKILL, "the build finished before it was killed"
    left = sorted(p.name for p in dist.glob(".*.tmp"))
    assert left and all(f".{process.pid}." in name for name in left), left

    written = api.build(make_project.root)
    assert sorted(p.name for p in dist.iterdir()) == sorted(p.name for p in written)


def test_only_our_own_temporaries_of_dead_processes_are_removed(make_project):
    make_project.book()
    dist = make_project.root / "dist"
    dist.mkdir()
    stale = [".demo.epub.999999999.abcd_123.tmp"]  # no such process
    kept = [
        f".demo.epub.{os.getpid()}.abcd_123.tmp",  # a build still running
        ".demo.epub.abcd_123.tmp",  # an older version's, less than a day old
        ".demo.epub.notes.tmp",  # not a name we make
        ".other.epub.999999999.abcd_123.tmp",  # not a target of this build
        "demo.epub.999999999.abcd_123.tmp",
    ]
    for name in stale + kept:
        (dist / name).write_bytes(b"partial")
    old = dist / ".demo.docx.zz9_plur.tmp"  # an older version's, two days old
    old.write_bytes(b"partial")
    os.utime(old, (time.time() - 2 * 86400,) * 2)

    api.build(make_project.root, formats=["epub", "docx"])
    names = {p.name for p in dist.iterdir()}
    assert names == {"demo.epub", "demo.docx", *kept}
