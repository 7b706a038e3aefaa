"""The book designs (`design:` in the metadata, `model.DESIGNS`): each design's stylesheet
and Word reference document, for every writer to take from one place.

A design is a file of CSS in `data/` (`classic.css`, `modern.css`) over the rules every
design shares (`base.css`), and a reference document for pandoc's DOCX writer
(`data/reference-<design>.docx`, made by `tools/docx_reference.py`). The stylesheet a book
carries is one file, the three joined: a Kindle book holds its CSS as one flow, which
cannot `@import`, and one file is one request for every reading system.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from functools import cache
from importlib.resources import as_file, files
from pathlib import Path

from ebook_builder.fonts import FACE_NAME


def _data(name: str) -> bytes:
    return files("ebook_builder").joinpath("data", name).read_bytes()


def face_rule() -> str:
    """The text face of every design, named once (`fonts.FACE_NAME`); the generic `serif`
    after it is what a reader without the face (MOBI 6, a font turned off) falls back to."""
    return f'body {{\n  font-family: "{FACE_NAME}", serif;\n}}\n'


@cache
def stylesheet(design: str) -> bytes:
    """The book's stylesheet: the shared rules, then the face, then the design's own, so
    that the design's rules win where they set the same property."""
    return b"\n".join((_data("base.css"), face_rule().encode(), _data(f"{design}.css")))


@contextmanager
def reference_docx(design: str) -> Iterator[Path]:
    """The design's Word reference document as a file pandoc can read."""
    with as_file(files("ebook_builder").joinpath("data", f"reference-{design}.docx")) as path:
        yield path
