"""The `ebook` command: help, success paths, and the bad-input matrix."""

from __future__ import annotations

import traceback
from pathlib import Path

import pytest
from typer.testing import CliRunner

from ebook_builder import api
from ebook_builder.cli import app
from ebook_builder.errors import ExitCode
from ebook_builder.formats import FORMATS

runner = CliRunner()


def invoke(root: Path, *args: str):
    return runner.invoke(app, [*args, "--project", str(root)])


@pytest.mark.parametrize("command", ["build", "watch", "check", "import", "new", "cover"])
def test_every_command_has_help_with_examples(command):
    result = runner.invoke(app, [command, "--help"])
    assert result.exit_code == 0
    assert "Example" in result.output


def test_build_then_check(make_project):
    make_project.book()
    result = invoke(make_project.root, "build")
    assert result.exit_code == 0, result.output
    assert (make_project.root / "dist" / "demo.epub").is_file()
    assert "wrote" in result.stdout
    result = invoke(make_project.root, "check")
    assert result.exit_code == 0
    assert result.stdout.strip() == "demo: ok (1 chapters)"


def test_build_with_out_and_format(make_project, tmp_path):
    make_project.book()
    result = invoke(make_project.root, "build", "demo", "--format", "epub", "--out", str(tmp_path))
    assert result.exit_code == 0, result.output
    assert (tmp_path / "demo.epub").is_file()


def test_new_scaffolds_a_book_that_builds(tmp_path):
    result = invoke(tmp_path, "new", "my-book", "--title", "My Book: A Story")
    assert result.exit_code == 0, result.output
    assert (tmp_path / "covers" / "my-book.jpg").is_file()
    assert invoke(tmp_path, "build").exit_code == 0
    again = invoke(tmp_path, "new", "my-book")
    assert again.exit_code == 2
    assert again.stderr.strip() == "error: book 'my-book' already exists"


def test_check_lists_every_problem_of_every_book(make_project):
    make_project.book("a-book", chapters={"01.md": "# A\n\n[x](#gone)\n"})
    make_project.book("b-book", chapters={"01.md": "Text without heading.\n"})
    result = invoke(make_project.root, "check")
    assert result.exit_code == 1
    assert result.stderr.splitlines() == [
        "error: book/a-book/01.md:3: broken internal link '#gone': no such id in the book",
        "error: book/b-book/01.md:1: chapter has no heading: start it with '# Title'",
    ]


def test_the_format_help_names_every_format():
    result = runner.invoke(app, ["build", "--help"])
    words = " ".join(result.output.replace("│", " ").split())
    assert f"Formats, comma-separated: {', '.join(FORMATS)} (default: all)." in words


def test_a_bug_is_an_internal_error_not_a_problem_of_the_book(make_project, monkeypatch):
    def broken(*args, **kwargs):
        raise ZeroDivisionError("division by zero")

    make_project.book()
    monkeypatch.setattr(api, "build", broken)
    result = invoke(make_project.root, "build")
    assert result.exit_code == ExitCode.INTERNAL_ERROR == 70
    assert result.stderr.splitlines() == [
        "error: internal error: ZeroDivisionError('division by zero') "
        "(a bug; set EBOOK_DEBUG=1 to see where)"
    ]


def test_ctrl_c_exits_130_and_says_nothing_was_replaced(make_project, monkeypatch):
    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    make_project.book()
    monkeypatch.setattr(api, "build", interrupted)
    result = invoke(make_project.root, "build")
    assert result.exit_code == ExitCode.INTERRUPTED == 130
    assert result.stderr.strip() == "error: interrupted; earlier outputs are unchanged"


@pytest.mark.parametrize("debug", [False, True])
def test_a_bug_in_the_docx_thread_shows_where_it_failed_with_ebook_debug(
    make_project, monkeypatch, debug
):
    """The DOCX is written in a thread (`OutputFormat.tools`); with EBOOK_DEBUG=1 the
    traceback still runs down to the writer's own frame (issue 17, item 14)."""
    make_project.book()

    def exploding_docx_writer(converted, path):
        raise ZeroDivisionError("division by zero")

    monkeypatch.setattr(FORMATS["docx"].load(), FORMATS["docx"].writer, exploding_docx_writer)
    if debug:
        monkeypatch.setenv("EBOOK_DEBUG", "1")
    else:
        monkeypatch.delenv("EBOOK_DEBUG", raising=False)
    result = invoke(make_project.root, "build", "--format", "epub,docx")
    if debug:
        assert isinstance(result.exception, ZeroDivisionError)
        frames = traceback.extract_tb(result.exc_info[2])
        assert frames[-1].name == "exploding_docx_writer"
        assert "_write_all" in [frame.name for frame in frames]
    else:
        assert result.exit_code == ExitCode.INTERNAL_ERROR
        assert result.stderr.splitlines() == [
            "error: internal error: ZeroDivisionError('division by zero') "
            "(a bug; set EBOOK_DEBUG=1 to see where)"
        ]
