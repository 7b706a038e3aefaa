"""Stage 2's guard: Markdown that pandoc cannot read in bounded time or memory, refused at
its line before pandoc runs.

Pandoc's Markdown reader is quick on prose but slow on some markup, and a chapter nobody
here wrote may be full of it: deep nesting, brackets left open, and raw HTML, whose every
tag costs pandoc time in proportion to the text after it. Each is measured here in one
pass over the chapter, and refused past a limit with the line where the limit is passed.
"""

from __future__ import annotations

import re

from ebook_builder.errors import Diagnostic
from ebook_builder.markup.xhtml import VOID_TAGS
from ebook_builder.model import ChapterSource

# How deep a chapter may nest block quotes, lists, fenced divs and HTML elements
# (`pandoc_problem`): ten times what a real book reaches (a quotation in a list in a
# quotation is three), and well under lxml's limit of 256 elements, which a level of list
# (`<ol><li>`) counts twice.
MAX_DEPTH = 100
TOO_DEEP = f"nested more than {MAX_DEPTH} levels deep (block quotes, lists, divs, HTML elements)"
MAX_OPEN_BRACKETS = 10
# Pandoc's HTML writer takes time in the square of a chapter's notes (8,000: 1.9 s, 32,000:
# 19 s); a note-heavy history has a few hundred a chapter.
MAX_NOTES = 10_000
TOO_MANY_NOTES = (
    f"more than {MAX_NOTES:,} notes in one chapter, which pandoc cannot write in time; "
    "split the chapter"
)
# A note: its definition (`[^1]: …`, at a line's start) or an inline note (`^[…]`).
NOTE = re.compile(r"^ {0,3}\[\^[^\]\s]+\]:|(?<!\\)\^\[")
# What opens a list item, after at most 3 spaces: a bullet, or an ordered marker of
# pandoc's fancy lists (`1.`, `1)`, `(a)`, `iv.`, `#.`) or example lists (`(@)`, `(@x)`,
# whose items' content goes on four spaces in, whatever their marker); or a block quote.
LIST_MARKER = (
    r"(?:[-+*]|(?P<example>\(@[\w-]*\))"
    r"|\(?(?:[0-9]{1,9}|[A-Za-z]|[ivxlcdmIVXLCDM]+|#|@[\w-]*)[.)])(?= |$)"
)
ITEM_START = re.compile(rf" {{0,3}}{LIST_MARKER}")
OPENER = re.compile(rf" {{0,3}}(?:(?P<quote>>)|{LIST_MARKER})")
EXAMPLE_WIDTH = 4
QUOTE_GOES_ON = re.compile(r" {0,3}> ?")
SPACES = re.compile(" *")
TAB_STOP = 4  # pandoc's `--tab-stop`: it reads a tab as spaces to the next multiple of 4
FENCE = re.compile(r" {0,3}(`{3,}|~{3,})")
# A fenced div's fence: its opening one names the div (`::: epigraph`, `::: {.x}`).
DIV_FENCE = re.compile(r" {0,3}:{3,} *(\S?)")
CODE_SPAN = re.compile(r"`[^`]*`")
RAW_TAG = re.compile(r"<(/?)([A-Za-z][A-Za-z0-9-]*)(?:\s[^<>]*?)?(/?)>")
OPEN_BRACKET = re.compile(r"(?<!\\)[][]")

