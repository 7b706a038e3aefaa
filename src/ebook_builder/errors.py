"""Error types and diagnostics shared by every stage.

Library code raises these and never prints or exits; the CLI maps each error to one
documented exit code. A `Diagnostic` is one problem at one place (`path:line: message`),
so that a stage can report every problem of a book at once.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum
from pathlib import Path

# The longest message a user sees: values quoted from the input (a title of megabytes, an
# expanded YAML alias) are cut in the middle, so that every problem stays one readable line.
MESSAGE_LIMIT = 200
# A path is shown whole up to this length (its end, with the line, always): with the message,
# an error line stays about 300 characters long.
PATH_LIMIT = 100


def shorten(text: str, limit: int = MESSAGE_LIMIT) -> str:
    """`text`, or its start and end around a `…` when it is longer than `limit` characters.

    The middle goes: a message says what is wrong at its start and often where at its end
    ("chapter '…' must be a relative path inside book/demo/").
    """
    if len(text) <= limit:
        return text
    head = (limit - 1) * 2 // 3
    return f"{text[:head]}…{text[len(text) - (limit - 1 - head) :]}"


class ExitCode(IntEnum):
    """The process exit codes documented in the README."""

    OK = 0
    BOOK_PROBLEMS = 1
    BAD_USAGE = 2
    INTERNAL_ERROR = 70  # sysexits' EX_SOFTWARE: a bug of ours, not a problem of the book
    INTERRUPTED = 130  # 128 + SIGINT, as shells report a process stopped by Ctrl-C


@dataclass(frozen=True)
class Diagnostic:
    """One problem, at a file where it has one; `line` is 1-based, or None when unknown."""

    path: Path | None
    message: str
    line: int | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "message", shorten(self.message))

    def __str__(self) -> str:
        if self.path is None:
            return self.message
        where = f"{self.path}:{self.line}" if self.line else f"{self.path}"
        return f"{shorten(where, PATH_LIMIT)}: {self.message}"

    def as_dict(self) -> dict[str, str | int | None]:
        """The diagnostic for `--json`: editors and CI read `path`, `line` and `message`."""
        path = self.path.as_posix() if self.path is not None else None
        return {"path": path, "line": self.line, "message": self.message}


class EbookError(Exception):
    """Base of every error the library raises on purpose; each carries its exit code."""

    exit_code: ExitCode = ExitCode.BOOK_PROBLEMS

    def __init__(
        self,
        message: str,
        diagnostics: list[Diagnostic] | None = None,
        *,
        path: Path | None = None,
        line: int | None = None,
    ) -> None:
        super().__init__(message)
        self.diagnostics: list[Diagnostic] = diagnostics or [Diagnostic(path, message, line)]

    def lines(self) -> list[str]:
        """The lines to show a user, one per problem."""
        return [str(d) for d in self.all_diagnostics()]

    def all_diagnostics(self) -> list[Diagnostic]:
        return self.diagnostics

    def __str__(self) -> str:
        return "\n".join(self.lines())


class UsageError(EbookError):
    """The command was asked for something that cannot exist (unknown book id, format)."""

    exit_code = ExitCode.BAD_USAGE


class InputError(EbookError):
    """A source file cannot be read at all: missing, unreadable, not UTF-8, not YAML."""

    exit_code = ExitCode.BAD_USAGE


class BookError(EbookError):
    """The sources were read but the book has problems (metadata, links, markup)."""

    exit_code = ExitCode.BOOK_PROBLEMS


class OutputError(EbookError):
    """An output file could not be written; earlier outputs are left as they were."""

    exit_code = ExitCode.BAD_USAGE


class BuildFailed(EbookError):
    """Several books failed; shows every problem and exits with the gravest code."""

    def __init__(self, errors: list[EbookError]) -> None:
        super().__init__(f"{len(errors)} books have problems")
        self.errors = errors
        self.exit_code = max(e.exit_code for e in errors)

    def all_diagnostics(self) -> list[Diagnostic]:
        return [d for error in self.errors for d in error.all_diagnostics()]
