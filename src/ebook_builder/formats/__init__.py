"""Stage 4: the output formats, one module each behind one small interface.

Adding a format means adding a module with a `write(book, path)` function and one entry
in `FORMATS`. A writer's module is imported only when a build writes its format: the
writers and their libraries take longer to import than pandoc takes to convert a small
book, so the build imports them while pandoc works (`OutputFormat.load`). A module may
also have a `warm_up()` function, run then too, for work that does not depend on the
book.
"""

from __future__ import annotations

from dataclasses import dataclass
from importlib import import_module
from pathlib import Path
from types import ModuleType

from ebook_builder.model import ConvertedBook


@dataclass(frozen=True)
class OutputFormat:
    """A format the `build` command can write: `<book-id><suffix>` made by `writer`.

    `writer` (and `companion`, where a format has one) name functions of the module
    `ebook_builder.formats.<module>`. `media_type` is what the file is served as
    (`ebook preview`): IANA's for EPUB and DOCX, the types Amazon's own servers send for
    the Kindle files. A companion gives a file that belongs beside the
    book (the Kindle cover thumbnail): its name and bytes. `tools` names the programs the
    writer runs: while it waits for them, which frees the interpreter, the build writes
    the other formats (`api.build` runs such writers in threads).
    """

    name: str
    suffix: str
    media_type: str
    module: str
    writer: str
    companion: str | None = None
    tools: tuple[str, ...] = ()

    def load(self) -> ModuleType:
        return import_module(f"{__name__}.{self.module}")

    def warm_up(self) -> None:
        """Import the writer and run its `warm_up()`, if it has one: before the book is ready."""
        warm_up = getattr(self.load(), "warm_up", None)
        if warm_up is not None:
            warm_up()

    def write(self, book: ConvertedBook, path: Path) -> None:
        getattr(self.load(), self.writer)(book, path)

    def companion_file(self, book: ConvertedBook) -> tuple[str, bytes] | None:
        return None if self.companion is None else getattr(self.load(), self.companion)(book)


EPUB_MEDIA_TYPE = "application/epub+zip"
DOCX_MEDIA_TYPE = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"

FORMATS: dict[str, OutputFormat] = {
    fmt.name: fmt
    for fmt in (
        OutputFormat("epub", ".epub", EPUB_MEDIA_TYPE, "epub", "write_epub"),
        OutputFormat("kepub", ".kepub.epub", EPUB_MEDIA_TYPE, "kepub", "write_kepub"),
        OutputFormat(
            "azw3", ".azw3", "application/vnd.amazon.ebook", "kindle", "write_azw3", "thumbnail"
        ),
        OutputFormat(
            "mobi", ".mobi", "application/x-mobipocket-ebook", "kindle", "write_mobi", "thumbnail"
        ),
        OutputFormat("docx", ".docx", DOCX_MEDIA_TYPE, "docx", "write_docx", tools=("pandoc",)),
    )
}
