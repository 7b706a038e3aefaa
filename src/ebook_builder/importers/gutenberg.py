"""Project Gutenberg's conventions, for `ebook import` of a PG book in any form pandoc
reads (its HTML, or an EPUB made of it): passes over pandoc's tree before it is split;
and PG's frame around its plain-text files, cut from their lines (`text_frame`).

- The frame: PG puts a header (title, author, release date, the licence's first lines)
  before the line `*** START OF THE PROJECT GUTENBERG EBOOK … ***` and the full licence
  after `*** END OF … ***`. Neither is the book: both go, reported, and the header's
  `Title:`, `Author:` and `Language:` fill the metadata the source states no better.
  The licence binds only who distributes the book under PG's name (its trademark); the
  text itself is in the US public domain, so the report says so.
- PG's page title, `The Project Gutenberg eBook of …`, is the `<title>` of every page of
  PG's EPUB; a page without a heading gets headed by it on import, so it goes.
- Page numbers: PG and Distributed Proofreaders mark the printed pages as
  `<span class="pagenum"><a id="Page_12">[Pg 12]</a></span>`; calibre keeps the text but
  renames the class. Both become the build's `[]{.pagebreak page="12"}`.
- Verse: a stanza is `<div class="stanza">` of lines, each a `<span class="i2">` (its
  indent in the class) ended by `<br>`, or a `<div class="verse indent2">`; it becomes a
  line block (`| line`), as the build writes verse, its indent kept as leading spaces.
"""

from __future__ import annotations

import re
from typing import Any

from ebook_builder.importers.draft import creator_names
from ebook_builder.importers.tree import (
    Node,
    attributed,
    blocks_in,
    elements,
    ids,
    nodes,
    page_marker,
    plain_text,
)

_START = re.compile(r"\*\*\*\s*START OF (?:THE|THIS) PROJECT GUTENBERG E-?BOOK", re.I)
_END = re.compile(r"\*\*\*\s*END OF (?:THE|THIS) PROJECT GUTENBERG E-?BOOK", re.I)
# In a plain-text file, the line the book follows: the START line, or in PG's 1990s files
# (which open with the licence, "the small print"), the line that ends the licence.
_TEXT_START = re.compile(rf"{_START.pattern}|\*END\W?THE SMALL PRINT", re.I)
# ... and the line that ends the book: the END line, or the sentence before it that every
# PG text has closed with since the 1990s (`End of the Project Gutenberg EBook of …`).
_TEXT_END = re.compile(rf"{_END.pattern}|End of (?:the )?Project Gutenberg", re.I)
# The header's fields, as PG writes them (`Title: …` on a line or a paragraph of its own).
_FIELD = re.compile(
    r"\b(Title|Author|Editor|Translator|Illustrator|Release [Dd]ate|Language|Credits"
    r"|Most recently updated|Original publication|Character set encoding|Produced by)\s*:",
)
# The languages PG's header names by their English name, as BCP 47 tags.
_LANGUAGES = {
    "english": "en",
    "french": "fr",
    "german": "de",
    "spanish": "es",
    "italian": "it",
    "portuguese": "pt",
    "dutch": "nl",
    "finnish": "fi",
    "swedish": "sv",
    "danish": "da",
    "norwegian": "no",
    "latin": "la",
    "greek": "el",
    "esperanto": "eo",
    "polish": "pl",
    "hungarian": "hu",
    "czech": "cs",
    "russian": "ru",
    "chinese": "zh",
    "japanese": "ja",
    "tagalog": "tl",
    "catalan": "ca",
    "welsh": "cy",
}
# A page number as PG writes it: `[Pg 12]`, `[Pg xii]`, `[12]`, `{12}`, `Page 12`.
_PAGE = re.compile(r"^[\[{(]?\s*(?:Pg\.?|Page|p\.)?\s*([0-9]+|[ivxlcdm]+)\s*[\]})]?$", re.I)
# The title PG gives every page of a book, never the book's own heading.
_PG_TITLE = re.compile(r"The Project Gutenberg e-?Book,? of ", re.I)
# A verse line's indent, as PG's classes give it (`i2`, `indent2`).
_INDENT = re.compile(r"^(?:i|indent)(\d+)$")
# The metadata values that state nothing better than the header: PG's own `<title>`, and
# the author calibre writes when the source names none.
_NO_BETTER = re.compile(r"Project Gutenberg|^Unknown$", re.I)


