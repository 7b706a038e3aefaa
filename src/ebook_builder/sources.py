"""Reading a project's source files: only regular files, each within a size bound.

Whatever stands where a source should be, a build ends in seconds: a FIFO blocks whoever
opens it until a writer comes, `/dev/zero` never ends, a folder cannot be read, and a
file of gigabytes would fill the memory. Each is refused before its content is read, as an
`OSError`, so that every reader reports it as it reports any file it cannot read:
`cannot read (a FIFO, not a regular file)`. The limits are documented in the README
("What the build refuses").
"""

from __future__ import annotations

import errno
import os
import stat
from pathlib import Path

from ebook_builder.errors import InputError

MB = 1 << 20
# A metadata file is a few lines; a megabyte is already thousands of pages of YAML.
METADATA_LIMIT = 1 * MB
# Far beyond any chapter (the longest novels are a few megabytes of text) and any picture
# a store takes (Amazon KDP's limit for a whole EPUB is 650 MB, Apple's for a picture 10 MP).
CHAPTER_LIMIT = 50 * MB
PICTURE_LIMIT = 50 * MB
# Not every system has these flags; where one is missing, 0 leaves `os.open` as it is.
OPEN_FLAGS = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0)


class RefusedSource(OSError):
    """A file refused before reading: not a regular file, too large, or outside the project."""

    def __init__(self, why: str) -> None:
        super().__init__(0, why)


def read_source(path: Path, limit: int, inside: Path | None = None) -> bytes:
    """The bytes of the regular file `path` (symlinks followed), at most `limit` of them.

    `inside`, when given, is the folder the file must lie in once symlinks are resolved, so
    that a link never carries a file from outside the project into a book. The file is
    looked at before it is opened (opening some devices acts on them), opened without
    blocking (a FIFO put there meanwhile would otherwise wait for a writer), and looked at
    again once open, since it may have been replaced in between.
    """
    _check(os.stat(path), limit)
    if inside is not None and not resolved(path).is_relative_to(inside.resolve()):
        raise RefusedSource("a link to a file outside the project")
    with os.fdopen(os.open(path, OPEN_FLAGS), "rb") as handle:
        _check(os.fstat(handle.fileno()), limit)
        data = handle.read(limit + 1)
    if len(data) > limit:
        raise RefusedSource(_too_large(limit))
    return data


def read_input(path: Path, limit: int, shown: Path, inside: Path | None = None) -> bytes:
    """`read_source`, with a file that cannot be read (or is refused) the user's to fix:
    `InputError` "cannot read (why)", naming the file as `shown`."""
    try:
        return read_source(path, limit, inside)
    except OSError as exc:
        raise InputError(f"cannot read ({exc.strerror or exc})", path=shown) from None


def resolved(path: Path) -> Path:
    """`path` with every symlink followed; a loop of links is an `OSError`, as `open` says.

    Python 3.11's `Path.resolve` raises `RuntimeError` for a loop, which no caller expects.
    """
    try:
        return path.resolve()
    except RuntimeError:
        raise OSError(errno.ELOOP, os.strerror(errno.ELOOP), str(path)) from None


def _check(info: os.stat_result, limit: int) -> None:
    if not stat.S_ISREG(info.st_mode):
        raise RefusedSource(f"{_kind(info.st_mode)}, not a regular file")
    if info.st_size > limit:
        raise RefusedSource(_too_large(limit))


def _kind(mode: int) -> str:
    if stat.S_ISDIR(mode):
        return "a folder"
    if stat.S_ISFIFO(mode):
        return "a FIFO"
    if stat.S_ISSOCK(mode):
        return "a socket"
    return "a device"


def _too_large(limit: int) -> str:
    return f"larger than {limit // MB} MB, the limit for this kind of file"
