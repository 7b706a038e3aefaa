"""The catalogue of bad inputs: each ends in one clear line, a documented exit code, no
traceback, and an output folder exactly as it was before the failed build."""

from __future__ import annotations

import builtins
import json
import os
import time
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from ebook_builder import api
from ebook_builder.cli import app
from ebook_builder.formats import FORMATS
from ebook_builder.load import book_identifier
from tests.helpers import png_header

runner = CliRunner()
Change = Callable[[Path, pytest.MonkeyPatch], None]


@dataclass
class Case:
    change: Change
    code: int
    message: str
    args: list[str] = field(default_factory=list)


def write(path: Path, content: str | bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content, encoding="utf-8")


def metadata(text: str) -> Change:
    """Replace the metadata file with `text`."""
    return lambda root, _: write(root / "metadata/demo.yaml", text)


def edit_metadata(old: str, new: str) -> Change:
    def change(root: Path, _: pytest.MonkeyPatch) -> None:
        path = root / "metadata/demo.yaml"
        text = path.read_text()
        assert old in text
        path.write_text(text.replace(old, new))

    return change


def chapter(content: str | bytes) -> Change:
    return lambda root, _: write(root / "book/demo/01-one.md", content)


def list_chapter(entry: str) -> Change:
    return edit_metadata("- 01-one.md", f"- 01-one.md\n- {entry}")


def with_file(name: str, content: bytes, text: str) -> Change:
    """Put `content` at book/demo/`name` and show it from the chapter with `text`."""

    def change(root: Path, monkeypatch: pytest.MonkeyPatch) -> None:
        write(root / "book/demo" / name, content)
        write(root / "book/demo/01-one.md", text)

    return change


def cover(content: bytes) -> Change:
    return lambda root, _: write(root / "covers/demo.jpg", content)


def unreadable(relative: str) -> Change:
    """Reading the file fails as it would without permission (root ignores chmod)."""

    def change(root: Path, monkeypatch: pytest.MonkeyPatch) -> None:
        target = (root / relative).resolve()
        if not target.exists():
            write(target, png_header(2, 2))
        real_read_bytes, real_open, real_builtin_open = Path.read_bytes, Path.open, builtins.open

        def refuse(self: Path) -> None:
            if self.resolve() == target:
                raise PermissionError(13, "Permission denied")

        def builtin_open(file: Any, *args: Any, **kwargs: Any) -> Any:
            if isinstance(file, str | os.PathLike):
                refuse(Path(file))
            return real_builtin_open(file, *args, **kwargs)

        def read_bytes(self: Path) -> bytes:
            refuse(self)
            return real_read_bytes(self)

        def open_(self: Path, *args: Any, **kwargs: Any) -> Any:
            refuse(self)
            return real_open(self, *args, **kwargs)

        monkeypatch.setattr(Path, "read_bytes", read_bytes)
        monkeypatch.setattr(Path, "open", open_)
        monkeypatch.setattr(builtins, "open", builtin_open)

    return change


def symlink_out(root: Path, _: pytest.MonkeyPatch) -> None:
    outside = root.parent / "outside.md"
    outside.write_text("# Outside\n")
    os.symlink(outside, root / "book/demo/link.md")
    list_chapter("link.md")(root, _)


def second_book_with_same_identifier(root: Path, _: pytest.MonkeyPatch) -> None:
    write(root / "book/other/01.md", "# Other\n")
    write(
        root / "metadata/other.yaml",
        f"title: Other\ncreators: [X]\nlanguage: en\nidentifier: {book_identifier('demo')}\n"
        "chapters: [01.md]\n",
    )


def failing_write(error: BaseException) -> Change:
    """The EPUB writer fails half-way, after writing part of its file."""

    def half_written(converted: object, path: Path) -> None:
        path.write_bytes(b"PK\x03\x04 half")
        raise error

    def change(root: Path, monkeypatch: pytest.MonkeyPatch) -> None:
        monkeypatch.setattr(FORMATS["epub"].load(), "write_epub", half_written)

    return change


def unchanged(root: Path, _: pytest.MonkeyPatch) -> None:
    """No change to the sources: the error comes from the command line."""


def truncated_png() -> bytes:
    from io import BytesIO

    from PIL import Image

    out = BytesIO()
    Image.effect_noise((64, 64), 50).save(out, "PNG")
    return out.getvalue()[:300]


IMG = "# One\n\n![A picture](pic.png)\n"
CASES: dict[str, Case] = {
    "malformed YAML": Case(
        metadata("title: Demo\nchapters: [01-one.md\n"), 2, "metadata/demo.yaml:2: malformed YAML"
    ),
    "list instead of mapping": Case(
        metadata("- title\n- language\n"), 1, "metadata/demo.yaml:1: metadata must be a mapping"
    ),
    "number for the title": Case(
        edit_metadata("title: Demo Book", "title: 1917"),
        1,
        "metadata/demo.yaml:1: 'title' must be text, not int",
    ),
    "missing title": Case(
        edit_metadata("title: Demo Book\n", ""),
        1,
        "metadata/demo.yaml:1: missing required key 'title'",
    ),
    "missing language": Case(
        edit_metadata("language: en\n", ""),
        1,
        "metadata/demo.yaml:1: missing required key 'language'",
    ),
    "missing identifier": Case(
        edit_metadata(f"identifier: {book_identifier('demo')}\n", ""),
        1,
        "metadata/demo.yaml:1: missing required key 'identifier'",
    ),
    "missing creators": Case(
        edit_metadata("creators:\n- A. Writer\n", ""),
        1,
        "metadata/demo.yaml:1: at least one creator is required",
    ),
    "missing chapter list": Case(
        edit_metadata("chapters:\n- 01-one.md\n", ""),
        1,
        "metadata/demo.yaml:1: missing required key 'chapters'",
    ),
    "bad language tag": Case(
        edit_metadata("language: en", "language: English (US)"),
        1,
        "metadata/demo.yaml:4: 'language' must be a BCP 47 tag",
    ),
    "identifier shared with another book": Case(
        second_book_with_same_identifier,
        1,
        f"metadata/demo.yaml:5: identifier '{book_identifier('demo')}' is also the identifier of "
        "book 'other'",
        ["demo"],
    ),
    "empty chapter list": Case(
        edit_metadata("chapters:\n- 01-one.md\n", "chapters: []\n"),
        1,
        "metadata/demo.yaml:7: 'chapters' must be a non-empty list",
    ),
    "chapter listed twice": Case(
        list_chapter("01-one.md"), 1, "metadata/demo.yaml:7: chapter '01-one.md' is listed twice"
    ),
    "chapter file missing": Case(
        list_chapter("02-gone.md"),
        2,
        "metadata/demo.yaml:7: missing chapter file book/demo/02-gone.md",
    ),
    "absolute chapter path": Case(
        list_chapter("/etc/passwd"),
        1,
        "metadata/demo.yaml:7: chapter '/etc/passwd' must be a relative path inside book/demo/",
    ),
    "chapter path escaping book/": Case(
        list_chapter("../../metadata/demo.yaml"),
        1,
        "metadata/demo.yaml:7: chapter '../../metadata/demo.yaml' must be a relative path inside",
    ),
    "symlink out of the project": Case(
        symlink_out, 1, "metadata/demo.yaml:7: chapter 'link.md' must be a relative path inside"
    ),
    "non-UTF-8 chapter": Case(
        chapter(b"# One\n\nCaf\xe9\n"), 2, "book/demo/01-one.md:3: not UTF-8"
    ),
    "UTF-16 chapter": Case(
        chapter("# One\n".encode("utf-16")),
        2,
        "book/demo/01-one.md:1: not UTF-8 (looks like UTF-16)",
    ),
    "unreadable chapter": Case(
        unreadable("book/demo/01-one.md"), 2, "book/demo/01-one.md: cannot read (Permission denied)"
    ),
    "empty chapter": Case(chapter(""), 1, "book/demo/01-one.md: chapter file is empty"),
    "malformed raw HTML": Case(
        chapter("# One\n\n<div><p>open</div>\n"),
        1,
        "book/demo/01-one.md:3: raw HTML is not well-formed XHTML",
    ),
    "script": Case(
        chapter("# One\n\n<script>alert(1)</script>\n"),
        1,
        "book/demo/01-one.md:3: <script> is not allowed in a book",
    ),
    "iframe": Case(
        chapter('# One\n\n<iframe src="https://x.org"></iframe>\n'),
        1,
        "book/demo/01-one.md:3: <iframe> is not allowed in a book",
    ),
    "object": Case(
        chapter('# One\n\n<object data="x.swf"></object>\n'),
        1,
        "book/demo/01-one.md:3: <object> is not allowed in a book",
    ),
    "embed": Case(
        chapter('# One\n\n<embed src="x.swf"/>\n'),
        1,
        "book/demo/01-one.md:3: <embed> is not allowed in a book",
    ),
    "form": Case(
        chapter('# One\n\n<form action="/x"><p>Hi</p></form>\n'),
        1,
        "book/demo/01-one.md:3: <form> is not allowed in a book",
    ),
    "event handler": Case(
        chapter('# One\n\n<p onmouseover="steal()">Hover</p>\n'),
        1,
        "book/demo/01-one.md:3: event handler attribute 'onmouseover' is not allowed",
    ),
    "javascript link": Case(
        chapter("# One\n\n[click](javascript:steal())\n"),
        1,
        "book/demo/01-one.md:3: href='javascript:steal()' is not allowed",
    ),
    "missing image": Case(chapter(IMG), 1, "book/demo/01-one.md:3: missing image 'pic.png'"),
    "unreadable image": Case(
        lambda root, mp: (chapter(IMG)(root, mp), unreadable("book/demo/pic.png")(root, mp)),
        1,
        "book/demo/01-one.md:3: cannot read image 'pic.png' (Permission denied)",
    ),
    "truncated image": Case(
        with_file("pic.png", truncated_png(), IMG),
        1,
        "book/demo/01-one.md:3: image 'pic.png': not a readable image",
    ),
    "text file as image": Case(
        with_file("pic.png", b"hello", IMG),
        1,
        "book/demo/01-one.md:3: image 'pic.png': not a readable",
    ),
    "decompression bomb image": Case(
        with_file("pic.png", png_header(20_000, 20_000), IMG),
        1,
        "book/demo/01-one.md:3: image 'pic.png': image is too large to decode safely",
    ),
    "unreadable cover": Case(
        lambda root, mp: (cover(b"x")(root, mp), unreadable("covers/demo.jpg")(root, mp)),
        2,
        "covers/demo.jpg: cannot read (Permission denied)",
    ),
    "truncated cover": Case(
        cover(b"\xff\xd8\xff\xe0\x00\x10JFIF"), 1, "covers/demo.jpg: not a readable image"
    ),
    "text file as cover": Case(cover(b"not a jpeg"), 1, "covers/demo.jpg: not a readable image"),
    "PNG named .jpg as cover": Case(
        cover(png_header(1, 1)), 1, "covers/demo.jpg: not a readable image"
    ),
    "decompression bomb cover": Case(
        cover(png_header(20_000, 20_000)),
        1,
        "covers/demo.jpg: image is too large to decode safely",
    ),
    "block quote 50,000 deep": Case(
        chapter("# One\n\n" + ">" * 50_000 + " deep\n"),
        1,
        "book/demo/01-one.md:3: nested more than 100 levels deep",
    ),
    "raw HTML 1,000 deep": Case(
        chapter("# One\n\n" + "<div>" * 1000 + "x" + "</div>" * 1000 + "\n"),
        1,
        "book/demo/01-one.md:3: nested more than 100 levels deep",
    ),
    "lists nested 300 deep by indentation": Case(
        chapter("# One\n\n" + "".join("  " * i + "- a\n" for i in range(300))),
        1,
        "book/demo/01-one.md: nested more than 100 levels deep",
    ),
    "brackets left open": Case(
        chapter("# One\n\n" + "[0,1) " * 30 + "\n"),
        1,
        "book/demo/01-one.md:3: more than 10 '[' left open in one paragraph",
    ),
    "duplicate ids": Case(
        chapter("# One {#x}\n\n## Two {#x}\n"), 1, "book/demo/01-one.md:3: duplicate id 'x'"
    ),
    "broken internal link": Case(
        chapter("# One\n\nSee [there](#there).\n"),
        1,
        "book/demo/01-one.md:3: broken internal link '#there'",
    ),
    "unknown book id": Case(unchanged, 2, "unknown book id 'nope' (known: demo)", ["nope"]),
    "unknown format": Case(unchanged, 2, "unknown format 'pdf' (known: epub", ["--format", "pdf"]),
    "unwritable output folder": Case(
        lambda root, _: write(root / "blocker", "a file where a folder should be"),
        2,
        "blocker/dist: cannot write to the output folder (Not a directory)",
        ["--out", "blocker/dist"],
    ),
    "full disk": Case(
        failing_write(OSError(28, "No space left on device")),
        2,
        "dist/demo.epub: cannot write (No space left on device)",
        ["--no-cache"],
    ),
    "interrupted build": Case(
        failing_write(KeyboardInterrupt()),
        130,
        "interrupted; earlier outputs are unchanged",
        ["--no-cache"],
    ),
}