def read_conventions(blocks: list[Node], metadata: dict[str, Any], report: list[str]) -> list[Node]:
    """`blocks` without PG's frame (and, in a PG book, without PG's page titles as
    headings), with its page numbers as page-break markers and its stanzas as line
    blocks; the metadata completed from the header, and `page_source` named when pages
    were marked."""
    fields: dict[str, list[str]] = {}
    kept = _drop_frame(blocks, fields, report) if _names_gutenberg(blocks) else blocks
    if kept is not blocks:
        kept = _without_pg_titles(kept, report)
    _fill_metadata(fields, metadata, report)
    if _page_numbers(kept, report) and not metadata.get("page_source"):
        _name_page_source(fields, metadata, report)
    _stanzas(kept, report)
    return kept


def _names_gutenberg(blocks: list[Node]) -> bool:
    """Whether the text says "Gutenberg" anywhere (in a header's `<pre>` too): one walk
    that stops at the first, which spares a book that is not PG's the search, block by
    block, for a START line."""
    for node in nodes(blocks):
        kind = node.get("t")
        text = node["c"] if kind == "Str" else node["c"][1] if kind == "CodeBlock" else ""
        if "gutenberg" in text.lower():
            return True
    return False


def _drop_frame(blocks: list[Node], fields: dict[str, list[str]], report: list[str]) -> list[Node]:
    """`blocks` without PG's header and licence footer, when the START line is there; the
    header's `Field: value` pairs put in `fields`."""
    header: list[Node] = []
    kept = _cut_before(blocks, header)
    if not header:
        return blocks
    footer: list[Node] = []
    kept = _cut_after(kept, footer)
    report.append(_frame_dropped(bool(footer)))
    fields.update(_fields(header))
    return kept


def text_frame(lines: list[str], metadata: dict[str, Any], report: list[str]) -> list[str] | None:
    """The lines of a plain-text PG book between its header and its licence, the metadata
    completed from the header's fields; None when the text has no PG frame."""
    start = next((at for at, line in enumerate(lines) if _TEXT_START.search(line)), None)
    if start is None:
        return None
    if (found := _START.search(lines[start])) and "***" not in lines[start][found.end() :]:
        # PG wraps the START line of a long title: the header ends where its `***` close.
        closing = range(start + 1, min(start + 4, len(lines)))
        start = next((at for at in closing if "***" in lines[at]), start)
    after = range(start + 1, len(lines))
    end = next((at for at in after if _TEXT_END.match(lines[at].lstrip())), len(lines))
    report.append(_frame_dropped(end < len(lines)))
    _fill_metadata(_header_fields(lines[:start]), metadata, report)
    return lines[start + 1 : end]


def _frame_dropped(with_licence: bool) -> str:
    """The report's line on the frame dropped."""
    return (
        "dropped the Project Gutenberg header (up to its `*** START OF …` line)"
        + (" and licence (from `*** END OF …`)" if with_licence else "")
        + ": the text is public domain in the US; who distributes it under the Project "
        "Gutenberg name must keep PG's licence with it (www.gutenberg.org/license)"
    )


def _without_pg_titles(blocks: list[Node], report: list[str]) -> list[Node]:
    """`blocks` less the headings that are PG's title for every page, `The Project
    Gutenberg eBook of …`: PG's EPUB gives it as the `<title>` of each document, and a
    document without a heading (a picture's page) gets headed by its title on import."""
    kept: list[Node] = []
    for block in blocks:
        if block["t"] == "Header" and _PG_TITLE.match(plain_text(block["c"][2])):
            report.append(f"dropped the heading `{plain_text(block['c'][2])}`: PG's page title")
            continue
        if block["t"] == "Div":
            block["c"][1] = _without_pg_titles(block["c"][1], report)
        kept.append(block)
    return kept


