"""Fingerprints: keys of the caches and records, and hashes of files and of the program.

Only the standard library: the launcher checks an unchanged build with these before
anything else is loaded, so this module imports nothing that Python has not loaded at start.
Not `re` (through json or fnmatch), which alone costs a replay a third of its time; hashlib
(a few milliseconds, for OpenSSL) and json are loaded by the functions that use them, and
pathlib and typing (for type hints only) not at all.
"""

from __future__ import annotations

import os
import stat

from ebook_builder import __version__

TYPE_CHECKING = False  # as typing.TYPE_CHECKING, which costs more to import than a replay
if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

CACHE_FORMAT = "1"
# What editors and file browsers leave beside a file being edited (vim, emacs, gedit,
# macOS Finder): never a chapter or a picture, so neither a change to rebuild for nor an
# input of an output's stamp.
EDITOR_SCRATCH = (".*.sw?", "*~", ".#*", "#*#", ".DS_Store")


def cache_key(*parts: str) -> str:
    """A hash of `parts` that cannot collide by moving text from one part to the next."""
    import hashlib

    digest = hashlib.sha256(CACHE_FORMAT.encode())
    for part in parts:
        data = part.encode("utf-8", "surrogatepass")
        digest.update(len(data).to_bytes(8, "big") + data)
    return digest.hexdigest()


def package_files() -> list[tuple[str, int, int]]:
    """Each file of the installed package, '/'-separated from its folder, with size and mtime.

    Bytecode (`__pycache__`) is left out: Python rewrites it whenever it likes.
    """
    package = os.path.dirname(os.path.abspath(__file__))
    files = []
    for folder, subfolders, names in os.walk(package):
        subfolders[:] = [name for name in subfolders if name != "__pycache__"]
        prefix = folder[len(package) + 1 :].replace(os.sep, "/")
        for name in names:
            try:
                info = os.stat(os.path.join(folder, name))
            except OSError:
                continue  # a broken link: not a file, as for Path.is_file
            if stat.S_ISREG(info.st_mode):
                files.append(
                    (f"{prefix}/{name}" if prefix else name, info.st_size, info.st_mtime_ns)
                )
    return sorted(files)


def package_fingerprint() -> str:
    """Which ebook-builder runs: its version and the size and time of each of its files.

    The version alone would let an edited checkout (`pip install -e`) serve outputs made by
    the code before the edit.
    """
    import json

    return cache_key(__version__, json.dumps(package_files()))


def files_matching(folder: Path, pattern: str) -> list[Path]:
    """The files (not folders) that `pattern` matches in `folder`, sorted as paths sort."""
    names = sorted(matching_stats(os.fspath(folder), pattern), key=lambda name: name.split("/"))
    return [folder / name for name in names]


def matching_stats(folder: str, pattern: str) -> dict[str, os.stat_result]:
    """The files `pattern` matches in `folder`, by '/'-separated name, with their stat.

    The rules of `Path.glob` (a `**` part stands for the folder and every folder below it,
    not through symbolic links; folders that cannot be read are skipped), without pathlib,
    which the launcher cannot afford to load. Editors' scratch files are left out.
    """
    prefixes = [""]  # the names reached so far, folders ending in "/"
    parts = pattern.split("/")
    for index, part in enumerate(parts):
        if part == "**":
            prefixes = [below for prefix in prefixes for below in _folders(folder, prefix)]
            continue
        last = index == len(parts) - 1
        prefixes = [
            prefix + entry.name + ("" if last else "/")
            for prefix in prefixes
            for entry in _entries(os.path.join(folder, prefix))
            if matches(entry.name, part) and (last or _is_folder(entry))
        ]
    found = {}
    for name in prefixes:
        if any(matches(name.rpartition("/")[2], scratch) for scratch in EDITOR_SCRATCH):
            continue
        try:
            info = os.stat(os.path.join(folder, name))
        except OSError:
            continue  # a broken link: not a file, as for Path.is_file
        if stat.S_ISREG(info.st_mode):
            found[name] = info
    return found


def matches(name: str, pattern: str) -> bool:
    """Whether `name` matches `pattern`, as fnmatch says.

    The inputs' patterns (`*.yaml`, `**/*`, `<book-id>.*`, `EDITOR_SCRATCH`) have only `*`
    and `?`, matched here; fnmatch, which would load `re` for them, is left to `[...]`.
    """
    if "[" in pattern:
        from fnmatch import fnmatch

        return fnmatch(name, pattern)
    if not pattern:
        return not name
    first, rest = pattern[0], pattern[1:]
    if first == "*":
        return any(matches(name[start:], rest) for start in range(len(name) + 1))
    return bool(name) and first in ("?", name[0]) and matches(name[1:], rest)


def _entries(folder: str) -> list[os.DirEntry[str]]:
    try:
        with os.scandir(folder) as entries:
            return list(entries)
    except (PermissionError, FileNotFoundError, NotADirectoryError):
        return []


def _is_folder(entry: os.DirEntry[str]) -> bool:
    try:
        return entry.is_dir()
    except OSError:
        return False


def _folders(folder: str, prefix: str) -> Iterator[str]:
    """`prefix` and every folder below it, not through symbolic links (as `**` in Path.glob)."""
    yield prefix
    for entry in _entries(os.path.join(folder, prefix)):
        try:
            below = entry.is_dir(follow_symlinks=False)
        except OSError:
            below = False
        if below:
            yield from _folders(folder, f"{prefix}{entry.name}/")


def file_hash(path: str | os.PathLike[str]) -> str:
    """The SHA-256 of a file's bytes, read in blocks so large files stay out of memory."""
    import hashlib

    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while block := handle.read(1 << 20):
            digest.update(block)
    return digest.hexdigest()
