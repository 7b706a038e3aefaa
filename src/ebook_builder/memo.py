"""The answer to a build command that has nothing to do, given before the CLI loads.

Starting Python with Typer, rich and the pipeline's libraries takes a few tenths of a
second, longer than checking that nothing changed. So after each successful `ebook
build`, the command line is recorded with the hash of every input the build read, every
output it wrote, the tools that ran and what it printed. When the same command is typed
again in the same folder and every recorded file is unchanged (and no file was added to
or removed from the folders the inputs come from), the launcher prints the recorded lines
and stops; anything else runs the real command.

The check must cost a small part of a build, Python's own start included. So this module
loads only the standard library, and of that hardly more than Python has loaded at start
(marshal, zlib: json would load `re`, a third of a replay's time), and a file is read
again only when its stat changed: like git's index, a record keeps each file's size,
mtime, ctime and inode with its hash, and a file whose stat is the same is trusted. Any
write or `touch` moves the ctime, which only the system clock can set, so restoring an
old mtime by hand does not hide an edit; where ctime means creation (Windows) it does,
as it does for make. A file changed in the same tick of the file system's clock as the
record was made could change again unseen within that tick ("racily clean"), so its stat
is not kept and it is hashed every time.
"""

from __future__ import annotations

import marshal
import os
import time
import zlib

from ebook_builder import __version__
from ebook_builder.fingerprint import file_hash, matching_stats, package_files

TYPE_CHECKING = False  # as typing.TYPE_CHECKING, which costs more to import than a replay
if TYPE_CHECKING:
    from collections.abc import Sequence
    from pathlib import Path

    # Where the inputs of a build lie: (folder, glob pattern), as `api.watched_inputs` names them.
    Watched = Sequence[tuple[Path, str]]

RECORDS = os.path.join(".cache", "commands")
FORMAT = 3
# File times come from a clock that ticks every few milliseconds (on Linux, each jiffy)
# and lags `time.time_ns()`: a save that little before a build began counts as during it.
CLOCK_SLACK_NS = 10_000_000


def _record_path(command: Sequence[str]) -> str:
    """Where the record of `command` lies in the current folder.

    A checksum is enough for a file name: the record holds the command line and the epoch
    and answers only to them, so two commands with one name only replace each other's record.
    """
    key = "\0".join([str(FORMAT), _epoch(), *command]).encode("utf-8", "surrogatepass")
    return os.path.join(RECORDS, f"{zlib.crc32(key):08x}.record")


def _epoch() -> str:
    """The reproducible-build time, which shapes a build besides the files."""
    return os.environ.get("SOURCE_DATE_EPOCH", "")


def _program() -> list[object]:
    """Which ebook-builder runs: its version and files."""
    return [__version__, package_files()]


def _stat(info: os.stat_result) -> list[int]:
    """What changes when a file is written, moved or replaced."""
    return [info.st_size, info.st_mtime_ns, info.st_ctime_ns, info.st_ino]


def _size_and_time(info: os.stat_result) -> list[int]:
    """What is kept of a tool, too large to hash on every run."""
    return [info.st_size, info.st_mtime_ns]


def _entry(path: str, info: os.stat_result, clock: int) -> list:
    """A file's hash, with its stat if that changed before `clock`, so that it can be trusted.

    The stat is taken before the hash: a write after it changes the stat.
    """
    digest = file_hash(path)
    if max(info.st_mtime_ns, info.st_ctime_ns) < clock:
        return [digest, *_stat(info)]
    return [digest]


def _entries(folder: str, pattern: str, clock: int) -> dict[str, list]:
    """The `_entry` of each file that `pattern` matches in `folder`, by name."""
    found = matching_stats(folder, pattern)
    return {name: _entry(os.path.join(folder, name), info, clock) for name, info in found.items()}


