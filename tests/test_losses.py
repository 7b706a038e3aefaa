"""What the conversion loses is said, at the chapter's line, and never stops a build.

Issue 17, items 9 (pandoc's warnings) and 13 (a `% Title` block dropped without a word).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from ebook_builder.cli import app
from ebook_builder.losses import pandoc_warning
from ebook_builder.model import ChapterSource

runner = CliRunner()

CHAPTER = """% A Title Block
% Its Author

# One

Text[^1] and again[^1], $\\frac{1}{$ math.

[^1]: First.
[^1]: Second.

[^2]: Never used.

[r]: /a
[r]: /b

---
subtitle: dropped
---

<!-- an author's comment -->

```
---
title: in code, shown
---
```
"""
EXPECTED = [
    "warning: book/demo/01-one.md:1: a '% title' block is ignored: the book's title comes "
    "from its metadata file; start the chapter with a '# Title' heading",
    "warning: book/demo/01-one.md:6: could not convert TeX math \\frac{1}{, rendering as TeX",
    "warning: book/demo/01-one.md:9: duplicate note reference '1'",
    "warning: book/demo/01-one.md:11: note with key '2' defined but not used",
    "warning: book/demo/01-one.md:14: duplicate link reference '[r]'",
    "warning: book/demo/01-one.md:16: a YAML metadata block in a chapter is ignored: the "
    "book's metadata comes from its metadata file",
]


def test_check_and_build_warn_at_each_line_and_exit_0(make_project, counted, epubcheck):
    make_project.book(chapters={"01-one.md": CHAPTER})
    root = str(make_project.root)
    converted = []
    for command in (["check"], ["check"], ["build", "--format", "epub"]):
        result = runner.invoke(app, [*command, "-C", root])
        assert result.exit_code == 0, result.output
        assert result.stderr.splitlines() == EXPECTED, command
        converted.append(len(counted))
    # pandoc reads the chapter twice the first time (HTML, and its tree for raw TeX)
    assert counted[0] == "% A Title Block"
    assert converted[0] == converted[-1], "the second check and the build hit the cache"
    assert epubcheck.check(make_project.root / "dist" / "demo.epub").clean


def test_check_json_lists_the_warnings(make_project):
    make_project.book(chapters={"01-one.md": CHAPTER})
    result = runner.invoke(app, ["check", "--json", "-C", str(make_project.root)])
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["ok"] is True
    assert [(w["line"], w["path"]) for w in report["warnings"]] == [
        (line, "book/demo/01-one.md") for line in (1, 6, 9, 11, 14, 16)
    ]


def test_warnings_show_beside_the_errors_and_keep_the_errors_exit_code(make_project):
    make_project.book(chapters={"01-one.md": "% Title\n\n# One\n\n[a](#gone)\n"})
    result = runner.invoke(app, ["check", "-C", str(make_project.root)])
    assert result.exit_code == 1
    lines = result.stderr.splitlines()
    assert lines[0].startswith("warning: book/demo/01-one.md:1: a '% title' block is ignored")
    assert lines[1].startswith("error: book/demo/01-one.md:5: broken internal link '#gone'")


def test_an_unclosed_div_is_warned_at_its_opening_and_closed_at_the_chapter_end(make_project):
    """Issue 18: pandoc names where a div opens and where it closed it, a line past the
    chapter's last (it reads on a few blank lines): the opening is the line to edit."""
    make_project.book(chapters={"01-one.md": "# One\n\n::: outer\n\ntext\n\n::: inner\n\nmore\n"})
    result = runner.invoke(app, ["check", "-C", str(make_project.root)])
    assert result.exit_code == 0, result.output
    assert result.stderr.splitlines() == [
        f"warning: book/demo/01-one.md:{line}: div unclosed at the end of the chapter, "
        "closing implicitly"
        for line in (3, 7)
    ]


@pytest.mark.parametrize(
    ("message", "expected"),
    [
        (  # pandoc's own, for a chapter of 120 lines
            "Div at line 1 column 1 unclosed at line 123 column 1, closing implicitly.",
            (1, "div unclosed at the end of the chapter, closing implicitly"),
        ),
        (
            "Div at line 7 column 1 unclosed at line 120 column 1, closing implicitly.",
            (7, "div unclosed at line 120, closing implicitly"),
        ),
        ("Duplicate note reference '1' at line 9 column 1", (9, "duplicate note reference '1'")),
    ],
)
def test_pandoc_positions_are_the_chapters_lines(message, expected):
    source = ChapterSource("01.md", Path("01.md"), Path("book/demo/01.md"), "text\n" * 120)
    warning = pandoc_warning(source, message)
    assert (warning.line, warning.message) == expected


def test_a_chapter_pandoc_refuses_is_named_at_its_line_among_cached_ones(make_project):
    """Issue 18: pandoc places a YAML block's error at a line of the block, itself at a
    line of the chapter; the chapter is found among those sent to pandoc when the others
    come from the cache."""
    book = make_project.book(chapters={"01-one.md": "# One\n", "02-two.md": "# Two\n"})
    root = str(make_project.root)
    assert runner.invoke(app, ["check", "-C", root]).exit_code == 0  # both cached
    (book / "02-two.md").write_text("# Two\n\n---\na: 1\n  b: 2\n---\n")
    result = runner.invoke(app, ["check", "-C", root])
    assert result.exit_code == 1, result.output
    assert result.stderr.splitlines() == [
        "error: book/demo/02-two.md:5: error parsing YAML metadata: YAML parse exception: "
        "mapping values are not allowed in this context; a --- line followed by text opens "
        "a YAML block: a rule needs a blank line after it"
    ]
