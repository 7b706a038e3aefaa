"""A content-addressed cache of pandoc's output, one entry per chapter.

Pandoc is most of a build's time, and while editing a book only one chapter changes at a
time. An entry's key covers everything that makes pandoc's output: the chapter's bytes,
the options, and the versions of pandoc and ebook-builder, so a change to any of them is a
miss, never a stale hit. Each entry carries the hash of its own content, so a corrupt or
truncated entry is detected, dropped and rebuilt, never packaged.

Every edit leaves the entries of the text it replaced behind, so entries unused for a month
are removed; a build looks for them at most once a day.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import time
from pathlib import Path

from ebook_builder.errors import OutputError
from ebook_builder.output import atomic_output

UNUSED_FOR = 30 * 24 * 3600  # seconds since an entry was last read or written
PRUNE_EVERY = 24 * 3600  # seconds between two looks for such entries
PRUNED_STAMP = "pruned"  # the file whose time is that of the last look


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
        with contextlib.suppress(OSError):
            os.utime(path)  # read now: pruning keeps it
        return content.decode("utf-8")

    def stored_keys(self) -> list[str]:
        """The keys of the entries stored."""
        if self.folder is None:
            return []
        return [path.name for path in self.folder.glob("??/*")]

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

    def prune(self, now: float | None = None) -> None:
        """Remove the entries unused for `UNUSED_FOR`, unless that was done in `PRUNE_EVERY`."""
        if self.folder is None:
            return
        now = time.time() if now is None else now
        stamp = self.folder / PRUNED_STAMP
        try:
            if now - stamp.stat().st_mtime < PRUNE_EVERY:
                return
        except OSError:
            pass
        try:
            with os.scandir(self.folder) as shards:
                folders = [shard.path for shard in shards if shard.is_dir()]
            for folder in folders:
                with os.scandir(folder) as entries:
                    for entry in entries:
                        if now - entry.stat().st_mtime > UNUSED_FOR:
                            os.unlink(entry.path)
            stamp.touch()
            os.utime(stamp, (now, now))
        except OSError:
            return  # another build pruning too, or a read-only cache: only slower


NO_CACHE = ChapterCache(None)
