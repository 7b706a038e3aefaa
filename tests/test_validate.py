"""Stage 3: every problem is found, with the Markdown file and line, before packaging."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from ebook_builder import api
from ebook_builder.errors import BookError
from tests.helpers import ProjectMaker, png_header


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


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("<center>a</center>", "5: <center> is not an element of HTML (an obsolete"),
        ('<p><font color="red">a</font></p>', "5: <font> is not an element of HTML"),
        ("a <tt>b</tt> c", "5: <tt> is not an element of HTML"),
        ("<P>a</P>", "5: <P> is not an element of XHTML, whose names are lower case: <p>"),
        ("[a]{dir=sideways}", "5: dir='sideways' on <span> is not valid HTML: the value must be"),
        ('<span tabindex="first">a</span>', "5: tabindex='first' on <span> is not valid HTML"),
        ('<span lang="not a tag">a</span>', "5: lang='not a tag' on <span> is not valid HTML"),
        ('<span id="a b">a</span>', "5: id='a b' on <span> is not valid HTML"),
        (
            '<ol reversed="yes"><li>a</li></ol>',
            "5: reversed='yes' on <ol> is not valid HTML: write reversed=\"reversed\"",
        ),
        (
            '<img src="p.png" alt="A" width="50%"/>',
            "5: width='50%' on <img> is not valid HTML: the value must be a number of pixels",
        ),
        (
            '<table><tr><th scope="top">a</th></tr></table>',
            "5: scope='top' on <th> is not valid HTML",
        ),
        ('<time datetime="yesterday">a</time>', "5: datetime='yesterday' on <time> is not valid"),
        ('<q cite="http://example.com/">a</q>', "5: cite='http://example.com/' on <q>: EPUBCheck"),
        (
            '<map name="m"><area href="#gone" alt="A" shape="rect" coords="0,0,1,1"/></map>',
            "5: broken internal link '#gone'",
        ),
    ],
)
def test_markup_html_does_not_have_is_reported(make_project, text, expected):
    """What cannot be kept validly (an element HTML does not have, a value its attribute
    refuses) stops the book at its line; EPUBCheck would refuse it (RSC-005)."""
    lines = problems(make_project, f"# T\n\nText.\n\n{text}\n", {"p.png": png_header(1, 1)})
    assert any(expected in line for line in lines), lines


# Attributes and markup of old web pages and of pandoc's attribute syntax that `ebook check`
# passes: each a chapter of one book, built in every format and checked by EPUBCheck once.
HTML_ATTRIBUTE_CHAPTERS = {
    "span-target": '[x]{target="_blank"}',
    "span-known-names": "[x]{width=3 colspan=2 datetime=2020 start=3 checked=checked media=print}",
    "div-width": "::: {width=3 target=_blank}\ntext\n:::",
    "heading-width": "## Sub {width=3}\n\ntext",
    "link-width": "[l](https://example.com){width=3 target=_blank}",
    "code-target": "```{.py target=x}\nprint(1)\n```\n\n`x`{target=y}",
    "image-attributes": "![alt](p.png){align=left border=0 target=x}",
    "p-align": '<p align="center">x</p>\n\n<h2 align="right">Sub</h2>',
    "old-table": (
        '<table border="2" cellpadding="3" width="80%" summary="s" align="center">'
        '<caption align="top">c</caption><colgroup><col width="20"/></colgroup>'
        '<tr valign="top" bgcolor="red"><td width="50%" nowrap="nowrap" align="left">a</td>'
        '<th abbr="a" axis="b">h</th></tr></table>'
    ),
    "old-inline": 'a<br clear="all"/>b <span href="x" target="y">c</span>',
    "old-rule": '<hr noshade="noshade" size="1" width="50%" align="center"/>',
    "old-image": '<img src="p.png" alt="a" border="0" align="left" hspace="4" width="10"/>',
    "old-lists": '<ul type="disc"><li type="a">x</li></ul><pre width="80">y</pre>',
    "old-links": '<a name="n" target="_b">t</a> <a href="#old-links" charset="utf-8" rev="x">u</a>',
    "upper-case-names": '<p ALIGN="center" Title="t">x</p>',
    "dates": (
        'a <time datetime="1851-10-18">x</time> <time datetime="PT4H18M">y</time>'
        ' <time datetime="--10-18">z</time> <del datetime="1851-10-18T09:30Z">w</del>'
    ),
    "image-map": (
        '<p><img src="p.png" alt="a" usemap="#m"/></p><map name="m">'
        '<area shape="rect" coords="0,0,1,1" alt="x" target="_b"/></map>'
    ),
}


@pytest.fixture(scope="module")
def html_attribute_book(tmp_path_factory, epubcheck) -> dict[str, list[dict[str, Any]]]:
    """EPUBCheck's messages on the book of `HTML_ATTRIBUTE_CHAPTERS` (EPUB and KEPUB), by
    the name of the file they are about; every format is built."""
    maker = ProjectMaker(tmp_path_factory.mktemp("attributes") / "project")
    chapters = {
        f"{name}.md": f"# {name} {{#{name}}}\n\n{text}\n"
        for name, text in HTML_ATTRIBUTE_CHAPTERS.items()
    }
    book_dir = maker.book(chapters=chapters)
    Image.new("RGB", (10, 10), "red").save(book_dir / "p.png")
    paths = api.build(maker.root, use_cache=False)
    messages: dict[str, list[dict[str, Any]]] = {}
    for path in paths:
        if path.name.endswith(".epub"):
            epubcheck.check(path)
            report = json.loads(path.with_suffix(".epubcheck.json").read_text(encoding="utf-8"))
            for message in report["messages"]:
                for location in message["locations"]:
                    messages.setdefault(Path(location["path"]).stem, []).append(message)
    return messages


@pytest.mark.parametrize("name", HTML_ATTRIBUTE_CHAPTERS)
def test_html_attributes_check_passes_build_and_pass_epubcheck(html_attribute_book, name):
    assert html_attribute_book.get(name, []) == []


def test_the_book_of_html_attributes_has_no_other_message(html_attribute_book):
    assert set(html_attribute_book) <= set(HTML_ATTRIBUTE_CHAPTERS), html_attribute_book
