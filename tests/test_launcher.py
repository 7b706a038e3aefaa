"""The `ebook` entry point: an unchanged rebuild is answered from its record, and only then."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from ebook_builder import cli, launcher


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
    return Ebook(make_project.root, monkeypatch, capsys)


def test_an_unchanged_rebuild_is_answered_without_the_cli(ebook):
    first = ebook("build", "-f", "epub")
    assert first == ["wrote dist/demo.epub"]
    assert ebook.exit_code in (0, None)
    assert ebook("build", "-f", "epub") == first
    assert ebook.cli_runs == 1


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