def _state(watched: Watched, outputs: Sequence[Path], tools: Sequence[Path], clock: int) -> dict:
    """Every watched file and output as an `_entry`, and each tool's size and time."""
    inputs = [
        [str(folder), pattern, _entries(str(folder), pattern, clock)] for folder, pattern in watched
    ]
    made = {str(path): _entry(str(path), os.stat(path), clock) for path in outputs}
    stats = {str(path): _size_and_time(os.stat(path)) for path in tools}
    return {"inputs": inputs, "outputs": made, "tools": stats}


def _changed_since(watched: Watched, moment: int) -> bool:
    """Whether a watched file was written, moved or added at `moment` or later."""
    return any(
        max(info.st_mtime_ns, info.st_ctime_ns) >= moment
        for folder, pattern in watched
        for info in matching_stats(str(folder), pattern).values()
    )


def _racy(state: dict) -> bool:
    """Whether a file in `state` has no trusted stat."""
    files = [*state["outputs"].values()]
    for _, _, entries in state["inputs"]:
        files += entries.values()
    return any(len(entry) == 1 for entry in files)


def _clock(path: Path, after: int = -1) -> int:
    """The file system's time now, as it dates writes: the mtime of `path`, touched.

    File times tick coarsely (every few ms on Linux, 2 s on FAT), so this waits up to 0.1 s
    for a time later than `after`.
    """
    deadline = time.monotonic() + 0.1
    while True:
        os.utime(path)
        now = os.stat(path).st_mtime_ns
        if now > after or time.monotonic() > deadline:
            return now
        time.sleep(0.001)


def remember(
    command: Sequence[str],
    root: Path,
    lines: Sequence[str],
    watched: Watched,
    outputs: Sequence[Path],
    tools: Sequence[Path],
    started: int,
) -> None:
    """Record a build run in `root` that finished and began at `started` (`time.time_ns()`).

    A record that cannot be written is skipped, and so is one whose inputs were saved while
    the build ran: whether the build read them before or after the save is unknown.
    """
    # Loaded here, not above: a replay must not pay for what only recording uses.
    from pathlib import Path

    from ebook_builder.errors import OutputError
    from ebook_builder.output import atomic_output

    if root.resolve() != Path.cwd().resolve():
        return  # the launcher looks in the current folder only
    if _changed_since(watched, started - CLOCK_SLACK_NS):
        return
    try:
        with atomic_output(Path(_record_path(command))) as temporary:
            clock = _clock(temporary)
            state = _state(watched, outputs, tools, clock)
            if _racy(state):
                # Files written in the clock's last tick, such as the last output: once
                # the clock has moved on, their stat can be trusted.
                clock = _clock(temporary, after=clock)
                state = _state(watched, outputs, tools, clock)
            record = {
                "command": list(command),
                "epoch": _epoch(),
                "program": _program(),
                "state": state,
                "lines": list(lines),
            }
            temporary.write_bytes(marshal.dumps(record))
    except (OSError, OutputError):
        return


def replay(command: Sequence[str]) -> list[str] | None:
    """The lines the recorded run of `command` printed, if nothing it depends on changed."""
    try:
        with open(_record_path(command), "rb") as handle:
            record = marshal.load(handle)
        if (
            record["command"] != list(command)
            or record["epoch"] != _epoch()
            or record["program"] != _program()
            or not _unchanged(record["state"])
        ):
            return None
        return [str(line) for line in record["lines"]]
    except (OSError, EOFError, ValueError, LookupError, TypeError, AttributeError):
        return None  # no record, or a damaged one (or one another Python wrote)


def _unchanged(state: dict) -> bool:
    """Whether the files and tools are as `state` recorded them; hashes only where needed."""
    for path, size_and_time in state["tools"].items():
        if _size_and_time(os.stat(path)) != size_and_time:
            return False
    files = []
    for folder, pattern, entries in state["inputs"]:
        found = matching_stats(folder, pattern)
        if found.keys() != entries.keys():
            return False
        files += [(os.path.join(folder, name), info, entries[name]) for name, info in found.items()]
    files += [(path, os.stat(path), entry) for path, entry in state["outputs"].items()]
    suspects = [(path, entry[0]) for path, info, entry in files if entry[1:] != _stat(info)]
    return all(file_hash(path) == digest for path, digest in suspects)
