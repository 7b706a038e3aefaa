"""Stage 3: every problem is found, with the Markdown file and line, before packaging."""

from __future__ import annotations

import pytest

from ebook_builder import api
from ebook_builder.errors import BookError
from tests.helpers import png_header


def problems(make_project, text: str, files: dict[str, bytes] | None = None) -> list[str]:
    book_dir = make_project.book(chapters={"01-one.md": text})
    for name, data in (files or {}).items():
        (book_dir / name).parent.mkdir(parents=True, exist_ok=True)
        (book_dir / name).write_bytes(data)
    with pytest.raises(BookError) as caught:
        api.check(make_project.root)
    return caught.value.lines()


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("# T\n\nSee [x](#nowhere).\n", "01-one.md:3: broken internal link '#nowhere'"),
        ("# T\n\n[x](other.md)\n", "01-one.md:3: link 'other.md' points to a file that is not"),
        ("# T\n\n[x](01-one.md#nope)\n", "01-one.md:3: broken internal link '01-one.md#nope'"),
        ("# T\n\n<script>alert(1)</script>\n", "01-one.md:3: <script> is not allowed"),
        ('# T\n\n<iframe src="x"></iframe>\n', "01-one.md:3: <iframe> is not allowed"),
        ('# T\n\n<object data="x"></object>\n', "01-one.md:3: <object> is not allowed"),
        ('# T\n\n<form action="x"></form>\n', "01-one.md:3: <form> is not allowed"),
        ('# T\n\n<p onclick="x()">a</p>\n', "01-one.md:3: event handler attribute 'onclick'"),
        ("# T\n\n[x](javascript:alert(1))\n", "01-one.md:3: href='javascript:alert(1)'"),
        ("# T\n\n### Skipped\n", "01-one.md:3: heading level skips from 1 to 3"),
        ("Just text.\n", "01-one.md:1: chapter has no heading"),
        ("# T {#a}\n\n## U {#a}\n", "01-one.md:3: duplicate id 'a'"),
        ("# T\n\n![](pic.png)\n", "01-one.md:3: image 'pic.png' has no alt text"),
        ("# T\n\n![A pic](gone.png)\n", "01-one.md:3: missing image 'gone.png'"),
        ("# T\n\n![A pic](../../x.png)\n", "01-one.md:3: image '../../x.png' lies outside"),
        ("# T\n\n![A pic](https://x.org/a.png)\n", "must be a file inside the book folder"),
    ],
)
def test_problem_is_reported_with_file_and_line(make_project, text, expected):
    lines = problems(make_project, text)
    assert any(expected in line for line in lines), lines
    assert all(line.startswith("book/demo/01-one.md") for line in lines)


def test_every_problem_is_reported_at_once(make_project):
    lines = problems(make_project, "# T\n\n[a](#x) [b](#y)\n\n<script></script>\n")
    assert len(lines) == 3


def test_bad_images_are_refused(make_project):
    files = {"text.png": b"not an image", "bomb.png": png_header(20_000, 20_000)}
    lines = problems(make_project, "# T\n\n![A](text.png)\n\n![B](bomb.png)\n", files)
    assert "book/demo/01-one.md:3: image 'text.png': not a readable image" in lines
    assert "01-one.md:5: image 'bomb.png': image is too large to decode safely" in " ".join(lines)


def test_duplicate_ids_across_chapters_name_both_files(make_project):
    make_project.book(chapters={"a.md": "# A {#same}\n", "b.md": "# B {#same}\n"})
    with pytest.raises(BookError) as caught:
        api.check(make_project.root)
    assert caught.value.lines() == [
        "book/demo/b.md:1: duplicate id 'same' (first in book/demo/a.md)"
    ]


def test_links_across_chapters_resolve(make_project):
    make_project.book(
        chapters={
            "a.md": "# A\n\n[to b](#b-part) [file](b.md) [frag](b.md#b-part)\n",
            "b.md": "# B\n\n## B part\n",
        }
    )
    (converted,) = api.check(make_project.root)
    assert [c.title for c in converted.chapters] == ["A", "B"]


@pytest.mark.parametrize("heading", ["# {#only-an-id}", "# \u200f", "# \\"])
def test_headings_need_visible_text(make_project, heading):
    lines = problems(make_project, f"{heading}\n\nText.\n")
    assert any("a level-1 heading has no text" in line for line in lines), lines
