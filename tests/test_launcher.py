"""The `ebook` entry point: an unchanged rebuild is answered from its record, and only then."""

from __future__ import annotations

import os
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import pytest

from ebook_builder import api, cli, launcher, memo


class Ebook:
    """Runs the `ebook` command in-process, as the console script does."""

    def __init__(self, root: Path, monkeypatch: pytest.MonkeyPatch, capsys) -> None:
        self.root = root
        self.monkeypatch = monkeypatch
        self.capsys = capsys
        self.cli_runs = 0
        self.exit_code: object = None
        real = cli.app

        def counting_app(*args: object, **kwargs: object) -> None:
            self.cli_runs += 1
            real(*args, **kwargs)

        monkeypatch.setattr(cli, "app", counting_app)
        monkeypatch.chdir(root)

    def __call__(self, *args: str) -> list[str]:
        self.monkeypatch.setattr(sys, "argv", ["ebook", *args])
        try:
            launcher.main()
        except SystemExit as exit:
            self.exit_code = exit.code
        return self.capsys.readouterr().out.splitlines()


@pytest.fixture
def ebook(make_project, monkeypatch, capsys) -> Ebook:
    make_project.book(chapters={"01-one.md": "# One\n\nText.\n", "02-two.md": "# Two\n\nMore.\n"})
    settle()
    return Ebook(make_project.root, monkeypatch, capsys)


def settle() -> None:
    """Let the files just written age past the slack within which a build is not recorded."""
    time.sleep(2 * memo.CLOCK_SLACK_NS / 1e9)


def test_an_unchanged_rebuild_is_answered_without_the_cli(ebook):
    first = ebook("build", "-f", "epub")
    assert first == ["wrote dist/demo.epub"]
    assert ebook.exit_code in (0, None)
    assert ebook("build", "-f", "epub") == first
    assert ebook.cli_runs == 1


def test_a_chapter_saved_during_the_build_is_not_served_stale(ebook, monkeypatch):
    chapter = ebook.root / "book/demo/02-two.md"
    real_build = api.build

    def build_while_saving(*args, **kwargs):
        written = real_build(*args, **kwargs)  # made from the old text
        chapter.write_text("# Two\n\nSaved during the build.\n")
        return written

    monkeypatch.setattr(api, "build", build_while_saving)
    ebook("build", "-f", "epub")
    monkeypatch.setattr(api, "build", real_build)
    ebook("build", "-f", "epub")
    assert ebook.cli_runs == 2
    assert b"Saved during the build." in zipfile_text(ebook.root / "dist/demo.epub")


def zipfile_text(path: Path) -> bytes:
    with zipfile.ZipFile(path) as archive:
        return b"".join(archive.read(name) for name in archive.namelist())


def test_a_changed_chapter_runs_the_build(ebook):
    ebook("build", "-f", "epub")
    before = (ebook.root / "dist/demo.epub").read_bytes()
    (ebook.root / "book/demo/02-two.md").write_text("# Two\n\nChanged.\n")
    ebook("build", "-f", "epub")
    assert ebook.cli_runs == 2
    assert (ebook.root / "dist/demo.epub").read_bytes() != before


@pytest.mark.parametrize(
    "change",
    [
        lambda root: (root / "book/demo/picture.png").write_bytes(b"new file in the book"),
        lambda root: (root / "metadata/other.yaml").write_text("title: incomplete\n"),
        lambda root: (root / "dist/demo.epub").write_bytes(b"edited output"),
        lambda root: (root / "dist/demo.epub").unlink(),
        lambda root: [p.write_text("{not json") for p in (root / ".cache/commands").iterdir()],
    ],
    ids=["file added", "book added", "output edited", "output removed", "record damaged"],
)
def test_anything_else_runs_the_real_command(ebook, change):
    ebook("build", "-f", "epub")
    change(ebook.root)
    ebook("build", "-f", "epub")
    assert ebook.cli_runs == 2