# Where pandoc's reader looks ahead for the end of what opens here (an escaped `\<` or
# `\\` is text): an HTML tag or any other `<`, a comment, a processing instruction, a
# declaration (`<!DOCTYPE`, `<![CDATA[`); a TeX environment or command with an argument;
# a quotation opened by a straight quote at a word's start (`'tis`).
OPENING = re.compile(
    r"(?<!\\)(?:<(?:(?P<comment>!--)|(?P<declaration>!)|(?P<instruction>\?)"
    r"|(?P<name>(?P<element>/?[A-Za-z][A-Za-z0-9-]*)(?P<attributes>\s[^<>]*>)?|))"
    r"|\\begin\{(?P<environment>[^{}\s]*)\}|(?P<command>\\[A-Za-z]+\{))"
    r"|(?<![^\W_])(?P<quote>')(?=[^\W_])"
)
PARAGRAPH_END = re.compile(r"\n[ \t]*(?:\r?\n|\Z)")
# Pandoc's work, in units of about 0.2 ns (pandoc 3.9, measured on 1 MB chapters).
# Each kind of opening: what it is called, where pandoc's search for its end stops
# (None: the paragraph's end), its work on each character searched (0.6 µs, or 2.4 µs for
# a TeX environment, which pandoc also searches again for each one open inside it), and
# how to write it as text.
OPENINGS: dict[str, tuple[str, str | None, int, str]] = {
    "comment": ("a comment", "-->", 3000, "close it with '-->'"),
    "instruction": ("a processing instruction", "?>", 3000, "write \\< for a '<' that is text"),
    "name": ("an HTML tag", ">", 3000, "write \\< for a '<' that is text"),
    "environment": (
        "a TeX environment",
        "\\end{",
        12000,
        "close it with \\end{…}, or write \\\\begin for the text",
    ),
    "command": (
        "a TeX command's argument",
        "}",
        3000,
        "close its '{', or write \\\\ for a backslash",
    ),
    "quote": ("a quotation", None, 3000, "write ’ for an apostrophe"),
}
# Besides, pandoc copies the text after every tag it reads: an element with attributes
# three times as slowly, and a `<span>` or `<div>` with attributes, which pandoc reads as
# its own element, keeps that copy in memory (a byte per character: 2,000 of them before
# 1 MB of text took 2.3 GB).
TAG_COST = 1
ATTRIBUTES_COST = 3
NATIVE_COST = 20
NATIVE_ELEMENTS = frozenset({"span", "div"})
# About 4 s of pandoc: 20,000 `<br/>` spread over 1 MB of verse, or 2,000 `<span lang>`
# over 550 KB, still build.
MARKUP_LIMIT = 20_000_000_000
TOO_SLOW_TO_READ = (
    "too much raw HTML for a chapter this long: pandoc's time grows with its tags times "
    "the text after them; split the chapter, or write the markup in Markdown"
)