def _cut_before(blocks: list[Node], header: list[Node]) -> list[Node]:
    """The blocks after the START line, the ones up to it put in `header`. A div that
    holds the line and text after it (a whole book wrapped in one) is cut inside."""
    for at, block in enumerate(blocks):
        found = _START.search(text := _text(block))
        if found is None:
            continue
        after = text[found.end() :].split("***", 1)[-1].strip()
        header += blocks[:at]
        if block["t"] == "Div" and after:
            block["c"][1] = _cut_before(block["c"][1], header)
            return [block, *blocks[at + 1 :]]
        header.append(block)
        return blocks[at + 1 :]
    return blocks


def _cut_after(blocks: list[Node], footer: list[Node]) -> list[Node]:
    """The blocks before the END line, the rest put in `footer`; a div that holds text
    before the line is cut inside. Looked for from the end, where the line is, so the
    book's text is not read for it."""
    for at in range(len(blocks) - 1, -1, -1):
        block = blocks[at]
        found = _END.search(text := _text(block))
        if found is None:
            continue
        footer += blocks[at + 1 :]
        if block["t"] == "Div" and text[: found.start()].strip():
            block["c"][1] = _cut_after(block["c"][1], footer)
            return [*blocks[:at], block]
        footer.append(block)
        kept = blocks[:at]
        while kept and (kept[-1]["t"] == "Header" or not _text(kept[-1]).strip()):
            footer.insert(0, kept.pop())  # a heading of the licence's page (its <title>)
        return kept
    return blocks


def _text(block: Node) -> str:
    """A block's text with that of its code blocks: old PG files set the header in
    `<pre>`, whose text `plain_text` leaves out as code."""
    code = [node["c"][1] for node in elements(block, "CodeBlock")]
    return " ".join([plain_text(block), *code])


def _fields(header: list[Node]) -> dict[str, list[str]]:
    """The header's `Field: value` pairs, every value of each field in order."""
    lines = [plain_text(node) for node in elements(header, "Para", "Plain")]
    lines += [line for node in elements(header, "CodeBlock") for line in node["c"][1].split("\n")]
    return _header_fields(lines)


def _header_fields(lines: list[str]) -> dict[str, list[str]]:
    """The `Field: value` pairs of the header's lines, every value of each field in order."""
    fields: dict[str, list[str]] = {}
    for line in lines:
        found = list(_FIELD.finditer(line))
        ends = [field.start() for field in found[1:]] + [len(line)]
        for field, end in zip(found, ends[: len(found)], strict=True):
            if value := line[field.end() : end].strip():
                fields.setdefault(field.group(1).capitalize(), []).append(value)
    return fields


def _fill_metadata(
    fields: dict[str, list[str]], metadata: dict[str, Any], report: list[str]
) -> None:
    """Title, authors and language from the header where `metadata` has none, a guess
    (a report line names it) or PG's boilerplate."""

    def open_to(key: str, value: str) -> bool:
        guessed = any(line.startswith(f"metadata: `{key}`") for line in report)
        return not value or guessed or bool(_NO_BETTER.search(value))

    def take(key: str, value: Any, shown: str) -> None:
        metadata[key] = value
        report[:] = [line for line in report if not line.startswith(f"metadata: `{key}`")]
        report.append(f"metadata: `{key}` taken from the Project Gutenberg header: {shown}")

    if fields.get("Title") and open_to("title", metadata.get("title", "")):
        take("title", fields["Title"][0], fields["Title"][0])
    authors = fields.get("Author", [])
    if authors and open_to("creators", "; ".join(creator_names(metadata.get("creators", [])))):
        take("creators", authors, "; ".join(authors))
    language = next(iter(fields.get("Language", [])), "")
    tag = _LANGUAGES.get(re.split(r"[,;]| and ", language)[0].strip().lower())
    if tag and open_to("language", metadata.get("language", "")):
        take("language", tag, f"{language} ({tag})")
    elif language and not tag:
        report.append(f"metadata: the header's language `{language}` has no tag here: set it")