def picture(kind: str, width: int, height: int) -> bytes:
    from io import BytesIO

    from PIL import Image

    out = BytesIO()
    Image.new("RGB", (width, height), "red").save(out, kind)
    return out.getvalue()


NOTE = "Text[^1].\n\n[^1]: A note.\n"
# Hostile input that is a book all the same: it builds in every format, quickly.
BUILDS: dict[str, tuple[str, dict[str, bytes]]] = {
    "1×1 cover": ("# One\n\nText.\n", {"covers/demo.jpg": picture("JPEG", 1, 1)}),
    "10,000×1 cover": ("# One\n\nText.\n", {"covers/demo.png": picture("PNG", 10_000, 1)}),
    "1×10,000 cover": ("# One\n\nText.\n", {"covers/demo.jpg": picture("JPEG", 1, 10_000)}),
    "1×1 JPEG picture": (IMG.replace("png", "jpg"), {"book/demo/pic.jpg": picture("JPEG", 1, 1)}),
    "10,000×1 picture": (IMG, {"book/demo/pic.png": picture("PNG", 10_000, 1)}),
    "raw note reference no note answers": (
        '# One\n\nSee <a class="footnote-ref" id="q">1</a>. ' + NOTE,
        {},
    ),
    "raw note lists": (
        '# One\n\n<section class="footnotes" role="doc-endnotes"><ol><li><p>x</p></li></ol>'
        '</section>\n\n<aside epub:type="footnote"><p>y</p></aside>\n\n' + NOTE,
        {},
    ),
    "raw note list as pandoc writes it": (
        '# One\n\nA <a href="#fn1" class="footnote-ref" id="fnref1" role="doc-noteref">1</a>\n\n'
        '<section id="footnotes" class="footnotes footnotes-end-of-document" '
        'role="doc-endnotes"><ol><li id="fn1"><p>x</p></li></ol></section>\n',
        {},
    ),
    "chapter titled Footnotes": ("# Footnotes {#footnotes}\n\n1. one\n2. two\n\n" + NOTE, {}),
    "colspan of a billion": (
        '# One\n\n<table><tr><td colspan="1000000000" rowspan="99999999999">x</td></tr>'
        '<tr><td colspan="²">y</td></tr></table>\n',
        {},
    ),
    "list starting past 2**64": ('# One\n\n<ol start="' + "9" * 5000 + '"><li>a</li></ol>\n', {}),
    "nested 100 deep": ("# One\n\n" + ">" * 100 + " deep\n\n" + "- " * 99 + "x\n", {}),
    "300,000-letter French word": ("# Un\n\n« " + "a" * 300_000 + " » !\n", {}),
    "300,000 spaces in a line": ("# Un\n\nx" + " " * 300_000 + "y ; z\n", {}),
    "line indented by 300,000 spaces": ("# One\n\n" + " " * 300_000 + "x\n", {}),
}