def pandoc_problem(source: ChapterSource) -> Diagnostic | None:
    """Why pandoc cannot read `source` in time or memory, at its line, or None.

    Pandoc's time grows steeply with the nesting (50,000 `>`, or list items nested 2,000
    deep by indentation, do not finish in minutes) and, for brackets that may open a link,
    doubles with each one left open; lxml refuses elements nested 256 deep. So this counts,
    in one pass: block quotes and list items, as pandoc nests them (`_containers_going_on`,
    `_containers_opened`), and fenced divs and raw HTML elements left open, counted
    together; `[` left open in a paragraph; and pandoc's work on raw HTML
    (`_MarkupCost`). Fenced code is skipped, once its closing fence is found (`_fence_end`).
    """
    written_lines = source.text.splitlines(keepends=True)
    lines = [line.rstrip("\r\n\v\f\x1c\x1d\x1e\x85\u2028\u2029") for line in written_lines]
    budget = _FenceBudget(len(lines))
    markup = _MarkupCost(source.text)
    starts = [0]
    for written in written_lines:
        starts.append(starts[-1] + len(written))
    open_blocks = brackets = notes = 0
    containers: list[int | None] = []
    after_blank = True
    index = 0
    while index < len(lines):
        number, written = index + 1, lines[index]
        index += 1
        if not written.strip():  # every list item goes on past a blank line
            after_blank, brackets = True, 0
            continue
        line = _expanded(written)
        kept, position = _containers_going_on(containers, line, after_blank)
        after_blank = False
        del containers[kept:]
        opened, position = _containers_opened(line, position)
        containers += opened
        if len(containers) + open_blocks > MAX_DEPTH:
            return Diagnostic(source.display_path, TOO_DEEP, number)
        fence = FENCE.match(line, position)
        if fence and (end := _fence_end(lines, index, containers, fence.group(1), budget)):
            index = end
            continue
        if div := DIV_FENCE.match(line, position):
            open_blocks = open_blocks + 1 if div.group(1) else max(0, open_blocks - 1)
        if problem := markup.line(written, starts[index - 1]):
            return Diagnostic(source.display_path, problem, number)
        prose = CODE_SPAN.sub("", line[position:])
        brackets = brackets if prose.strip() else 0
        for opening in RAW_TAG.finditer(prose):
            closing, name, empty = opening.groups()
            if not empty and name.lower() not in VOID_TAGS:
                open_blocks = max(0, open_blocks - 1) if closing else open_blocks + 1
                if len(containers) + open_blocks > MAX_DEPTH:  # closed again on this line
                    return Diagnostic(source.display_path, TOO_DEEP, number)
        notes += len(NOTE.findall(prose))
        if notes > MAX_NOTES:
            return Diagnostic(source.display_path, TOO_MANY_NOTES, number)
        for bracket in OPEN_BRACKET.findall(prose):
            brackets = brackets + 1 if bracket == "[" else max(0, brackets - 1)
            if brackets > MAX_OPEN_BRACKETS:
                message = (
                    f"more than {MAX_OPEN_BRACKETS} '[' left open in one paragraph, which "
                    "pandoc cannot read in time; write \\[ for a bracket that opens no link"
                )
                return Diagnostic(source.display_path, message, number)
        if len(containers) + open_blocks > MAX_DEPTH:
            return Diagnostic(source.display_path, TOO_DEEP, number)
    return None


class _FenceBudget:
    """How many more lines `_fence_end` may read past fences that turn out unclosed.

    A closed fence's lines are read twice (found, then skipped); an unclosed one's are read
    again as text, and many unclosed fences, each reading to the end of the chapter, would
    make the check quadratic. Past the budget, as many lines as the chapter has, a fence is
    taken as text, which can only count more nesting, never less.
    """

    def __init__(self, lines: int) -> None:
        self.left = lines + 1000


def _fence_end(
    lines: list[str], start: int, containers: list[int | None], fence: str, budget: _FenceBudget
) -> int | None:
    """The index of the line after the one that closes `fence` (opened in `containers` on
    the line before `start`), or None: pandoc reads a fence its container ends before it
    closes, or that the chapter does not close, as text.

    A closing fence is the opening one's character, at least as many times, and nothing
    else, where the line's content starts.
    """
    after_blank = False
    read = 0
    for written in lines[start : start + budget.left]:
        read += 1
        if not written.strip():
            after_blank = True
            continue
        line = _expanded(written)
        kept, position = _containers_going_on(containers, line, after_blank)
        after_blank = False
        if kept < len(containers):
            break
        closing = FENCE.match(line, position)
        if closing and closing.group(1).startswith(fence) and not line[closing.end() :].strip():
            return start + read
    budget.left -= read
    return None


def _expanded(line: str) -> str:
    """`line` with its tabs as pandoc reads them (it expands them before parsing)."""
    return line.expandtabs(TAB_STOP) if "\t" in line else line


