"""Stage 4: the output formats, one module each behind one small interface.

Adding a format means adding a module with a `write(book, path)` function and one entry
in `FORMATS`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from ebook_builder.formats.epub import write_epub
from ebook_builder.model import ConvertedBook


@dataclass(frozen=True)
class OutputFormat:
    """A format the `build` command can write: `<book-id><suffix>` made by `write`."""

    name: str
    suffix: str
    write: Callable[[ConvertedBook, Path], None]


FORMATS: dict[str, OutputFormat] = {
    fmt.name: fmt for fmt in (OutputFormat("epub", ".epub", write_epub),)
}
