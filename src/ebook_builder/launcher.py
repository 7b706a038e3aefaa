"""The `ebook` command's entry point: a rebuild with nothing to do never loads the CLI."""

from __future__ import annotations

import sys


def main() -> None:
    """Answer an unchanged `ebook build` from its record (see `memo`), else run the CLI."""
    command = sys.argv[1:]
    if command[:1] == ["build"]:
        from ebook_builder.memo import replay

        lines = replay(command)
        if lines is not None:
            sys.stdout.write("".join(f"{line}\n" for line in lines))
            return
    from ebook_builder.cli import app

    app(args=command, prog_name="ebook", obj={"command": command})
