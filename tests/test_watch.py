"""`ebook watch`: the first build, rebuilds after edits, errors that do not stop it, the CLI."""

from __future__ import annotations

import os
import queue
import threading
import time
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from typer.testing import CliRunner

from ebook_builder import watch as watching
from ebook_builder.cli import app
from ebook_builder.watch import BuildResult

runner = CliRunner()
INTERVAL = 0.01
QUIET = 0.2  # long enough for a change to be seen and built: ten polls and more


@contextmanager
def watched(
    root: Path, book_ids: list[str] | None = None, settle: float = INTERVAL, out: Path | None = None
) -> Iterator[queue.Queue[BuildResult]]:
    """Run the watcher on its own thread; its results arrive in the queue it yields."""
    results: queue.Queue[BuildResult] = queue.Queue()
    stop = threading.Event()
    failures: list[BaseException] = []

    def run() -> None:
        try:
            watching.watch(root, book_ids, ["epub"], out, results.put, stop, INTERVAL, settle)
        except BaseException as exc:
            failures.append(exc)

    thread = threading.Thread(target=run)
    thread.start()
    try:
        yield results
    finally:
        stop.set()
        thread.join(timeout=30)
    assert not thread.is_alive()
    assert not failures, failures


def next_result(results: queue.Queue[BuildResult]) -> BuildResult:
    return results.get(timeout=30)


def assert_quiet(results: queue.Queue[BuildResult]) -> None:
    """No further build: nothing else changed."""
    with pytest.raises(queue.Empty):
        results.get(timeout=QUIET)


def append(path: Path, text: str) -> None:
    with path.open("a", encoding="utf-8") as handle:
        handle.write(text)


def epub_text(path: Path) -> str:
    with zipfile.ZipFile(path) as epub:
        return "".join(epub.read(n).decode() for n in epub.namelist() if n.endswith(".xhtml"))


def test_first_build_then_one_rebuild_per_edit(make_project):
    book = make_project.book()
    epub = make_project.root / "dist" / "demo.epub"
    with watched(make_project.root) as results:
        first = next_result(results)
        assert (first.book_id, first.written, first.error) == ("demo", [epub], None)
        assert epub.is_file()
        append(book / "01-one.md", "\nA sentence added while watching.\n")
        again = next_result(results)
        assert (again.book_id, again.written, again.error) == ("demo", [epub], None)
        assert "A sentence added while watching." in epub_text(epub)
        assert_quiet(results)


def test_a_save_in_several_writes_is_built_once(make_project):
    chapter = make_project.book() / "01-one.md"
    words = ["one", "two", "three", "four", "five", "six", "seven", "eight"]
    with watched(make_project.root, settle=0.15) as results:
        next_result(results)
        for word in words:  # 0.21 s of writes, each within the settling time of the one before
            append(chapter, f" {word}")
            time.sleep(0.03)
        assert next_result(results).error is None
        assert " ".join(words) in epub_text(make_project.root / "dist" / "demo.epub")
        assert_quiet(results)


def test_a_broken_chapter_is_reported_and_keeps_the_earlier_epub(make_project):
    chapter = make_project.book() / "01-one.md"
    epub = make_project.root / "dist" / "demo.epub"
    with watched(make_project.root) as results:
        assert next_result(results).error is None
        before = epub.read_bytes()
        good = chapter.read_text(encoding="utf-8")
        append(chapter, "\n[x](#gone)\n")
        failed = next_result(results)
        assert failed.error is not None
        assert failed.error.lines() == [
            "book/demo/01-one.md:5: broken internal link '#gone': no such id in the book"
        ]
        assert epub.read_bytes() == before
        chapter.write_text(good + "\nFixed.\n", encoding="utf-8")
        fixed = next_result(results)
        assert (fixed.written, fixed.error) == ([epub], None)
        assert "Fixed." in epub_text(epub)


def test_a_rebuild_carries_its_warnings_at_their_lines(make_project):
    chapter = make_project.book() / "01-one.md"
    with watched(make_project.root) as results:
        assert next_result(results).warnings == []
        append(chapter, "\n\\newpage\n")
        rebuilt = next_result(results)
        assert rebuilt.error is None
        assert [(str(w.path), w.line) for w in rebuilt.warnings] == [("book/demo/01-one.md", 5)]
        assert "raw TeX `\\newpage` is left out" in rebuilt.warnings[0].message


def test_only_the_changed_book_is_rebuilt_but_metadata_rebuilds_all(make_project):
    a_book = make_project.book("a-book")
    make_project.book("b-book")
    with watched(make_project.root) as results:
        assert {next_result(results).book_id for _ in range(2)} == {"a-book", "b-book"}
        append(a_book / "01-one.md", "\nMore.\n")
        assert next_result(results).book_id == "a-book"
        assert_quiet(results)
        append(make_project.metadata_path("a-book"), "subjects: [History]\n")
        assert {next_result(results).book_id for _ in range(2)} == {"a-book", "b-book"}
        assert_quiet(results)


def test_a_book_added_while_watching_is_built(make_project):
    make_project.book("a-book")
    with watched(make_project.root) as results:
        assert next_result(results).book_id == "a-book"
        make_project.book("b-book")
        assert {next_result(results).book_id for _ in range(2)} == {"a-book", "b-book"}
        assert (make_project.root / "dist" / "b-book.epub").is_file()


def test_a_book_whose_metadata_goes_away_reports_it_and_returns(make_project):
    make_project.book()
    metadata = make_project.metadata_path()
    with watched(make_project.root, ["demo"]) as results:
        assert next_result(results).error is None
        text = metadata.read_text(encoding="utf-8")
        metadata.unlink()
        gone = next_result(results).error
        assert gone is not None
        assert gone.lines() == ["unknown book id 'demo' (known: none)"]
        metadata.write_text(text, encoding="utf-8")
        assert next_result(results).error is None


def test_a_metadata_error_is_reported_and_the_watch_goes_on(make_project):
    """An impossible date (YAML makes `2017-02-30` a date) once ended the watch."""
    make_project.book()
    metadata = make_project.metadata_path()
    with watched(make_project.root) as results:
        assert next_result(results).error is None
        good = metadata.read_text(encoding="utf-8")
        metadata.write_text(good + "date: 2017-02-30\n", encoding="utf-8")
        failed = next_result(results).error
        assert failed is not None and len(failed.lines()) == 1, failed
        metadata.write_text(good + "subjects: [History]\n", encoding="utf-8")
        assert next_result(results).error is None


def test_a_file_made_unreadable_without_a_new_mtime_is_a_change(make_project):
    chapter = make_project.book() / "01-one.md"
    with watched(make_project.root) as results:
        assert next_result(results).error is None
        before = chapter.stat()
        chapter.chmod(0)
        os.utime(chapter, ns=(before.st_atime_ns, before.st_mtime_ns))
        assert chapter.stat().st_mtime_ns == before.st_mtime_ns
        rebuilt = next_result(results)  # root reads it all the same; anyone else cannot
        assert rebuilt.error is None or "Permission denied" in rebuilt.error.lines()[0]
        chapter.chmod(0o644)
        assert next_result(results).error is None


def test_an_output_folder_inside_the_book_folder_is_not_watched(make_project):
    """`--out book/demo/dist`: the build's own outputs and temporaries are no change."""
    book = make_project.book()
    out = book / "dist"
    with watched(make_project.root, out=out) as results:
        assert next_result(results).written == [out / "demo.epub"]
        assert_quiet(results)
        append(book / "01-one.md", "\nMore.\n")
        assert next_result(results).written == [out / "demo.epub"]
        assert_quiet(results)


def test_polling_never_opens_a_file(make_project):
    """A FIFO in place of the metadata or a chapter blocks whoever opens it: polling only
    stats, so it returns (the build that follows is the load stage's to refuse)."""
    book = make_project.book()
    for path in (make_project.metadata_path(), book / "01-one.md"):
        path.unlink()
        os.mkfifo(path)
    outputs = make_project.root / "dist"
    polled: list[watching.Snapshot] = []
    poll = threading.Thread(
        target=lambda: polled.append(watching._snapshot(make_project.root, None, outputs)),
        daemon=True,  # should it block, the test fails instead of hanging
    )
    poll.start()
    poll.join(timeout=10)
    assert not poll.is_alive() and polled


def stop_after(monkeypatch: pytest.MonkeyPatch, builds: int, edit: Path | None = None) -> None:
    """Make the CLI's watcher edit `edit` after its first build and stop after `builds`."""
    watch = watching.watch

    def stopping(root, book_ids, formats, out, on_result, stop, interval):
        seen: list[BuildResult] = []

        def report(result: BuildResult) -> None:
            on_result(result)
            seen.append(result)
            if len(seen) == 1 and edit is not None:
                append(edit, "\nEdited.\n")
            if len(seen) == builds:
                stop.set()

        watch(root, book_ids, formats, out, report, stop, interval)

    monkeypatch.setattr(watching, "watch", stopping)


def invoke(root: Path, *args: str):
    return runner.invoke(app, ["watch", *args, "--interval", "0.01", "--project", str(root)])


def test_cli_prints_each_build_and_exits_0(make_project, monkeypatch):
    chapter = make_project.book() / "01-one.md"
    stop_after(monkeypatch, builds=2, edit=chapter)
    result = invoke(make_project.root, "--format", "epub")
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    epub = make_project.root / "dist" / "demo.epub"
    assert [line.split(" in ")[0] for line in lines[::2]] == ["built demo", "rebuilt demo"]
    assert all(line.endswith(" s: 1 file") for line in lines[::2])
    assert lines[1::2] == [f"wrote {epub}"] * 2
    assert result.stderr == "watching for changes; press Ctrl-C to stop\n"


def test_cli_ctrl_c_stops_with_exit_0(make_project, monkeypatch):
    make_project.book()

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(watching, "watch", interrupted)
    result = invoke(make_project.root)
    assert result.exit_code == 0
    assert result.stdout == "stopped watching\n"


def test_cli_prints_build_errors_like_build(make_project, monkeypatch):
    make_project.book(chapters={"01-one.md": "# One\n\n[x](#gone)\n"})
    stop_after(monkeypatch, builds=1)
    result = invoke(make_project.root, "--format", "epub")
    assert result.exit_code == 0
    assert result.stderr.splitlines()[1:] == [
        "error: book/demo/01-one.md:3: broken internal link '#gone': no such id in the book"
    ]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["nope"], "error: unknown book id 'nope' (known: demo)"),
        (["--format", "pdf"], "error: unknown format 'pdf' (known: epub, kepub, azw3, mobi, docx)"),
    ],
)
def test_cli_bad_usage_exits_2_before_building(make_project, monkeypatch, args, message):
    make_project.book()
    stop_after(monkeypatch, builds=1)
    result = invoke(make_project.root, *args)
    assert result.exit_code == 2
    assert result.stderr.strip() == message
    assert not (make_project.root / "dist").exists()


def test_cli_help_has_examples():
    result = runner.invoke(app, ["watch", "--help"])
    assert result.exit_code == 0
    assert "Example" in result.output
