"""Stage 4: the output formats, one module each behind one small interface.

Adding a format means adding a module with a `write(book, path)` function and one entry
in `FORMATS`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from ebook_builder.formats.docx import write_docx
from ebook_builder.formats.epub import write_epub
from ebook_builder.formats.kepub import write_kepub
from ebook_builder.formats.kindle import thumbnail, write_azw3, write_mobi
from ebook_builder.model import ConvertedBook


@dataclass(frozen=True)
class OutputFormat:
    """A format the `build` command can write: `<book-id><suffix>` made by `write`.

    `companion`, where a format has one, gives a file that belongs beside the book (the
    Kindle cover thumbnail): its name and bytes. `external` says that most of the
    writing happens in another process (pandoc), so the build starts it first: that
    process then runs beside the writers in Python.
    """

    name: str
    suffix: str
    write: Callable[[ConvertedBook, Path], None]
    companion: Callable[[ConvertedBook], tuple[str, bytes]] | None = None
    external: bool = False


FORMATS: dict[str, OutputFormat] = {
    fmt.name: fmt
    for fmt in (
        OutputFormat("epub", ".epub", write_epub),
        OutputFormat("kepub", ".kepub.epub", write_kepub),
        OutputFormat("azw3", ".azw3", write_azw3, thumbnail),
        OutputFormat("mobi", ".mobi", write_mobi, thumbnail),
        OutputFormat("docx", ".docx", write_docx, external=True),
    )
}
