"""A content-addressed cache of pandoc's output, one entry per chapter.

Pandoc is most of a build's time, and while editing a book only one chapter changes at a
time. An entry's key covers everything that makes pandoc's output: the chapter's bytes,
the options, and the versions of pandoc and ebook-builder, so a change to any of them is a
miss, never a stale hit. Each entry carries the hash of its own content, so a corrupt or
truncated entry is detected, dropped and rebuilt, never packaged.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

from ebook_builder.errors import OutputError
from ebook_builder.fingerprint import file_hash
from ebook_builder.output import atomic_output


class ChapterCache:
    """Entries under `<folder>/<2 hex>/<key>`; `folder=None` is a cache that never hits."""

    def __init__(self, folder: Path | None) -> None:
        self.folder = folder

    def _path(self, key: str) -> Path:
        assert self.folder is not None
        return self.folder / key[:2] / key

    def get(self, key: str) -> str | None:
        """The cached text, or None when absent or damaged (a damaged entry is removed)."""
        if self.folder is None:
            return None
        path = self._path(key)
        try:
            data = path.read_bytes()
        except OSError:
            return None
        checksum, _, content = data.partition(b"\n")
        if hashlib.sha256(content).hexdigest().encode() != checksum:
            path.unlink(missing_ok=True)
            return None
        return content.decode("utf-8")

    def put(self, key: str, text: str) -> None:
        """Store `text`; a cache that cannot be written is only slower, never an error."""
        if self.folder is None:
            return
        content = text.encode("utf-8")
        checksum = hashlib.sha256(content).hexdigest().encode()
        try:
            with atomic_output(self._path(key)) as temporary:
                temporary.write_bytes(checksum + b"\n" + content)
        except OutputError:
            return


NO_CACHE = ChapterCache(None)


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

    def record(self, target: Path) -> None:
        if self.path is None:
            return
        try:
            with atomic_output(self.path) as temporary:
                temporary.write_text(f"{self.key}\n{file_hash(target)}\n", encoding="utf-8")
        except OutputError:
            return
