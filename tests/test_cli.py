"""The `ebook` command: help, success paths, and the bad-input matrix."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from ebook_builder.cli import app

runner = CliRunner()


def invoke(root: Path, *args: str):
    return runner.invoke(app, [*args, "--project", str(root)])


@pytest.mark.parametrize("command", ["build", "check", "import", "new", "cover"])
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


def write(path: Path, text: str | bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text, encoding="utf-8")


def break_yaml(root: Path) -> None:
    write(root / "metadata/demo.yaml", "title: Demo\nchapters: [01-one.md\n")


def drop_title(root: Path) -> None:
    path = root / "metadata/demo.yaml"
    path.write_text(path.read_text().replace("title: Demo Book\n", ""))


def list_chapter(entry: str):
    def change(root: Path) -> None:
        path = root / "metadata/demo.yaml"
        path.write_text(path.read_text().replace("- 01-one.md", f"- 01-one.md\n- {entry}"))

    return change


def chapter_text(text: str | bytes):
    def change(root: Path) -> None:
        write(root / "book/demo/01-one.md", text)

    return change


def unchanged(root: Path) -> None:
    """No change to the sources: the error comes from the command line."""


BAD_INPUTS = {
    "malformed YAML": (break_yaml, [], 2, "metadata/demo.yaml:2: malformed YAML"),
    "missing title": (drop_title, [], 1, "metadata/demo.yaml:1: missing required key 'title'"),
    "unknown book id": (unchanged, ["nope"], 2, "unknown book id 'nope' (known: demo)"),
    "unknown format": (unchanged, ["--format", "pdf"], 2, "unknown format 'pdf' (known: epub)"),
    "chapter file missing": (
        list_chapter("02-gone.md"),
        [],
        2,
        "metadata/demo.yaml:7: missing chapter file book/demo/02-gone.md",
    ),
    "chapter path escaping book/": (
        list_chapter("../../metadata/demo.yaml"),
        [],
        1,
        "metadata/demo.yaml:7: chapter '../../metadata/demo.yaml' must be a relative path inside",
    ),
    "non-UTF-8 chapter": (
        chapter_text(b"# One\n\nCaf\xe9\n"),
        [],
        2,
        "book/demo/01-one.md:3: not UTF-8",
    ),
    "broken internal link": (
        chapter_text("# One\n\nSee [there](#there).\n"),
        [],
        1,
        "book/demo/01-one.md:3: broken internal link '#there'",
    ),
    "missing image": (
        chapter_text("# One\n\n![A map](map.png)\n"),
        [],
        1,
        "book/demo/01-one.md:3: missing image 'map.png'",
    ),
    "raw script": (
        chapter_text("# One\n\n<script>alert('x')</script>\n"),
        [],
        1,
        "book/demo/01-one.md:3: <script> is not allowed in a book",
    ),
}


@pytest.mark.parametrize("case", BAD_INPUTS, ids=list(BAD_INPUTS))
def test_bad_input_gets_one_clear_line_and_keeps_earlier_output(make_project, case):
    change, args, code, message = BAD_INPUTS[case]
    make_project.book(title="Demo Book")
    root = make_project.root
    assert invoke(root, "build").exit_code == 0
    dist = root / "dist"
    before = (dist / "demo.epub").read_bytes()

    change(root)
    result = invoke(root, "build", *args)

    assert result.exit_code == code, result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, lines
    assert lines[0].startswith("error: " + message), lines[0]
    assert "Traceback" not in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)
    assert sorted(p.name for p in dist.iterdir()) == ["demo.epub"]
    assert (dist / "demo.epub").read_bytes() == before


def test_check_lists_every_problem_of_every_book(make_project):
    make_project.book("a-book", chapters={"01.md": "# A\n\n[x](#gone)\n"})
    make_project.book("b-book", chapters={"01.md": "Text without heading.\n"})
    result = invoke(make_project.root, "check")
    assert result.exit_code == 1
    assert result.stderr.splitlines() == [
        "error: book/a-book/01.md:3: broken internal link '#gone': no such id in the book",
        "error: book/b-book/01.md: chapter has no heading: start it with '# Title'",
    ]