def _containers_going_on(
    containers: list[int | None], line: str, after_blank: bool
) -> tuple[int, int]:
    """How many of the open `containers` the non-blank `line` stays in, and where its
    content starts in the innermost of them.

    A container is a block quote (None) or a list item (the width of its marker with the
    spaces around it: where its content starts, from where its parent's does). As pandoc's
    Markdown reader takes them: a list item goes on where the line is indented by that
    width (which it takes off), or, straight after a line of the item, where the line does
    not start a list item (a lazy line, taken as it is). A block quote goes on where the
    line repeats its `>` (taken off, with a space), or, straight after a line of the quote,
    with its leading spaces taken off, unless it then starts with `>`, opens backtick code,
    or starts a list item within a list.
    """
    indent = SPACES.match(line).end()
    if not (after_blank or line.startswith((">", "```"), indent) or ITEM_START.match(line, indent)):
        narrowest = min((width for width in containers if width is not None), default=indent + 1)
        if indent < narrowest:  # a lazy line of every container: the quotes take its spaces off
            return len(containers), indent if None in containers else 0
    position = 0
    in_list = False
    for kept, width in enumerate(containers):
        if width is None:
            quote = QUOTE_GOES_ON.match(line, position)
            if quote is not None:
                position = quote.end()
                continue
            indent = SPACES.match(line, position).end()
            ends = line.startswith("```", position) or line.startswith(">", indent)
            if after_blank or ends or (in_list and ITEM_START.match(line, position)):
                return kept, position
            position = indent
        elif SPACES.match(line, position).end() - position >= width:
            position += width
            in_list = True
        elif after_blank or ITEM_START.match(line, position):
            return kept, position
        else:
            in_list = True
    return len(containers), position


def _containers_opened(line: str, position: int) -> tuple[list[int | None], int]:
    """The block quotes and list items that `line` opens from `position`, and where its
    content starts then.

    A list item's content starts after its marker and 1 to 4 spaces; after 5 or more, one
    space in (the rest is code, which opens nothing), as after a marker that ends the line.
    Counting stops past the limit, which a line of 50,000 `>` reaches at once.
    """
    opened: list[int | None] = []
    while len(opened) <= MAX_DEPTH and (marker := OPENER.match(line, position)):
        end = marker.end()
        spaces = SPACES.match(line, end).end() - end
        if marker.group("quote"):
            opened.append(None)
            position = end + min(spaces, 1)
        else:
            content = end + spaces if 0 < spaces <= 4 else end + 1
            opened.append(EXAMPLE_WIDTH if marker.group("example") else content - position)
            position = min(content, len(line))
    return opened, position


class _MarkupCost:
    """Pandoc's work on a chapter's markup so far, in `MARKUP_LIMIT`'s units."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.spent = 0

    def line(self, written: str, start: int) -> str | None:
        """Add the work on what opens in `written`, a line of prose at `start` in the text;
        why pandoc cannot read the chapter in time when it passes the limit, else None."""
        if not any(mark in written for mark in "<\\'"):
            return None
        prose = CODE_SPAN.sub(lambda span: " " * len(span.group()), written)
        for opening in OPENING.finditer(prose):
            where = start + opening.start()
            if opening.group("declaration"):
                return (
                    "'<!' opens an XML declaration or CDATA section, which a chapter cannot "
                    "hold and pandoc reads slowly; write \\<! for the text"
                )
            kind = next(kind for kind in OPENINGS if opening.group(kind) is not None)
            what, closing, cost, escape = OPENINGS[kind]
            if closing is None:
                found = PARAGRAPH_END.search(self.text, where)
                end = found.start() if found else len(self.text)
            else:
                end = self.text.find(closing, where + 1)
                end = end if end >= 0 else len(self.text)
            self.spent += cost * (end - where)
            if self.spent > MARKUP_LIMIT:
                shown = opening.group()
                shown = f'"{shown}"' if "'" in shown else f"'{shown}'"
                return (
                    f"{shown} opens {what} that nothing closes for "
                    f"{end - where:,} characters, which pandoc reads slowly; {escape}"
                )
            if kind == "name":
                self.spent += (len(self.text) - where) * _tag_cost(opening)
                if self.spent > MARKUP_LIMIT:
                    return TOO_SLOW_TO_READ
        return None


def _tag_cost(tag: re.Match[str]) -> int:
    """Pandoc's work on `tag` for each character after it, in `MARKUP_LIMIT`'s units."""
    if not tag.group("attributes"):
        return TAG_COST
    return NATIVE_COST if tag.group("element").lower() in NATIVE_ELEMENTS else ATTRIBUTES_COST
