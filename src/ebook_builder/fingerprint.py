"""Fingerprints: keys of the caches and records, and hashes of files and of the program.

Only the standard library: the launcher checks an unchanged build with these before
anything else is loaded.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from ebook_builder import __version__

CACHE_FORMAT = "1"


def cache_key(*parts: str) -> str:
    """A hash of `parts` that cannot collide by moving text from one part to the next."""
    digest = hashlib.sha256(CACHE_FORMAT.encode())
    for part in parts:
        data = part.encode("utf-8", "surrogatepass")
        digest.update(len(data).to_bytes(8, "big") + data)
    return digest.hexdigest()


def package_fingerprint() -> str:
    """Which ebook-builder runs: its version and the size and time of each of its files.

    The version alone would let an edited checkout (`pip install -e`) serve outputs made by
    the code before the edit.
    """
    package = Path(__file__).parent
    stats = sorted(
        (p.relative_to(package).as_posix(), p.stat().st_size, p.stat().st_mtime_ns)
        for p in package.rglob("*")
        if p.is_file() and "__pycache__" not in p.parts
    )
    return cache_key(__version__, json.dumps(stats))


def files_matching(folder: Path, pattern: str) -> list[Path]:
    """The files (not folders) that `pattern` matches in `folder`, in a fixed order."""
    return [path for path in sorted(folder.glob(pattern)) if path.is_file()]


def file_hash(path: Path) -> str:
    """The SHA-256 of a file's bytes, read in blocks so large files stay out of memory."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while block := handle.read(1 << 20):
            digest.update(block)
    return digest.hexdigest()
