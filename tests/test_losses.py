"""What the conversion loses is said, at the chapter's line, and never stops a build.

Issue 17, items 9 (pandoc's warnings) and 13 (a `% Title` block dropped without a word).
"""

from __future__ import annotations

import json

from typer.testing import CliRunner

from ebook_builder.cli import app

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
