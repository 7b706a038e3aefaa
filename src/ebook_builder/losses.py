"""What the conversion loses: warnings, each at a chapter's line, that never stop a build.

Pandoc drops some constructs without a word, because in a stand-alone document they
would have gone to the document's head: a `% Title` block and a YAML metadata block. A
chapter is a fragment of the book, whose title and metadata come from `metadata/`, so
both vanish; an author who wrote one expects to see it. Pandoc's own warnings (TeX math it
cannot parse, a note or link reference defined twice or never used) are the rest.
HTML comments are dropped silently: that is what an author writes them for. A chapter
pandoc refuses outright (a YAML block that is not YAML) is an error, placed at the
chapter's line in the same way.
"""

from __future__ import annotations

import html
import re

import yaml

from ebook_builder.errors import Diagnostic
from ebook_builder.lines import locate
from ebook_builder.model import ChapterSource

# Pandoc's reader places a message at "line L column C" of the text it was given, which is
# the chapter's whole file: its lines are the chapter's. The first position is the line the
# message is about; a later one, where pandoc closed a div left open, lies past the
# chapter's last line (pandoc reads on a few blank lines): the end of the chapter.
POSITION = re.compile(r" at line (\d+) column \d+")
# Pandoc's warnings that the validate stage reports as errors, at the right line (pandoc
# places a duplicate id after the heading that repeats it).
REPORTED_AS_ERRORS = ("Duplicate identifier",)
# Raw HTML and fenced divs in a list: positions in the chunk pandoc parsed, not in the
# chapter; the element is named.
CHUNK_POSITION = re.compile(r" at _chunk\w* line \d+ column \d+")
HTML_ELEMENT = re.compile(r"^(\w+) at _chunk\w* ")
QUOTED = re.compile(r"'([^']+)'")
TEX_MATH = re.compile(r"^Could not convert TeX math (.+?), rendering as TeX", re.DOTALL)
TITLE_BLOCK = (
    "a '% title' block is ignored: the book's title comes from its metadata file; "
    "start the chapter with a '# Title' heading"
)
YAML_BLOCK = (
    "a YAML metadata block in a chapter is ignored: the book's metadata comes from "
    "its metadata file"
)
# A YAML block opens with `---` after a blank line (or at the start) and no blank line after.
YAML_OPEN = re.compile(r"(?:\A|\n[ \t]*\n)---[ \t]*\n(?=[^\s])")
YAML_CLOSE = re.compile(r"^(?:---|\.\.\.)[ \t]*$", re.MULTILINE)
# Pandoc refuses a chapter whose YAML metadata block is not YAML, placing the block "at
# (line L, column C)" of the chapter and the YAML parser's error "at line l, column c" of
# the block's text, which starts on the line after the block's `---`: line L + l.
REFUSED_AT = re.compile(r" at \(line (\d+), column \d+\)")
IN_BLOCK_AT = re.compile(r" at line (\d+), column \d+")
YAML_REFUSED = (
    "; a --- line followed by text opens a YAML block: a rule needs a blank line after it"
)


def conversion_warnings(
    source: ChapterSource, output: str, pandoc_warnings: tuple[str, ...]
) -> list[Diagnostic]:
    """Every warning about one chapter: what pandoc dropped unsaid, then what it said (the
    convert stage puts a chapter's warnings in the order of their lines)."""
    return [
        *_dropped_metadata(source, output),
        *(
            pandoc_warning(source, message)
            for message in pandoc_warnings
            if not message.startswith(REPORTED_AS_ERRORS)
        ),
    ]


def pandoc_warning(source: ChapterSource, message: str) -> Diagnostic:
    """One of pandoc's warnings as `file:line: message`, on one line.

    The line is pandoc's where it gives one, else that of the text it names (math).
    """
    first = message.splitlines()[0].strip()
    position = POSITION.search(first)
    if position is not None:
        line: int | None = int(position.group(1))
        last = len(source.text.splitlines())
        later = POSITION.sub(
            lambda at: f" at line {at[1]}" if int(at[1]) <= last else " at the end of the chapter",
            first[position.end() :],
        )
        first = first[: position.start()] + later
    else:
        math, element = TEX_MATH.match(message), HTML_ELEMENT.match(first)
        needles = [math.group(1)] if math else []
        if element:  # a raw HTML element; pandoc names a `<div>` or a `:::` fence `Div`
            name = element.group(1)
            needles += [f"<{name}", ":::"] if name == "Div" else [f"<{name}"]
        else:
            needles += QUOTED.findall(first)
        line = next((n for n in (locate(source.text, s) for s in needles) if n), None)
        first = CHUNK_POSITION.sub("", first)
    text = first[:1].lower() + first[1:]
    return Diagnostic(source.display_path, text.rstrip(".:"), line)


def pandoc_refusal(source: ChapterSource, reason: str) -> Diagnostic:
    """Pandoc's refusal to read a chapter as `file:line: message`, on one line."""
    text = " ".join(reason.split())
    line: int | None = None
    if block := REFUSED_AT.search(text):
        line = int(block[1])
        text = REFUSED_AT.sub("", text, count=1)
        if inner := IN_BLOCK_AT.search(text):
            line += int(inner[1])
            text = IN_BLOCK_AT.sub("", text, count=1)
    if text.startswith("Error parsing YAML metadata"):
        message = text[:1].lower() + text[1:] + YAML_REFUSED
    else:
        message = f"pandoc cannot read the chapter: {text}"
    return Diagnostic(source.display_path, message, line)


def _dropped_metadata(source: ChapterSource, output: str) -> list[Diagnostic]:
    """A `% Title` block and YAML metadata blocks, which a fragment drops (module docstring).

    A block that is still in the output was not read as metadata (it was in a code block,
    say), and is not reported.
    """
    text = source.text
    dropped = []
    if text.startswith("%") and html.escape(text.splitlines()[0][1:].strip()) not in output:
        dropped.append(Diagnostic(source.display_path, TITLE_BLOCK, 1))
    for opening in YAML_OPEN.finditer(text):
        start = opening.end()
        closing = YAML_CLOSE.search(text, start)
        if closing is None:
            continue
        block = text[start : closing.start()]
        try:
            parsed = yaml.safe_load(block)
        except yaml.YAMLError:
            continue  # pandoc refuses the chapter with its own message
        first_line = html.escape(block.splitlines()[0].strip(), quote=False)
        if isinstance(parsed, dict) and first_line not in output:
            line = text.count("\n", 0, opening.end() - 1) + 1
            dropped.append(Diagnostic(source.display_path, YAML_BLOCK, line))
    return dropped
