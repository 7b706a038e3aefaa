"""Keys of the chapter cache and the output stamps: hashes of text, files and the program."""

from __future__ import annotations

import hashlib
import json
import os
import stat
from fnmatch import fnmatch
from pathlib import Path

from ebook_builder import __version__

CACHE_FORMAT = "1"
# What editors and file browsers leave beside a file being edited (vim, emacs, gedit,
# macOS Finder): never a chapter or a picture, so neither a change to rebuild for nor an
# input of an output's stamp.
EDITOR_SCRATCH = (".*.sw?", "*~", ".#*", "#*#", ".DS_Store")
PACKAGE = Path(__file__).resolve().parents[1]


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
    the code before the edit. Bytecode (`__pycache__`) is left out: Python rewrites it
    whenever it likes.
    """
    files = []
    for path in sorted(PACKAGE.rglob("*")):
        if "__pycache__" not in path.parts and _is_file(path):
            info = path.stat()
            files.append((path.relative_to(PACKAGE).as_posix(), info.st_size, info.st_mtime_ns))
    return cache_key(__version__, json.dumps(files))


def input_files(folder: Path, pattern: str) -> list[Path]:
    """The files (not folders) that `pattern` matches in `folder`, editors' scratch left out.

    Sorted as paths sort; a `**` part does not follow symbolic links (`Path.glob`'s rule).
    """
    return sorted(
        path
        for path in folder.glob(pattern)
        if not any(fnmatch(path.name, scratch) for scratch in EDITOR_SCRATCH) and _is_file(path)
    )


def _is_file(path: Path) -> bool:
    try:
        return stat.S_ISREG(os.stat(path).st_mode)
    except OSError:
        return False  # a broken link: not a file, as for Path.is_file


def file_hash(path: str | os.PathLike[str]) -> str:
    """The SHA-256 of a file's bytes, read in blocks so large files stay out of memory."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while block := handle.read(1 << 20):
            digest.update(block)
    return digest.hexdigest()