def _page_numbers(blocks: list[Node], report: list[str]) -> int:
    """PG's page numbers as the build's page-break markers, keeping the anchor's id (a
    table of contents or an index links to `#Page_12`). Returns how many."""
    count = 0
    inside: set[int] = set()  # the spans of a number made a marker (its anchor)
    for span in elements(blocks, "Span"):
        (id_, classes, _), inlines = span["c"]
        if "pagenum" not in classes and not plain_text(inlines[:1]).startswith("[Pg"):
            continue  # the text of every span of a book is read only when it may be one
        found = _PAGE.match(plain_text(inlines))
        if found is None or id(span) in inside:
            continue
        inside.update(id(node) for node in elements(inlines, "Span"))
        anchor = id_ or next(iter(ids(attributed(inlines))), "")
        span["c"] = page_marker(found.group(1), anchor)["c"]
        count += 1
    if count:
        report.append(f"{count} page numbers (`[Pg N]`) made page-break markers")
    return count


def _name_page_source(
    fields: dict[str, list[str]], metadata: dict[str, Any], report: list[str]
) -> None:
    """`page_source` for the page numbers: EPUB Accessibility (and DAISY Ace) require the
    print edition that page-break markers follow to be named. PG's newer headers name it
    (`Original publication:`); otherwise it is the edition PG's eBook was made from,
    named by the eBook's number, which only a person can name better. Without either,
    the draft's metadata asks for it, as for any paginated import."""
    number = re.search(r"E-?Book #(\d+)", " ".join(fields.get("Release date", [])), re.I)
    if fields.get("Original publication"):
        metadata["page_source"] = fields["Original publication"][0]
    elif number:
        metadata["page_source"] = f"the printed book of Project Gutenberg eBook #{number[1]}"
    else:
        return  # the draft asks for it (draft.py), as for any paginated import
    report.append(
        f"metadata: `page_source` set to `{metadata['page_source']}`, the print edition the "
        "page numbers follow: name it exactly if you know it"
    )


def _stanzas(blocks: list[Node], report: list[str]) -> None:
    """Each PG stanza (a div of class `stanza`) made a line block in place."""
    count = 0
    for div in blocks_in(blocks):
        if div["t"] != "Div" or "stanza" not in div["c"][0][1]:
            continue
        lines = [line for block in div["c"][1] for line in _verse_lines(block)]
        if lines:
            div["c"][1] = [{"t": "LineBlock", "c": lines}]
            count += 1
    if count:
        report.append(f"{count} stanzas (`div.stanza`) made line blocks")


def _verse_lines(block: Node) -> list[list[Node]]:
    """The lines of a block of a stanza: a line per `<br>`, per span of an indent class,
    or per div; each line's indent as that many no-break spaces."""
    if block["t"] == "Div":
        return [_indented(line, block["c"][0][1]) for line in _verse_lines_in(block["c"][1])]
    if block["t"] not in ("Para", "Plain"):
        return []
    lines: list[list[Node]] = [[]]
    for node in block["c"]:
        if node["t"] == "LineBreak":
            lines.append([])
        elif node["t"] == "Span" and any(_INDENT.match(name) for name in node["c"][0][1]):
            lines += [_indented(_trimmed(node["c"][1]), node["c"][0][1]), []]
        elif node["t"] != "SoftBreak" or lines[-1]:
            lines[-1].append({"t": "Space"} if node["t"] == "SoftBreak" else node)
    return [_trimmed(line) for line in lines if plain_text(line)]


def _verse_lines_in(blocks: list[Node]) -> list[list[Node]]:
    """The lines of a stanza's blocks, in order."""
    return [line for block in blocks for line in _verse_lines(block)]


def _trimmed(line: list[Node]) -> list[Node]:
    """A line without the breaks and spaces around it."""
    kept = [node for node in line if node["t"] != "LineBreak"]
    while kept and kept[0]["t"] in ("Space", "SoftBreak"):
        kept.pop(0)
    while kept and kept[-1]["t"] in ("Space", "SoftBreak"):
        kept.pop()
    return kept


def _indented(line: list[Node], classes: list[str]) -> list[Node]:
    """`line` after as many no-break spaces as its indent class says."""
    found = next((int(m[1]) for name in classes if (m := _INDENT.match(name))), 0)
    return ([{"t": "Str", "c": "\u00a0" * found}] if found else []) + line
