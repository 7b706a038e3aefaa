"""Staged output: every file of a command appears complete, or none of them does.

Each output is written to a temporary file beside its target (the same folder, hence the
same file system, so that a rename replaces the file in one step), and the temporaries are
renamed over the targets only once every writer of the command has succeeded. A failed or
interrupted command removes its temporaries and leaves every earlier file as it was.

A command killed outright (`kill -9`, a power loss) cannot remove its temporaries: the next
command that writes the same target removes them. A temporary's name carries the process
that made it (`.demo.epub.4242.k3j9x0ab.tmp`), so that a build never removes those of a
build still running beside it: only those of a process that no longer exists. A pid is
only known on its own machine, and may be reused; so one of no living process is removed
at once, and any other (an older version's, without a pid) once it is a day old.
"""

from __future__ import annotations

import os
import re
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from glob import escape as glob_escape
from pathlib import Path

from ebook_builder.errors import OutputError

STALE_AFTER = 24 * 3600  # seconds: no build runs for a day
_RANDOM = "[a-z0-9_]{8}"  # what tempfile.mkstemp puts between prefix and suffix


class StagedOutputs:
    """The files a command is writing, each as (temporary, target), until it commits.

    Writers in several threads may ask for temporaries at once.
    """

    def __init__(self) -> None:
        self._staged: list[tuple[Path, Path]] = []
        self._lock = threading.Lock()

    def path(self, target: Path) -> Path:
        """A new empty temporary file beside `target`, renamed to it at the commit."""
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
            remove_stale_temporaries(target)
            handle, name = tempfile.mkstemp(
                dir=target.parent, prefix=f".{target.name}.{os.getpid()}.", suffix=".tmp"
            )
        except OSError as exc:
            message = f"cannot write to the output folder ({exc.strerror})"
            raise OutputError(message, path=target.parent) from None
        os.close(handle)
        temporary = Path(name)
        with self._lock:
            self._staged.append((temporary, target))
        return temporary

    def commit(self) -> None:
        """Rename every temporary over its target, in the order they were asked for."""
        mode = 0o666 & ~_umask()
        for temporary, target in self._staged:
            try:
                os.chmod(temporary, mode)  # mkstemp's 0600 would hide the book from others
                os.replace(temporary, target)
            except OSError as exc:
                self.discard()
                raise OutputError(f"cannot write ({exc.strerror or exc})", path=target) from None

    def discard(self) -> None:
        """Remove every temporary still there; the targets stay as they were."""
        for temporary, _ in self._staged:
            temporary.unlink(missing_ok=True)


@contextmanager
def staged_outputs() -> Iterator[StagedOutputs]:
    """Stage files in the block; rename them all into place when the block succeeds.

    What is guaranteed: no target is replaced before every write of the block has
    succeeded, and a failure or Ctrl-C in the block leaves every target untouched and no
    temporary behind. Renames cannot be made atomic as a group: a crash (power loss, a kill)
    during the renames themselves, a few system calls long, is the only moment at which
    some targets can be new and others old. A rename that fails (a target turned into a
    folder) stops the commit there and removes the temporaries not yet renamed.
    """
    staged = StagedOutputs()
    try:
        yield staged
    except BaseException:
        staged.discard()
        raise
    staged.commit()


@contextmanager
def atomic_output(path: Path) -> Iterator[Path]:
    """Yield a temporary path beside `path`; rename it to `path` when the block succeeds."""
    with staged_outputs() as staged:
        temporary = staged.path(path)
        try:
            yield temporary
        except OSError as exc:
            raise OutputError(f"cannot write ({exc.strerror or exc})", path=path) from None


def remove_stale_temporaries(target: Path) -> None:
    """Remove the temporaries of `target` that a killed command left beside it.

    Only files named as `StagedOutputs.path` names them are touched, and none of a process
    still running (see the module's docstring).
    """
    pattern = re.compile(rf"\.{re.escape(target.name)}\.(?:(\d+)\.)?{_RANDOM}\.tmp")
    for path in target.parent.glob(f".{glob_escape(target.name)}.*.tmp"):
        match = pattern.fullmatch(path.name)
        if match is None:
            continue
        try:
            pid = match.group(1)
            if (pid and not _running(int(pid))) or (
                not pid and time.time() - path.lstat().st_mtime > STALE_AFTER
            ):
                path.unlink()
        except OSError:
            continue  # gone already, or not ours to remove: it stays


def _running(pid: int) -> bool:
    """Whether a process `pid` exists on this machine (signal 0 checks, sends nothing)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OverflowError):
        return True  # another user's process, or no pid at all: leave it be
    return True


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask
