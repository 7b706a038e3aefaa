"""Output stamps: what each output was last built from, so an unchanged output is left alone.

A rebuild with nothing changed rewrites no file: a reader's library, a sync folder or
`make` sees the same file, with the same time, as before.
"""

from __future__ import annotations

from pathlib import Path

from ebook_builder.cache.keys import file_hash
from ebook_builder.errors import OutputError
from ebook_builder.output import StagedOutputs


class OutputStamp:
    """What an output file was last built from, kept beside the chapter cache.

    An output is current when the key of its inputs is the one recorded and the file still
    has the hash recorded when it was written: an edited or damaged output is rebuilt.
    """

    def __init__(self, path: Path | None, key: str) -> None:
        self.path = path
        self.key = key

    def is_current(self, target: Path) -> bool:
        if self.path is None:
            return False
        try:
            recorded = self.path.read_text(encoding="utf-8").split("\n")
            return recorded[:2] == [self.key, file_hash(target)]
        except (OSError, UnicodeDecodeError):
            return False

    def record(self, built: Path, staged: StagedOutputs) -> None:
        """Stamp the output `built` (its staged temporary): renamed with it, or not at all.

        A stamp that cannot be written only makes the next build slower, never an error.
        """
        if self.path is None:
            return
        try:
            temporary = staged.path(self.path)
            temporary.write_text(f"{self.key}\n{file_hash(built)}\n", encoding="utf-8")
        except (OutputError, OSError):
            return  # a half-written stamp matches no key: the output is rebuilt next time