def test_other_commands_and_cold_builds_always_run(ebook, monkeypatch):
    ebook("build", "-f", "epub", "--no-cache")
    ebook("build", "-f", "epub", "--no-cache")
    assert ebook.cli_runs == 2
    ebook("build", "-f", "epub")
    ebook("build", "-f", "docx")  # another command line: its own record
    ebook("check")
    ebook("check")
    assert ebook.cli_runs == 6
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")
    ebook("build", "-f", "epub")
    assert ebook.cli_runs == 7


def test_a_project_elsewhere_is_never_recorded(ebook, tmp_path, monkeypatch):
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    ebook("build", "-f", "epub", "-C", str(ebook.root))
    ebook("build", "-f", "epub", "-C", str(ebook.root))
    assert ebook.cli_runs == 2
    assert not (elsewhere / ".cache").exists()


def test_a_chapter_rewritten_with_the_same_size_runs_the_build(ebook):
    ebook("build", "-f", "epub")
    chapter = ebook.root / "book/demo/02-two.md"
    chapter.write_text("# Two\n\nLess.\n")  # as long as "More."
    ebook("build", "-f", "epub")
    assert ebook.cli_runs == 2


def test_an_old_mtime_restored_by_hand_does_not_hide_an_edit(ebook):
    ebook("build", "-f", "epub")
    chapter = ebook.root / "book/demo/02-two.md"
    before = chapter.stat()
    chapter.write_text("# Two\n\nLess.\n")
    os.utime(chapter, ns=(before.st_atime_ns, before.st_mtime_ns))
    ebook("build", "-f", "epub")
    assert ebook.cli_runs == 2


@pytest.fixture
def hashed(monkeypatch) -> list[str]:
    """The files a replay reads to hash them, as paths relative to the project."""
    calls: list[str] = []
    real = memo.file_hash

    def counting_hash(path: str) -> str:
        calls.append(Path(path).as_posix())
        return real(path)

    monkeypatch.setattr(memo, "file_hash", counting_hash)
    return calls


def test_files_whose_stat_is_unchanged_are_not_read_again(ebook, hashed):
    ebook("build", "-f", "epub")
    hashed.clear()
    ebook("build", "-f", "epub")
    assert ebook.cli_runs == 1
    assert hashed == []


def test_a_touched_file_is_hashed_and_then_replayed(ebook, hashed):
    ebook("build", "-f", "epub")
    os.utime(ebook.root / "book/demo/01-one.md")
    hashed.clear()
    assert ebook("build", "-f", "epub") == ["wrote dist/demo.epub"]
    assert ebook.cli_runs == 1
    assert hashed == ["book/demo/01-one.md"]


def test_a_file_changed_as_the_record_was_made_is_always_hashed(ebook, hashed, monkeypatch):
    # The file system's clock reads the chapter's own time when the record is made: the
    # chapter could change again within that tick without its stat changing.
    chapter = ebook.root / "book/demo/02-two.md"
    changed = max(chapter.stat().st_mtime_ns, chapter.stat().st_ctime_ns)
    monkeypatch.setattr(memo, "_clock", lambda path, after=-1: changed)
    ebook("build", "-f", "epub")
    for _ in range(2):
        hashed.clear()
        ebook("build", "-f", "epub")
        assert "book/demo/02-two.md" in hashed
    assert ebook.cli_runs == 1


def test_a_replay_loads_neither_the_cli_nor_pathlib_nor_hashlib(ebook):
    first = ebook("build", "-f", "epub")
    script = (
        "import sys\n"
        "from ebook_builder.launcher import main\n"
        "sys.argv = ['ebook', 'build', '-f', 'epub']\n"
        "main()\n"
        "print(sorted({'typer', 'pathlib', 'hashlib'} & set(sys.modules)))\n"
    )
    run = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True)
    assert run.stdout.splitlines() == [*first, "[]"]
