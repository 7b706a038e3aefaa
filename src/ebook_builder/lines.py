"""Where a problem lies in the Markdown: the line a diagnostic names.

The later stages see pandoc's HTML, not the Markdown, so a problem is placed by searching
the chapter's source for the text that caused it. Whitespace in that text may have been any
whitespace in the source (a link's title may follow its address after spaces, a tab or a
line break), and the same text may cause several problems: the n-th problem with the same
text is at the text's n-th occurrence.

The lines of all a pattern's occurrences are found once per chapter (`_lines_of`): looking
for the n-th from the start each time made a chapter of 100,000 headings quadratic.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from functools import lru_cache


def locate(markdown: str, needle: str, nth: int = 1) -> int | None:
    """The line (1-based) of the `nth` occurrence of `needle` in `markdown`, ignoring case
    and letting each run of whitespace in `needle` match any run of whitespace."""
    words = needle.split()
    if not words:
        return None
    pattern = re.compile(r"\s+".join(map(re.escape, words)), re.IGNORECASE)
    return _nth(_lines_of(markdown, pattern), nth)


def locate_any(markdown: str, needles: Iterable[str], nth: int = 1) -> int | None:
    """The line of the `nth` occurrence of the first needle found that often; failing that,
    of the first occurrence of the first needle found at all (a link by reference, written
    once and used twice, is reported twice at its one definition)."""
    needles = [needle for needle in needles if needle.strip()]
    for n in dict.fromkeys((nth, 1)):
        line = next((line for s in needles if (line := locate(markdown, s, n))), None)
        if line is not None:
            return line
    return None


def locate_shown(markdown: str, shown: str, nth: int = 1) -> int | None:
    """The line of the `nth` place where the letters and digits of `shown` (text as the
    book shows it) appear in order with only markup, punctuation or whitespace between:
    `*0*0` shows as `00`, and quotes are curly in the book but straight in the source."""
    characters = [c for c in shown if c.isalnum()][:40]
    if not characters:
        return None
    pattern = re.compile(r"[\W_]*".join(map(re.escape, characters)), re.IGNORECASE)
    return _nth(_lines_of(markdown, pattern), nth)


def locate_heading(markdown: str, level: int, nth: int) -> int | None:
    """The line of the `nth` ATX heading of `level` (`## …`), also inside a list or quote:
    where a heading's text cannot be found (a link in it, say), its order can."""
    pattern = re.compile(rf"^[ \t>*+\-\d.]*#{{{level}}}(?:[ \t]|$)", re.MULTILINE)
    return _nth(_lines_of(markdown, pattern), nth)


@lru_cache(maxsize=64)
def _lines_of(markdown: str, pattern: re.Pattern[str]) -> list[int]:
    """The line (1-based) of each occurrence of `pattern` in `markdown`, in one pass."""
    lines, line, position = [], 1, 0
    for match in pattern.finditer(markdown):
        line += markdown.count("\n", position, match.start())
        position = match.start()
        lines.append(line)
    return lines


def _nth(lines: list[int], nth: int) -> int | None:
    return lines[nth - 1] if 0 < nth <= len(lines) else None