@pytest.mark.parametrize("name", BUILDS, ids=list(BUILDS))
def test_hostile_input_that_is_a_book_builds_in_seconds(make_project, epubcheck, name):
    text, files = BUILDS[name]
    make_project.book(chapters={"01-one.md": text}, language="fr" if "French" in name else "en")
    for relative, data in files.items():
        write(make_project.root / relative, data)
    started = time.perf_counter()
    paths = api.build(make_project.root, use_cache=False)
    assert time.perf_counter() - started < 30
    assert {path.name for path in paths} >= {f"demo{f.suffix}" for f in FORMATS.values()}
    (epub,) = [path for path in paths if path.name == "demo.epub"]
    report = epubcheck.check(epub)
    assert report.clean, report


def test_ten_thousand_headings_with_the_same_text_build_in_seconds(make_project):
    """Ids are made unique, and each heading's line found, in linear time (EPUBCheck is left
    out: it takes minutes over a contents list this long)."""
    make_project.book(chapters={"01-one.md": "# One\n\n" + "## Same\n\n" * 10_000})
    started = time.perf_counter()
    (epub,) = api.build(make_project.root, formats=["epub"], use_cache=False)
    assert time.perf_counter() - started < 30
    with zipfile.ZipFile(epub) as archive:
        text = archive.read("EPUB/01-one.xhtml").decode()
    assert 'id="same"' in text and 'id="same-10000"' in text


