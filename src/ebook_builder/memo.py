"""The answer to a build command that has nothing to do, given before the CLI loads.

Starting Python with Typer, rich and the pipeline's libraries takes a few tenths of a
second, longer than checking that nothing changed. So after each successful `ebook
build`, the command line is recorded with the hash of every input the build read, every
output it wrote, the tools that ran and what it printed. When the same command is typed
again in the same folder and every recorded hash still matches (and no file was added to
or removed from the folders the inputs come from), the launcher prints the recorded lines
and stops; anything else runs the real command. Only the standard library is imported here.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Sequence
from pathlib import Path

from ebook_builder.fingerprint import file_hash, files_matching, package_fingerprint

RECORDS = Path(".cache") / "commands"

# Where the inputs of a build lie: (folder, glob pattern), as `api.watched_inputs` names them.
Watched = Sequence[tuple[Path, str]]


def _record_path(folder: Path, command: Sequence[str]) -> Path:
    key = hashlib.sha256(json.dumps([list(command), _environment()]).encode()).hexdigest()
    return folder / RECORDS / f"{key}.json"


def _environment() -> list[str]:
    """What besides the files shapes a build: the tools and the reproducible-build epoch."""
    return [package_fingerprint(), os.environ.get("SOURCE_DATE_EPOCH", "")]


def _state(watched: Watched, outputs: Sequence[Path], tools: Sequence[Path]) -> dict:
    """Every watched file and output with its hash, and each tool's size and time."""
    inputs = {
        f"{folder}\0{pattern}": {
            p.relative_to(folder).as_posix(): file_hash(p) for p in files_matching(folder, pattern)
        }
        for folder, pattern in watched
    }
    made = {str(p): file_hash(p) for p in outputs}
    stats = {str(p): [p.stat().st_size, p.stat().st_mtime_ns] for p in tools}
    return {"inputs": inputs, "outputs": made, "tools": stats}


def remember(
    command: Sequence[str],
    root: Path,
    lines: Sequence[str],
    watched: Watched,
    outputs: Sequence[Path],
    tools: Sequence[Path],
) -> None:
    """Record a finished build run in `root`; a record that cannot be written is skipped."""
    # Loaded here, not above: a replay must not pay for what only recording uses.
    from ebook_builder.errors import OutputError
    from ebook_builder.output import atomic_output

    if root.resolve() != Path.cwd().resolve():
        return  # the launcher looks in the current folder only
    try:
        state = _state(watched, outputs, tools)
        record = {
            "watched": [[str(f), p] for f, p in watched],
            "tools": [str(t) for t in tools],
            "state": state,
            "lines": list(lines),
        }
        with atomic_output(_record_path(root, command)) as temporary:
            temporary.write_text(json.dumps(record), encoding="utf-8")
    except (OSError, OutputError):
        return


def replay(command: Sequence[str]) -> list[str] | None:
    """The lines the recorded run of `command` printed, if nothing it depends on changed."""
    try:
        record = json.loads(_record_path(Path.cwd(), command).read_text(encoding="utf-8"))
        watched = [(Path(folder), pattern) for folder, pattern in record["watched"]]
        outputs = [Path(p) for p in record["state"]["outputs"]]
        tools = [Path(p) for p in record["tools"]]
        if _state(watched, outputs, tools) != record["state"]:
            return None
        return list(record["lines"])
    except (OSError, ValueError, KeyError, TypeError):
        return None
