"""The catalogue of bad inputs: each ends in one clear line, a documented exit code, no
traceback, and an output folder exactly as it was before the failed build."""

from __future__ import annotations

import builtins
import io
import json
import os
import signal
import struct
import time
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from lxml import etree
from PIL import Image, PngImagePlugin
from typer.testing import CliRunner

from ebook_builder import api
from ebook_builder.cli import app
from ebook_builder.errors import BookError, InputError
from ebook_builder.formats import FORMATS
from ebook_builder.formats.kindle.palmdoc import decompress
from ebook_builder.load import book_identifier
from tests.helpers import png_header
from tests.kindle_decode import read_records, strip_trailing

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
        real_os_open = os.open

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

        def os_open(file: Any, *args: Any, **kwargs: Any) -> int:
            if isinstance(file, str | os.PathLike):
                refuse(Path(file))
            return real_os_open(file, *args, **kwargs)

        monkeypatch.setattr(Path, "read_bytes", read_bytes)
        monkeypatch.setattr(os, "open", os_open)
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


def special(relative: str, kind: str) -> Change:
    """Put a FIFO, a folder, a link to `/dev/zero`, a link loop, a link to a file outside the
    project or a sparse 60 MB file where the source `relative` should be."""

    def change(root: Path, _: pytest.MonkeyPatch) -> None:
        path = root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        if path.exists() or path.is_symlink():
            path.unlink()
        if kind == "fifo":
            os.mkfifo(path)
        elif kind == "folder":
            path.mkdir()
        elif kind == "device":
            path.symlink_to("/dev/zero")
        elif kind == "loop":
            path.symlink_to(path.name)
        elif kind == "outside":
            outside = root.parent / f"outside{path.suffix}"
            outside.write_bytes(png_header(2, 2) if path.suffix == ".jpg" else b"title: X\n")
            path.symlink_to(outside)
        else:
            with path.open("wb") as handle:
                handle.truncate(60 << 20)

    return change


def both(*changes: Change) -> Change:
    def change(root: Path, monkeypatch: pytest.MonkeyPatch) -> None:
        for each in changes:
            each(root, monkeypatch)

    return change


def laughs() -> str:
    """A "billion laughs" as a metadata value: nine aliases of nine aliases, nine deep."""
    levels = ["a0: &a0 [lol]"]
    for n in range(1, 10):
        levels.append(f"a{n}: &a{n} [{', '.join([f'*a{n - 1}'] * 9)}]")
    return "title: Demo\n" + "\n".join(levels) + "\n"


def truncated_png() -> bytes:
    from io import BytesIO

    from PIL import Image

    out = BytesIO()
    Image.effect_noise((64, 64), 50).save(out, "PNG")
    return out.getvalue()[:300]


def picture(kind: str, width: int, height: int) -> bytes:
    from io import BytesIO

    from PIL import Image

    out = BytesIO()
    Image.new("RGB", (width, height), "red").save(out, kind)
    return out.getvalue()


IMG = "# One\n\n![A picture](pic.png)\n"
SVG_IMG = "# One\n\n![A picture](pic.svg)\n"
SVG_NS = 'xmlns="http://www.w3.org/2000/svg"'
XLINK_NS = 'xmlns:xlink="http://www.w3.org/1999/xlink"'
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
    "toc_depth out of range": Case(
        edit_metadata("date: '2020'", "date: '2020'\ntoc_depth: 4"),
        1,
        "metadata/demo.yaml:7: 'toc_depth' must be a whole number from 1 to 3",
    ),
    "toc_depth as text": Case(
        edit_metadata("date: '2020'", "date: '2020'\ntoc_depth: '2'"),
        1,
        "metadata/demo.yaml:7: 'toc_depth' must be a whole number from 1 to 3",
    ),
    # HTML's content models, which EPUBCheck enforces: raw HTML could nest what they forbid.
    "a link in a link (a Markdown link in a raw one)": Case(
        chapter('# One\n\nText.\n\n<a href="#one">see [this](#one)</a>\n'),
        1,
        "book/demo/01-one.md:5: <a> inside <a> is not allowed (HTML)",
    ),
    "a footer in a footer": Case(
        chapter("# One\n\n<footer><footer>x</footer></footer>\n"),
        1,
        "book/demo/01-one.md:3: <footer> inside <footer> is not allowed (HTML)",
    ),
    "a table in a caption": Case(
        chapter("# One\n\n<table><caption><table><tr><td>x</td></tr></table></caption></table>\n"),
        1,
        "book/demo/01-one.md:3: <table> inside <caption> is not allowed (HTML)",
    ),
    "a figure with two captions": Case(
        chapter("# One\n\n<figure><figcaption>a</figcaption><figcaption>b</figcaption></figure>\n"),
        1,
        "book/demo/01-one.md:3: a figure has more than one caption (<figcaption>)",
    ),
    # Issue 18: every attribute a reader loads a file from, but the picture's <img src>.
    "srcset with an entry outside the project": Case(
        with_file(
            "pic.png",
            picture("PNG", 2, 2),
            '# One\n\n<img src="pic.png" srcset="pic.png 1x, ../secret.png 2x" alt="A"/>\n',
        ),
        1,
        "book/demo/01-one.md:3: <img srcset='pic.png 1x, ../secret.png 2x'> is not allowed: a "
        "picture is one file",
    ),
    "srcset on a Markdown picture": Case(
        with_file("pic.png", picture("PNG", 2, 2), '# One\n\n![A](pic.png){srcset="/x.png"}\n'),
        1,
        "book/demo/01-one.md:3: <img srcset='/x.png'> is not allowed",
    ),
    "picture source srcset": Case(
        with_file(
            "pic.png",
            picture("PNG", 2, 2),
            '# One\n\n<picture><source srcset="../secret.png"/><img src="pic.png" alt="A"/>'
            "</picture>\n",
        ),
        1,
        "book/demo/01-one.md:3: <source srcset='../secret.png'> is not allowed",
    ),
    "video src outside the project": Case(
        chapter('# One\n\ntext\n\n<video src="../secret.mp4"></video>\n'),
        1,
        "book/demo/01-one.md:5: <video src='../secret.mp4'> is not allowed: a book carries only "
        "the pictures of ![…](…) and <img src>",
    ),
    "remote video": Case(
        chapter('# One\n\n<video src="https://evil.example/v.mp4" controls="controls"/>\n'),
        1,
        "book/demo/01-one.md:3: <video src='https://evil.example/v.mp4'> is not allowed",
    ),
    "video poster": Case(
        chapter('# One\n\n<video poster="/etc/secret.png"></video>\n'),
        1,
        "book/demo/01-one.md:3: <video poster='/etc/secret.png'> is not allowed",
    ),
    "audio source outside the project": Case(
        chapter('# One\n\n<audio controls="controls"><source src="../a.mp3"/></audio>\n'),
        1,
        "book/demo/01-one.md:3: <source src='../a.mp3'> is not allowed",
    ),
    "audio inside the book": Case(
        with_file("a.mp3", b"ID3", '# One\n\n<audio src="a.mp3"></audio>\n'),
        1,
        "book/demo/01-one.md:3: <audio src='a.mp3'> is not allowed",
    ),
    "track": Case(
        chapter('# One\n\n<video><track src="file:///etc/x.vtt"/></video>\n'),
        1,
        "book/demo/01-one.md:3: <track src='file:///etc/x.vtt'> is not allowed",
    ),
    "object data outside the project": Case(
        chapter('# One\n\n<object data="../secret.pdf" type="application/pdf"></object>\n'),
        1,
        "book/demo/01-one.md:3: <object> is not allowed in a book",
    ),
    "iframe src outside the project": Case(
        chapter('# One\n\n<iframe src="../secret.html"></iframe>\n'),
        1,
        "book/demo/01-one.md:3: <iframe> is not allowed in a book",
    ),
    "MathML altimg": Case(
        chapter(
            '# One\n\n<math xmlns="http://www.w3.org/1998/Math/MathML" altimg="../f.png">'
            "<mi>x</mi></math>\n"
        ),
        1,
        "book/demo/01-one.md:3: <math altimg='../f.png'> is not allowed",
    ),
    "table background": Case(
        chapter('# One\n\n<table background="../bg.png"><tr><th>x</th></tr></table>\n'),
        1,
        "book/demo/01-one.md:3: <table background='../bg.png'> is not allowed",
    ),
    "link ping": Case(
        chapter('# One\n\n[x](#one){ping="https://evil.example/seen"}\n'),
        1,
        "book/demo/01-one.md:3: <a ping='https://evil.example/seen'> is not allowed: a reader "
        "would send a request",
    ),
    "inline SVG image href outside the project": Case(
        chapter(f'# One\n\n<svg {SVG_NS}><image href="../secret.png"/></svg>\n'),
        1,
        "book/demo/01-one.md:3: an inline <svg> refers to '../secret.png'",
    ),
    "inline SVG use xlink:href to another file": Case(
        chapter(f'# One\n\n<svg {SVG_NS} {XLINK_NS}><use xlink:href="s.svg#a"/></svg>\n'),
        1,
        "book/demo/01-one.md:3: an inline <svg> refers to 's.svg#a'",
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
    # Issue 18: CSS that reaches outside the book, in any spelling a browser reads.
    "style element with @import": Case(
        chapter("# One\n\n<style>@import url(http://evil.example/x.css);</style>\n"),
        1,
        "book/demo/01-one.md:3: <style> is not allowed in a chapter",
    ),
    "remote stylesheet link": Case(
        chapter('# One\n\n<link rel="stylesheet" href="http://evil.example/x.css"/>\n'),
        1,
        "book/demo/01-one.md:3: <link> is not allowed in a chapter",
    ),
    "meta refresh written as HTML (no '/>')": Case(
        chapter('# One\n\n<meta http-equiv="refresh" content="0; url=http://evil.example/">\n'),
        1,
        "book/demo/01-one.md:3: <meta> is not allowed in a chapter",
    ),
    "style attribute with a remote url": Case(
        chapter('# One\n\n<p style="background: url(http://evil.example/x.png)">x</p>\n'),
        1,
        "book/demo/01-one.md:3: a style attribute refers to url(http://evil.example/x.png)",
    ),
    "style attribute with an escaped url": Case(
        chapter('# One\n\ntext\n\n<p style="background: u\\72l(&quot;/etc/passwd&quot;)">x</p>\n'),
        1,
        "book/demo/01-one.md:5: a style attribute refers to url(/etc/passwd)",
    ),
    "style attribute with a file URL in image-set": Case(
        chapter("# One\n\n<p style='background: image-set(\"file:///x.png\" 1x)'>x</p>\n"),
        1,
        "book/demo/01-one.md:3: a style attribute refers to url(file:///x.png)",
    ),
    "font-face in a style element": Case(
        chapter("# One\n\n<style>@font-face { src: url(//evil.example/f.woff) }</style>\n"),
        1,
        "book/demo/01-one.md:3: <style> is not allowed in a chapter",
    ),
    # Issue 18: active content in every namespace and every spelling.
    "prefixed XHTML script": Case(
        chapter(
            '# One\n\n<html:script xmlns:html="http://www.w3.org/1999/xhtml">x</html:script>\n'
        ),
        1,
        "book/demo/01-one.md:3: <script> is not allowed in a book",
    ),
    "script in a foreign namespace": Case(
        chapter('# One\n\n<x:script xmlns:x="urn:x">x</x:script>\n'),
        1,
        "book/demo/01-one.md:3: <script> is not allowed in a book",
    ),
    "XInclude": Case(
        chapter('# One\n\n<xi:include xmlns:xi="http://www.w3.org/2001/XInclude" href="/x"/>\n'),
        1,
        "book/demo/01-one.md:3: <include> (XInclude) is not allowed in a book",
    ),
    "inline SVG script": Case(
        chapter(f"# One\n\n<svg {SVG_NS}><script>alert(1)</script></svg>\n"),
        1,
        "book/demo/01-one.md:3: an inline <svg> holds a <script> element",
    ),
    "prefixed inline SVG script": Case(
        chapter(
            '# One\n\n<s:svg xmlns:s="http://www.w3.org/2000/svg"><s:script>x</s:script></s:svg>\n'
        ),
        1,
        "book/demo/01-one.md:3: an inline <svg> holds a <script> element",
    ),
    "inline SVG javascript xlink:href": Case(
        chapter(f"# One\n\n<svg {SVG_NS} {XLINK_NS}><a xlink:href='javascript:x()'>a</a></svg>\n"),
        1,
        "book/demo/01-one.md:3: an inline <svg> has href='javascript:x()'",
    ),
    "MathML javascript href": Case(
        chapter(
            '# One\n\n<math xmlns="http://www.w3.org/1998/Math/MathML">'
            '<mi href="javascript:x()">x</mi></math>\n'
        ),
        1,
        "book/demo/01-one.md:3: href='javascript:x()' is not allowed",
    ),
    "javascript link in mixed case after spaces": Case(
        chapter('# One\n\n<a href="  JaVaScRiPt:x()">a</a>\n'),
        1,
        "book/demo/01-one.md:3: href='  JaVaScRiPt:x()' is not allowed",
    ),
    "entity-encoded javascript link": Case(
        chapter('# One\n\ntext\n\n<a href="&#106;avascript:x()">a</a>\n'),
        1,
        "book/demo/01-one.md:5: href='javascript:x()' is not allowed",
    ),
    "javascript link with a tab in the scheme": Case(
        chapter('# One\n\n<a href="java&#9;script:x()">a</a>\n'),
        1,
        "book/demo/01-one.md:3: href='java\\tscript:x()' is not allowed",
    ),
    # Issue 18: SVG pictures, parsed as safely as chapters.
    "SVG picture with a script": Case(
        with_file("pic.svg", f"<svg {SVG_NS}><script>alert(1)</script></svg>".encode(), SVG_IMG),
        1,
        "book/demo/01-one.md:3: image 'pic.svg': holds a <script> element",
    ),
    "SVG picture declaring an external entity": Case(
        with_file(
            "pic.svg",
            b'<!DOCTYPE svg [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
            + f"<svg {SVG_NS}>&x;</svg>".encode(),
            SVG_IMG,
        ),
        1,
        "book/demo/01-one.md:3: image 'pic.svg': declares entities",
    ),
    "text file named .svg": Case(
        with_file("pic.svg", b"just some text", SVG_IMG),
        1,
        "book/demo/01-one.md:3: image 'pic.svg': is not well-formed XML",
    ),
    "SVG picture with a javascript xlink:href": Case(
        with_file(
            "pic.svg",
            f"<svg {SVG_NS} {XLINK_NS}><a xlink:href=' javascript:x()'>a</a></svg>".encode(),
            SVG_IMG,
        ),
        1,
        "book/demo/01-one.md:3: image 'pic.svg': has href=' javascript:x()'",
    ),
    "SVG picture naming a remote stylesheet": Case(
        with_file(
            "pic.svg",
            f'<?xml-stylesheet href="http://evil.example/x.css"?><svg {SVG_NS}/>'.encode(),
            SVG_IMG,
        ),
        1,
        "book/demo/01-one.md:3: image 'pic.svg': names a stylesheet",
    ),
    "SVG picture importing CSS": Case(
        with_file(
            "pic.svg", f'<svg {SVG_NS}><style>@import "/etc/x.css";</style></svg>'.encode(), SVG_IMG
        ),
        1,
        "book/demo/01-one.md:3: image 'pic.svg': imports a stylesheet (@import)",
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
    # Issue 18: nesting counted as pandoc reads it, at the line that passes the limit.
    "lists nested 2,000 deep by indentation": Case(
        chapter("# One\n\n" + "".join("  " * i + "- a\n" for i in range(2000))),
        1,
        "book/demo/01-one.md:103: nested more than 100 levels deep",
    ),
    "numbered lists nested by indentation": Case(
        chapter("# One\n\n" + "".join("   " * i + "1. a\n\n" for i in range(300))),
        1,
        "book/demo/01-one.md:203: nested more than 100 levels deep",
    ),
    "lists of every bullet and tabs nested by indentation": Case(
        chapter("# One\n\n" + "".join("\t" * i + "*+-"[i % 3] + " a\n" for i in range(300))),
        1,
        "book/demo/01-one.md:103: nested more than 100 levels deep",
    ),
    "lists nested by indentation in a block quote": Case(
        chapter("# One\n\n" + "".join("> " + "    " * i + "(a) x\n" for i in range(300))),
        1,
        "book/demo/01-one.md:102: nested more than 100 levels deep",
    ),
    "list items opening block quotes, nested by indentation": Case(
        chapter("# One\n\n" + "".join("    " * i + "- > a\n" for i in range(300))),
        1,
        "book/demo/01-one.md:102: nested more than 100 levels deep",
    ),
    "fenced divs 300 deep": Case(
        chapter("# One\n\n" + "::: a\n" * 300 + "x\n" + ":::\n" * 300),
        1,
        "book/demo/01-one.md:103: nested more than 100 levels deep",
    ),
    "unclosed code fence before nested lists": Case(
        chapter("# One\n\n```\n\n" + "".join("  " * i + "- a\n" for i in range(300))),
        1,
        "book/demo/01-one.md:105: nested more than 100 levels deep",
    ),
    "unclosed code fence before brackets": Case(
        chapter("# One\n\n~~~\n\n" + "[0,1) " * 30 + "\n"),
        1,
        "book/demo/01-one.md:5: more than 10 '[' left open in one paragraph",
    ),
    "YAML block that is not YAML": Case(
        chapter("# One\n\ntext\n\n---\ntitle: [a\nb: c\n---\n"),
        1,
        "book/demo/01-one.md:7: error parsing YAML metadata: YAML parse exception, while "
        "parsing a flow sequence: did not find expected ',' or ']'; a --- line followed by "
        "text opens a YAML block",
    ),
    "brackets left open": Case(
        chapter("# One\n\n" + "[0,1) " * 30 + "\n"),
        1,
        "book/demo/01-one.md:3: more than 10 '[' left open in one paragraph",
    ),
    "HTML elements nested 1,000 deep on one line": Case(
        chapter("# One\n\n\\A\n\n" + "<div>" * 1000 + "x" + "</div>" * 1000 + "\n"),
        1,
        "book/demo/01-one.md:5: nested more than 100 levels deep",
    ),
    "tags left open before a long text": Case(
        chapter("# One\n\n" + "x <a\n\n" * 50 + "word " * 200_000 + "\n"),
        1,
        "book/demo/01-one.md:15: '<a' opens an HTML tag that nothing closes for 1,000,",
    ),
    "comments and end tags left open": Case(
        chapter("# One\n\n" + "<!--\n\n</\n\n" * 25 + "word " * 200_000 + "\n"),
        1,
        "book/demo/01-one.md:15: '<!--' opens a comment that nothing closes",
    ),
    "straight quotes opening words in a long paragraph": Case(
        chapter("# One\n\n" + "x 'tis y " * 400 + "word " * 20_000 + "\n"),
        1,
        'book/demo/01-one.md:3: "\'" opens a quotation that nothing closes',
    ),
    "TeX environments left open before a long text": Case(
        chapter("# One\n\n" + "\\begin{quote}\n\n" * 10 + "word " * 100_000 + "\n"),
        1,
        "book/demo/01-one.md:",
    ),
    "more than 10,000 notes in a chapter": Case(
        chapter("# One\n\n" + "Text^[a note].\n\n" * 10_001),
        1,
        "book/demo/01-one.md:20003: more than 10,000 notes in one chapter",
    ),
    "CDATA section": Case(
        chapter("# One\n\n<![CDATA[x]]>\n"),
        1,
        "book/demo/01-one.md:3: '<!' opens an XML declaration or CDATA section",
    ),
    "spans with attributes before a long text": Case(
        chapter("# One\n\n" + '<span lang="fr">mot</span>\n\n' * 2000 + "word " * 200_000),
        1,
        "book/demo/01-one.md:1823: too much raw HTML for a chapter this long",
    ),
    "links in raw HTML through a long chapter": Case(
        chapter("# One\n\n" + '<a href="#one">w</a> word word word\n\n' * 80_000),
        1,
        "book/demo/01-one.md:",
    ),
    "duplicate ids": Case(
        chapter("# One {#x}\n\n## Two {#x}\n"), 1, "book/demo/01-one.md:3: duplicate id 'x'"
    ),
    "broken internal link": Case(
        chapter("# One\n\nSee [there](#there).\n"),
        1,
        "book/demo/01-one.md:3: broken internal link '#there'",
    ),
    # Issue 18: every metadata value checked at its line, whatever YAML made of it.
    "impossible date": Case(
        edit_metadata("date: '2020'", "date: 2017-02-30"),
        1,
        "metadata/demo.yaml:6: 'date' '2017-02-30' is not a day of the calendar",
    ),
    "impossible month": Case(
        edit_metadata("date: '2020'", "date: 2017-13"),
        1,
        "metadata/demo.yaml:6: 'date' '2017-13' is not a day of the calendar",
    ),
    "year zero": Case(
        edit_metadata("date: '2020'", "date: '0000'"),
        1,
        "metadata/demo.yaml:6: 'date' '0000' is not a day of the calendar",
    ),
    "date as a list": Case(
        edit_metadata("date: '2020'", "date: [2017]"),
        1,
        "metadata/demo.yaml:6: 'date' must be YYYY, YYYY-MM or YYYY-MM-DD, not a list",
    ),
    "date with a newline": Case(
        edit_metadata("date: '2020'", 'date: "2017\\n"'),
        1,
        "metadata/demo.yaml:6: 'date' must be YYYY, YYYY-MM or YYYY-MM-DD, not '2017\\n'",
    ),
    "impossible modified time": Case(
        edit_metadata("date: '2020'", "modified: 2017-02-30T10:00:00"),
        1,
        "metadata/demo.yaml:6: 'modified' must be an ISO 8601 date and time, not "
        "'2017-02-30T10:00:00' (day is out of range for month)",
    ),
    "modified time beyond the calendar": Case(
        edit_metadata("date: '2020'", "modified: 9999-12-31T23:00:00-05:00"),
        1,
        "metadata/demo.yaml:6: 'modified' must be an ISO 8601 date and time",
    ),
    "modified before the year 1000": Case(
        edit_metadata("date: '2020'", "modified: 0999-01-01T00:00:00"),
        1,
        "metadata/demo.yaml:6: 'modified' must be a time from the year 1000 on",
    ),
    "modified as a mapping": Case(
        edit_metadata("date: '2020'", "modified: {at: noon}"),
        1,
        "metadata/demo.yaml:6: 'modified' must be an ISO 8601 date and time, not a mapping",
    ),
    "SOURCE_DATE_EPOCH beyond any date": Case(
        lambda root, mp: mp.setenv("SOURCE_DATE_EPOCH", "9" * 30),
        2,
        "SOURCE_DATE_EPOCH=99999999999999999999 is beyond any date",
    ),
    "control character in the title": Case(
        edit_metadata("title: Demo Book", 'title: "Demo\\x07Book"'),
        1,
        "metadata/demo.yaml:1: control character U+0007 cannot appear in a book",
    ),
    "raw control character in the title": Case(
        edit_metadata("title: Demo Book", "title: Demo\x1bBook"),
        1,
        "metadata/demo.yaml:1: control character U+001B cannot appear in a book",
    ),
    "control character in a creator": Case(
        edit_metadata("- A. Writer", '- "A.\\x01 Writer"'),
        1,
        "metadata/demo.yaml:3: control character U+0001 cannot appear in a book",
    ),
    "control character in a chapter entry": Case(
        edit_metadata("- 01-one.md", '- 01-one.md\n- "02\\x00.md"'),
        1,
        "metadata/demo.yaml:9: control character U+0000 cannot appear in a book",
    ),
    "control character in a subject": Case(
        edit_metadata("date: '2020'", 'subjects: [History, "\\x0b"]'),
        1,
        "metadata/demo.yaml:6: control character U+000B cannot appear in a book",
    ),
    "language tag with a newline": Case(
        edit_metadata("language: en", 'language: "en\\n"'),
        1,
        "metadata/demo.yaml:4: 'language' must be a BCP 47 tag such as 'en' or 'fr-CA', "
        "not 'en\\n'",
    ),
    "title as a mapping": Case(
        edit_metadata("title: Demo Book", "title: {main: Demo}"),
        1,
        "metadata/demo.yaml:1: 'title' must be text, not a mapping",
    ),
    "publisher as true": Case(
        edit_metadata("date: '2020'", "publisher: yes"),
        1,
        "metadata/demo.yaml:6: 'publisher' must be text, not true or false",
    ),
    "title of 100,000 characters": Case(
        edit_metadata("title: Demo Book", "title: " + "Long " * 20_000),
        1,
        "metadata/demo.yaml:1: 'title' is 99,999 characters long; at most 5,000",
    ),
    "creator of 100,000 characters": Case(
        edit_metadata("- A. Writer", "- " + "W" * 100_000),
        1,
        "metadata/demo.yaml:3: 'name' of 'creators entry 1' is 100,000 characters long; "
        "at most 5,000",
    ),
    "unknown key of 500,000 characters": Case(
        edit_metadata("date: '2020'", "? " + "k" * 500_000 + "\n: 1"),
        1,
        "metadata/demo.yaml:6: unknown key 'kkkk",
    ),
    "chapter name of 100,000 characters": Case(list_chapter("c" * 100_000), 2, "book/demo/cccc"),
    "YAML alias bomb": Case(
        metadata(laughs()), 1, "metadata/demo.yaml:3: YAML aliases (*a0) are not allowed"
    ),
    "YAML alias as a value": Case(
        edit_metadata("title: Demo Book", "title: &t Demo Book\nsubtitle: *t"),
        1,
        "metadata/demo.yaml:2: YAML aliases (*t) are not allowed in metadata",
    ),
    "YAML nested 10,000 deep": Case(
        metadata("title: " + "[" * 10_000 + "]" * 10_000 + "\n"),
        2,
        "metadata/demo.yaml:1: malformed YAML: exceeded maximum nesting depth",
    ),
    # Issue 18: only regular files are read, each within a bound, and never a FIFO's open.
    "metadata file of 2 MB": Case(
        metadata("title: " + "x" * (2 << 20) + "\n"),
        2,
        "metadata/demo.yaml: cannot read (larger than 1 MB, the limit for this kind of file)",
    ),
    "metadata file a FIFO": Case(
        special("metadata/demo.yaml", "fifo"),
        2,
        "metadata/demo.yaml: cannot read (a FIFO, not a regular file)",
    ),
    "metadata file a link to /dev/zero": Case(
        special("metadata/demo.yaml", "device"),
        2,
        "metadata/demo.yaml: cannot read (a device, not a regular file)",
    ),
    "metadata file a folder": Case(
        special("metadata/demo.yaml", "folder"),
        2,
        "metadata/demo.yaml: cannot read (a folder, not a regular file)",
    ),
    "metadata file a link out of the project": Case(
        special("metadata/demo.yaml", "outside"),
        2,
        "metadata/demo.yaml: cannot read (a link to a file outside the project)",
    ),
    "chapter a FIFO": Case(
        special("book/demo/01-one.md", "fifo"),
        2,
        "book/demo/01-one.md: cannot read (a FIFO, not a regular file)",
    ),
    "chapter a folder": Case(
        special("book/demo/01-one.md", "folder"),
        2,
        "book/demo/01-one.md: cannot read (a folder, not a regular file)",
    ),
    "chapter a link loop": Case(
        special("book/demo/01-one.md", "loop"),
        2,
        "metadata/demo.yaml:7: cannot read chapter '01-one.md' (Too many levels of symbolic links)",
    ),
    "chapter a link to /dev/zero": Case(
        special("book/demo/01-one.md", "device"),
        1,
        "metadata/demo.yaml:7: chapter '01-one.md' must be a relative path inside book/demo/",
    ),
    "chapter of 60 MB": Case(
        special("book/demo/01-one.md", "huge"),
        2,
        "book/demo/01-one.md: cannot read (larger than 50 MB, the limit for this kind of file)",
    ),
    "picture a FIFO": Case(
        both(chapter(IMG), special("book/demo/pic.png", "fifo")),
        1,
        "book/demo/01-one.md:3: cannot read image 'pic.png' (a FIFO, not a regular file)",
    ),
    "picture a folder": Case(
        both(chapter(IMG), special("book/demo/pic.png", "folder")),
        1,
        "book/demo/01-one.md:3: cannot read image 'pic.png' (a folder, not a regular file)",
    ),
    "picture a link loop": Case(
        both(chapter(IMG), special("book/demo/pic.png", "loop")),
        1,
        "book/demo/01-one.md:3: cannot read image 'pic.png' (Too many levels of symbolic links)",
    ),
    "picture of 60 MB": Case(
        both(chapter(IMG), special("book/demo/pic.png", "huge")),
        1,
        "book/demo/01-one.md:3: cannot read image 'pic.png' (larger than 50 MB",
    ),
    "cover a FIFO": Case(
        special("covers/demo.jpg", "fifo"), 2, "covers/demo.jpg: cannot read (a FIFO"
    ),
    "cover a folder": Case(
        special("covers/demo.jpg", "folder"), 2, "covers/demo.jpg: cannot read (a folder"
    ),
    "cover a link to /dev/zero": Case(
        special("covers/demo.jpg", "device"), 2, "covers/demo.jpg: cannot read (a device"
    ),
    "cover a link out of the project": Case(
        special("covers/demo.jpg", "outside"),
        2,
        "covers/demo.jpg: cannot read (a link to a file outside the project)",
    ),
    "cover of 60 MB": Case(
        special("covers/demo.jpg", "huge"),
        2,
        "covers/demo.jpg: cannot read (larger than 50 MB, the limit for this kind of file)",
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


NOTE = "Text[^1].\n\n[^1]: A note.\n"
XHTML = "{http://www.w3.org/1999/xhtml}"
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
    "lists nested 90 deep by indentation": (
        "# One\n\n" + "".join("  " * i + "- a\n" for i in range(90)),
        {},
    ),
    "numbered lists nested 89 deep by indentation in a block quote": (
        "# One\n\n" + "".join("> " + "   " * i + "1. a\n" for i in range(89)),
        {},
    ),
    "brackets in closed code fences": ("# One\n\n```\n" + "[" * 50 + "\n```\n", {}),
    "2,000 spans with attributes in 550 KB": (
        "# One\n\n" + ('<span class="x">w</span> ' + "word " * 50 + "\n\n") * 2000,
        {},
    ),
    "300,000-letter French word": ("# Un\n\n« " + "a" * 300_000 + " » !\n", {}),
    "300,000 spaces in a line": ("# Un\n\nx" + " " * 300_000 + "y ; z\n", {}),
    "line indented by 300,000 spaces": ("# One\n\n" + " " * 300_000 + "x\n", {}),
}


# Metadata the front and back matter pages set as text (`matter`): markup characters,
# right-to-left names among left-to-right ones, names without a space to break at.
HOSTILE_METADATA: dict[str, dict[str, Any]] = {
    "markup in every field": {
        "title": "<b>Tom & Jerry</b> <script>alert(1)</script> ]]> <!-- &amp;",
        "subtitle": "<i>&lt;not a tag&gt;</i>",
        "creators": ["A <b>bold</b> & Co."],
        "publisher": "P&P <Press>",
        "rights": "© <year> & all that",
        "edition": "2nd <ed>",
        "dedication": "For <you> & me\n\n]]><![CDATA[",
        "contributors": [{"name": "<tr>", "role": "translator"}],
    },
    "right-to-left names": {
        "title": "שלום עולם",
        "creators": ["مرحبا بالعالم", "A. Writer"],
        "publisher": "הוצאה לאור",
        "contributors": [{"name": "مترجم", "role": "translator"}],
        "dedication": "לאמא",
    },
    "names of 2,000 letters": {
        "title": "T" * 2000,
        "creators": ["N" * 2000],
        "publisher": "P" * 2000,
        "contributors": [{"name": "C" * 2000, "role": "editor"}],
    },
}


@pytest.mark.parametrize("name", HOSTILE_METADATA, ids=list(HOSTILE_METADATA))
def test_hostile_metadata_is_text_on_the_matter_pages(make_project, epubcheck, name):
    fields = HOSTILE_METADATA[name]
    make_project.book(**fields)
    paths = api.build(make_project.root, use_cache=False)
    assert {path.name for path in paths} >= {f"demo{f.suffix}" for f in FORMATS.values()}
    (epub,) = [path for path in paths if path.name == "demo.epub"]
    report = epubcheck.check(epub)
    assert report.clean, report
    with zipfile.ZipFile(epub) as archive:
        title_page = etree.fromstring(archive.read("EPUB/titlepage.xhtml"))
        imprint = archive.read("EPUB/copyright-page.xhtml").decode("utf-8")
    lines = ["".join(line.itertext()) for line in title_page.iter(f"{XHTML}h1", f"{XHTML}p")]
    assert lines[0] == fields["title"] and fields["creators"][0] in lines
    assert "<script" not in imprint and "<tr>" not in imprint


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
    result = _within_seconds(lambda: runner.invoke(app, ["build", *case.args]))

    assert result.exit_code == case.code, result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, lines
    assert len(lines[0]) <= 320, lines[0][:400]
    assert lines[0].startswith("error: " + case.message), lines[0]
    assert "Traceback" not in result.output
    assert isinstance(result.exception, SystemExit | None)
    assert {p.name: p.read_bytes() for p in dist.iterdir()} == before


def _within_seconds(run: Callable[[], Any], seconds: int = 30) -> Any:
    """`run()`, failed as a hang after `seconds` (a FIFO opened for reading waits forever)."""

    def hang(signum: int, frame: Any) -> None:
        raise TimeoutError(f"still running after {seconds} s")

    previous = signal.signal(signal.SIGALRM, hang)
    signal.alarm(seconds)
    try:
        return run()
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


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


def contents(data: bytes) -> Iterator[bytes]:
    """Every byte an output carries, as a reader unpacks it: each zip member (EPUB, KEPUB,
    DOCX) decompressed, each PalmDB record of a Kindle file and its PalmDOC text."""
    yield data
    if data[:4] == b"PK\x03\x04":
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            for name in archive.namelist():
                yield from contents(archive.read(name))
    elif data[60:68] == b"BOOKMOBI":
        records = read_records(data)
        for number, record in enumerate(records):
            yield record
            if record[16:20] == b"MOBI":  # a MOBI header (MOBI 6's, or KF8's): its text follows
                (count,) = struct.unpack_from(">H", record, 8)
                (flags,) = struct.unpack_from(">I", record, 0xF0)
                text = records[number + 1 : number + 1 + count]
                yield b"".join(decompress(strip_trailing(r, flags)) for r in text)


def test_nothing_from_outside_the_project_reaches_any_output(make_project, tmp_path, epubcheck):
    """A file outside the project that a book tries to reach by an entity, raw TeX or
    pandoc's include: each stays literal text or is dropped; by a DOCTYPE declaring
    entities (XXE, billion laughs), XInclude, a symlink, `../`, an
    absolute path or a `file:` URL (as a chapter, a picture, a cover, or any other file a
    reader loads: srcset, video, audio, track, object, iframe, SVG, MathML): each is
    refused, and the build writes nothing."""
    canary = "CANARY-7f3a9c"
    secret = tmp_path / "secret.txt"
    secret.write_text(canary)
    picture = tmp_path / "secret.png"
    Image.new("RGB", (16, 16)).save(picture, pnginfo=_text_chunk(canary))
    laughs = '<!DOCTYPE l [<!ENTITY a "ha"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;">]>'
    book = make_project.book(
        chapters={
            "01-one.md": "# One\n\n<p>&e;</p>\n\n<p>&b;</p>\n\n"
            f"\\input{{{secret}}}\n\n```{{.include}}\n{secret}\n```\n"
        }
    )
    built = api.build(make_project.root)
    assert {p.suffix for p in built} >= {".epub", ".azw3", ".mobi", ".docx"}
    for path in built:
        for data in contents(path.read_bytes()):
            assert canary.encode() not in data, path
            assert b"hahaha" not in data, path
    assert epubcheck.check(built[0]).clean

    os.symlink(picture, book / "link.png")
    Image.new("RGB", (16, 16)).save(book / "inside.png")
    outside, elsewhere = f"../../../{picture.name}", f"../../../{secret.name}"
    reach = [
        f'<!DOCTYPE x [<!ENTITY e SYSTEM "file://{secret}">]>\n\n<p>&e;</p>',
        f"{laughs}\n\n<p>&b;</p>",
        f'<xi:include xmlns:xi="http://www.w3.org/2001/XInclude" href="file://{secret}"/>',
        "![A](link.png)",
        f"![A]({outside})",
        f"![A]({picture})",
        f"![A](file://{picture})",
        f"[A](file://{secret})",
        f"[A]({elsewhere})",
        f'<img src="inside.png" srcset="inside.png 1x, {outside} 2x" alt="A"/>',
        f'![A](inside.png){{srcset="{picture} 2x"}}',
        f'<picture><source srcset="{outside}"/><img src="inside.png" alt="A"/></picture>',
        f'<video src="{elsewhere}"></video>',
        f'<video poster="file://{picture}"></video>',
        f'<audio><source src="{elsewhere}"/></audio>',
        f'<video><track src="{secret}"/></video>',
        f'<object data="{elsewhere}"></object>',
        f'<iframe src="{elsewhere}"></iframe>',
        f'<svg xmlns="http://www.w3.org/2000/svg"><image href="{outside}"/></svg>',
        f'<math xmlns="http://www.w3.org/1998/Math/MathML" altimg="{outside}"><mi>x</mi></math>',
    ]
    attempts = tmp_path / "attempts"
    for attempt in reach:
        (book / "01-one.md").write_text(f"# One\n\n{attempt}\n")
        with pytest.raises(BookError) as refused:
            api.build(make_project.root, out=attempts)
        assert [d.line for d in refused.value.all_diagnostics()] == [3], attempt
    assert not attempts.exists() or not any(attempts.iterdir())
    (book / "01-one.md").write_text("# One\n")
    cover = tmp_path / "cover.png"
    Image.new("RGB", (160, 256)).save(cover, pnginfo=_text_chunk(canary))
    (make_project.root / "covers").mkdir()
    os.symlink(cover, make_project.root / "covers" / "demo.png")
    with pytest.raises(InputError, match=r"cannot read \(a link to a file outside the project\)"):
        api.check(make_project.root)


def _text_chunk(text: str) -> PngImagePlugin.PngInfo:
    info = PngImagePlugin.PngInfo()
    info.add_text("Comment", text)
    return info


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


@pytest.mark.parametrize(
    ("fields", "opf_time", "zip_time"),
    [
        ({"modified": "2200-01-01T00:00:00"}, "2200-01-01T00:00:00Z", (2107, 12, 31, 23, 59, 58)),
        ({"modified": "1970-06-01T00:00:00"}, "1970-06-01T00:00:00Z", (1980, 1, 1, 0, 0, 0)),
        ({"date": "0800"}, "1980-01-01T00:00:00Z", (1980, 1, 1, 0, 0, 0)),
    ],
)
def test_times_a_zip_cannot_record_build_clean(
    make_project, epubcheck, monkeypatch, fields, opf_time, zip_time
):
    """Issue 18: a zip entry records 1980 to 2107 only; the package keeps the true time."""
    monkeypatch.delenv("SOURCE_DATE_EPOCH", raising=False)
    make_project.book(**fields)
    paths = api.build(make_project.root)
    epub = next(p for p in paths if p.name == "demo.epub")
    assert epubcheck.check(epub).clean
    with zipfile.ZipFile(epub) as archive:
        assert {info.date_time for info in archive.infolist()} == {zip_time}
        assert (
            f'<meta property="dcterms:modified">{opf_time}</meta>'
            in archive.read("EPUB/content.opf").decode()
        )
