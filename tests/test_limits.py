"""Stage 2's guard: what pandoc cannot read in time or memory is refused at its line."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from ebook_builder import limits
from ebook_builder.convert import PANDOC_FROM
from ebook_builder.limits import pandoc_problem
from ebook_builder.model import ChapterSource
from ebook_builder.pandoc import convert_texts


def source(text: str) -> ChapterSource:
    return ChapterSource("01.md", Path("01.md"), Path("01.md"), text)


# Issue 18: nesting counted as pandoc nests it, by markers, by indentation alone (which
# pandoc measures from the column after a marker and its spaces, tabs at stops of 4), and
# through lazy lines; fenced code only once closed. `_pandoc_depth` is the reference.
NESTING = {
    "items by indentation": "- a\n  - b\n    - c\n",
    "items short of the content column": "- a\n - b\n  - c\n",
    "wide marker": "-   a\n  - b\n    - c\n",
    "ordered, two digits": "10. a\n   - b\n    - c\n",
    "code in an item": "- a\n      - b\n",
    "tabs": "- a\n\t- b\n\t\t- c\n",
    "lazy line": "- a\nlazy\n  - b\n",
    "after a blank line": "- a\n\ntext\n  - b\n",
    "fancy and example markers": "(a) x\n    ii. y\n        (@) z\n            - w\n",
    "lists in a quote": "> - a\n>   - b\n",
    "quote in an item": "- > a\n  > - b\n",
    "lazy quote lines lose their indentation": "> - a\n  - b\n    - c\n",
    "closed fence": "```\n- a\n  - b\n```\n- c\n  - d\n",
    "unclosed fence": "~~~\n\n- a\n  - b\n    - c\n",
    "fenced divs": "::: a\n::: b\n- x\n:::\n:::\n",
}


def _pandoc_depth(node: Any, depth: int = 0) -> int:
    """How deep pandoc's JSON tree nests lists, block quotes and divs."""
    if isinstance(node, dict):
        deeper = node.get("t") in ("BulletList", "OrderedList", "BlockQuote", "Div")
        return _pandoc_depth(node.get("c"), depth + deeper)
    if isinstance(node, list):
        return max([depth, *(_pandoc_depth(child, depth) for child in node)])
    return depth


@pytest.mark.parametrize("text", NESTING.values(), ids=list(NESTING))
def test_nesting_is_counted_as_pandoc_nests(monkeypatch, text):
    (tree,) = convert_texts([text], PANDOC_FROM, "json")
    depth = _pandoc_depth(json.loads(tree)["blocks"])
    monkeypatch.setattr(limits, "MAX_DEPTH", depth)
    assert pandoc_problem(source(text)) is None
    monkeypatch.setattr(limits, "MAX_DEPTH", depth - 1)
    problem = pandoc_problem(source(text))
    assert problem is not None and problem.line


# Pandoc's work on raw HTML (measured with pandoc 3.9: see `limits`): what a real chapter
# holds reads, what would take pandoc minutes or gigabytes is refused at its line.
PROSE = "\n\n".join(["word " * 100] * 2000)  # 1 MB of paragraphs, without markup


@pytest.mark.parametrize(
    "text",
    [
        "\n\n".join(['<span class="x">w</span> ' + "word " * 50] * 2000),  # 550 KB, 1.1 s
        "\n\n".join([("word " * 9 + "word<br/>\n") * 10] * 2000),  # 1.1 MB of verse, 2.5 s
        "\n\n".join(["<!-- a comment -->"] * 2000) + "\n\n" + PROSE,  # 1.2 s
        PROSE + "\n\n" + "\n\n".join(['<span class="x">w</span>'] * 4000),  # 1.9 s
        "A < B, and `a <b` in code,\n\n```\n<a\n```\n\n" + PROSE,
        "x \\<a " * 1000 + PROSE,  # escaped: text, not a tag
        "\n\n".join(["'Tis so, 'twas said."] * 2000) + "\n\n" + PROSE,  # 0.7 s
        "\\begin{center}x\\end{center}\n\n" * 2000 + PROSE,
        "\\begin{a}\n\n" + PROSE[:500_000],  # one left open: 0.9 s
        "".join(f"Text[^{n}].\n\n[^{n}]: A note.\n\n" for n in range(10_000)),
    ],
    ids=[
        "spans",
        "verse lines",
        "comments",
        "tags at the end",
        "code",
        "escaped",
        "quotes in short paragraphs",
        "closed TeX environments",
        "a TeX environment left open",
        "10,000 notes",
    ],
)
def test_raw_html_pandoc_reads_in_time_is_accepted(text):
    assert pandoc_problem(source(text)) is None


@pytest.mark.parametrize(
    ("text", "line", "says"),
    [
        ("\n\n".join(['<span class="x">w</span>'] * 2000) + "\n\n" + PROSE, 1819, "raw HTML"),
        ("\n\n".join(['<div id="d">\nw\n</div>'] * 2000) + "\n\n" + PROSE, 3657, "raw HTML"),
        ("\n\n".join(['<a href="#x">w</a> ' + "word " * 10] * 40000), 3587, "raw HTML"),
        (
            "\n\n".join(["<a"] * 50) + "\n\n" + PROSE,
            13,
            "'<a' opens an HTML tag that nothing closes",
        ),
        ("\n\n".join(["</"] * 50) + "\n\n" + PROSE, 13, "'<' opens an HTML tag"),
        ("\n\n".join(["<!--"] * 50) + "\n\n" + PROSE, 13, "'<!--' opens a comment"),
        ("\n\n".join(["<?"] * 50) + "\n\n" + PROSE, 13, "'<?' opens a processing instruction"),
        ("Text.\n\n<![CDATA[x]]>\n", 3, "CDATA"),
        ("<!DOCTYPE html>\n", 1, "declaration"),
        ("x 'tis y " * 200 + "word " * 20_000 + "\n\n" + PROSE, 1, '"\'" opens a quotation'),
        ("\\begin{a}\n\n" * 10 + PROSE[:500_000], 7, "'\\begin{a}' opens a TeX environment"),
        ("\\a{x " * 200 + "\n\n" + PROSE, 1, "'\\a{' opens a TeX command's argument"),
        ("a < b\n\n" * 50 + PROSE, 13, "'<' opens an HTML tag"),
    ],
    ids=[
        "spans",
        "divs",
        "links",
        "unclosed tags",
        "unclosed end tags",
        "comments",
        "instructions",
        "CDATA",
        "DOCTYPE",
        "quotes in a long paragraph",
        "TeX environments left open",
        "TeX arguments left open",
        "less-than signs",
    ],
)
def test_raw_html_pandoc_reads_slowly_is_refused_at_its_line(text, line, says):
    problem = pandoc_problem(source(text))
    assert problem is not None and problem.line == line and says in problem.message
    assert len(problem.message) < 200