@pytest.mark.parametrize("name", CASES, ids=list(CASES))
def test_bad_input(make_project, monkeypatch, name):
    case = CASES[name]
    make_project.book(chapters={"01-one.md": "# One\n\nText.\n"})
    root = make_project.root
    monkeypatch.chdir(root)
    assert runner.invoke(app, ["build"]).exit_code == 0
    dist = root / "dist"
    before = {p.name: p.read_bytes() for p in dist.iterdir()}

    case.change(root, monkeypatch)
    result = runner.invoke(app, ["build", *case.args])

    assert result.exit_code == case.code, result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, lines
    assert lines[0].startswith("error: " + case.message), lines[0]
    assert "Traceback" not in result.output
    assert isinstance(result.exception, SystemExit | None)
    assert {p.name: p.read_bytes() for p in dist.iterdir()} == before


def test_check_json_lists_problems(make_project, monkeypatch):
    make_project.book(chapters={"01-one.md": "# One\n\n[a](#x) <script></script>\n"})
    monkeypatch.chdir(make_project.root)
    result = runner.invoke(app, ["check", "--json"])
    assert result.exit_code == 1
    import json

    report = json.loads(result.stdout)
    assert report["ok"] is False
    assert report["problems"] == [
        {"path": "book/demo/01-one.md", "line": 3, "message": "<script> is not allowed in a book"},
        {
            "path": "book/demo/01-one.md",
            "line": 3,
            "message": "broken internal link '#x': no such id in the book",
        },
    ]


def test_xml_entities_and_doctype_are_never_expanded(make_project, tmp_path, epubcheck):
    """XXE and billion laughs: pandoc escapes them, so they stay literal text."""
    secret = tmp_path / "secret.txt"
    secret.write_text("TOP-SECRET")
    laughs = '<!DOCTYPE l [<!ENTITY a "ha"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;">]>'
    make_project.book(
        chapters={
            "01-one.md": f'# One\n\n<!DOCTYPE x [<!ENTITY e SYSTEM "file://{secret}">]>\n\n'
            f"<p>&e;</p>\n\n{laughs}\n\n<p>&b;</p>\n"
        }
    )
    (path,) = api.build(make_project.root, formats=["epub"])
    data = path.read_bytes()
    assert b"TOP-SECRET" not in data
    assert b"hahaha" not in data
    assert epubcheck.check(path).clean


def test_five_megabyte_paragraph_builds(make_project):
    words = ("the workers of russia took power in october " * 120_000).strip()
    assert len(words) > 5_000_000
    make_project.book(chapters={"01-one.md": f"# One\n\n{words}\n"})
    (path,) = api.build(make_project.root, formats=["epub"])
    assert path.stat().st_size > 10_000


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (  # the same broken link twice: each at its own line
            "# One\n\n[a](#gone)\n\ntext\n\ntext [b](#gone)\n",
            [(3, "broken internal link '#gone'"), (7, "broken internal link '#gone'")],
        ),
        (  # a title after a tab, a line break or spaces is a title, not part of the address
            '# One\n\n[t](#gone\t"title")\n\n[u](#gone\n"title")\n\n[v](#gone   "title")\n',
            [(3, "broken internal link '#gone'"), (5, "broken"), (8, "broken")],
        ),
        ("# One\n\ntext\n\n[x]()\n", [(5, "link 'x' has no address")]),
        ("# One\n\n[x](<#a b>)\n", [(3, "broken internal link '#a%20b'")]),
        (
            "# One\n\n![a](p.png)\n\n![a](p.png)\n",
            [(3, "missing image 'p.png'"), (5, "missing image 'p.png'")],
        ),
    ],
)
def test_each_problem_names_its_own_line(make_project, monkeypatch, text, expected):
    """Issue 17, item 5: the n-th problem with the same text is at its n-th occurrence."""
    make_project.book(chapters={"01-one.md": text})
    monkeypatch.chdir(make_project.root)
    result = runner.invoke(app, ["check", "--json"])
    assert result.exit_code == 1, result.output
    problems = json.loads(result.stdout)["problems"]
    found = [(p["line"], p["message"]) for p in problems]
    assert len(found) == len(expected), found
    for (line, message), (want_line, want) in zip(found, expected, strict=True):
        assert line == want_line and message.startswith(want), found


def test_a_title_after_a_tab_builds_a_link_with_that_title(make_project, epubcheck):
    make_project.book(chapters={"01-one.md": '# One\n\n[t](#one\t"The title")\n'})
    (epub,) = api.build(make_project.root, formats=["epub"])
    assert epubcheck.check(epub).clean
    with zipfile.ZipFile(epub) as archive:
        chapter = archive.read("EPUB/01-one.xhtml").decode()
    assert '<a href="#one" title="The title">t</a>' in chapter
