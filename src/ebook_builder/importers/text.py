"""The plain-text reader of `ebook import`: a pamphlet as draft chapters and metadata.

Two kinds of text are understood. `web` is a web page saved as text: one paragraph per
line, titles as short lines, perhaps the page's own table of contents and a download link
at the top; or a hard-wrapped text, as Project Gutenberg's are (typed at 70 columns, a
blank line between paragraphs, verse and tables set line by line), whose header and
licence go (`gutenberg.text_frame`). `pdf-text` is text extracted from a printed PDF:
hard-wrapped lines, page numbers, picture captions, bullets torn from their items. The
importer makes a first draft with heuristics that are right most of the time; a person
curates the rest, so it never guesses at anything it cannot see in the text (no authors, no dates).
"""

from __future__ import annotations

import itertools
import re
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass
from difflib import SequenceMatcher
from pathlib import Path
from typing import Any

from ebook_builder.errors import InputError
from ebook_builder.importers import gutenberg
from ebook_builder.importers.draft import Draft, chapter_file, read_manuscript

# Page starts travel through the text as this token until Markdown is written, and so do
# the places that cite a note.
_PAGE = re.compile("\x00(\\d+)\x00")
_CITED = re.compile("\x01(\\d+)\x01")
# Project Gutenberg's rule for notes in a plain text (set by Distributed Proofreaders): the
# note is a paragraph `[Footnote 1: text]` (or `A`, `*`) after the paragraph citing it as `[1]`.
_FOOTNOTE = re.compile(r"\[Footnote ([\w*†‡]{1,4}): (.+)\]", re.S)
_BULLET = "•"
_DASHES = "\u2013\u2014"  # en and em dash
_QUOTES = "\u201c\u201d\u2018\u2019\"'"  # curly and straight quotes
_STRIP = _QUOTES + "()[],.;:!?"
_PAGE_NUMBER = re.compile(r"\d{1,3}")
_NUMBERED = re.compile(r"(\d{1,2})[.)]\s+(.*)")
_TERMINAL = re.compile(f"[.!?:][{_QUOTES})\\]]*$")
_WORD = re.compile("\\w[\\w\u2019'-]*")
_EMAIL = re.compile(r"(?<![\w.<])([\w.+-]+@[\w-]+(?:\.[\w-]+)+)(?![\w>])")
_URL = re.compile(r"(?<![\w/<\[])(https?://[^\s<>]+[^\s<>.,;:!?\u201d\u2019)])")
_WWW = re.compile(r"(?<![\w/.\[])(www\.[\w-]+(?:\.[\w-]+)+)(?![\w\]])")


def _phrases(text: str) -> frozenset[str]:
    """A set of lower-case words or phrases written as one comma-separated string."""
    return frozenset(phrase.strip() for phrase in text.split(","))


# Words that a title leaves in lower case, and back-matter titles that open a chapter.
_SMALL_WORDS = _phrases(
    "a, an, and, as, at, but, by, for, from, in, into, nor, of, on, or, the, to, up, via, with, "
    "is, was, are, be, his, her, its, our, their, your, my, we, us, they, it"
)
_BACK_MATTER = _phrases(
    "where we stand, who we are, contact, contact us, about us, about the author, "
    "about the authors, acknowledgments, acknowledgements, bibliography, further reading, "
    "glossary, endnotes"
)
_RUN_ON_WORDS = _phrases("a, an, and, the, of, for, to, in, on, or, with")
_TOC_TITLES = frozenset({"contents", "table of contents"})
_DOWNLOAD_LINK = re.compile(r"download\b.*\bpdf\b", re.IGNORECASE)
# A hard-wrapped text's lines are no longer than this; PG wraps its texts' prose at about
# 70 characters; and a line ended with room for this many more was ended by hand.
_WRAP_WIDTH = 80
_WRAPPED_AT = 70
_WRAP_SLACK = 8
_CHAPTER_GAP = 4
# Italics as plain text marks them: `_words_`, the underscores outside any word.
_ITALIC = re.compile(r"(?<!\w)_([^_\s](?:[^_]*[^_\s])?)_(?!\w)")
# What pandoc reads as an ordered list's marker at a paragraph's start.
_LIST_MARKER = re.compile(r"(\(?)(\d+|[ivxlcdm]+|[a-z])([.)])(?=\s|$)", re.I)


@dataclass
class _Para:
    """A paragraph of the source before it is classified; `gap` counts blank lines before."""

    text: str
    gap: int = 1
    indented: bool = False
    hint: str = ""  # "heading", "chapter", "bullet", "number" or "lines" as the layout says


@dataclass
class _Block:
    """One Markdown block: chapter, section, para, quote, bullet, number, epigraph or
    lines (a line block: verse, an address, a table, set line by line)."""

    kind: str
    text: str
    extra: str = ""  # the epigraph's attribution, a list item's or note's number, a class


def read_text(source: Path, kind: str) -> Draft:
    """The draft of a plain-text source: `web` (a paragraph per line, or a hard-wrapped
    text such as Project Gutenberg's, a paragraph per run of lines) or `pdf-text`; PG's
    header and licence dropped."""
    metadata: dict[str, Any] = {"title": "", "language": "en"}
    report = ["metadata: `language` set to `en`: a plain text does not state it"]
    lines = _clean_lines(read_manuscript(source, "plain text"))
    book = gutenberg.text_frame(lines, metadata, report)
    lines = lines if book is None else book
    if kind == "web":
        # PG's plain texts are wrapped at 70 columns: PG's own rule, whatever their length.
        if book is not None or _is_wrapped(lines):
            paras, toc = _drop_web_artifacts(_wrapped_paragraphs(lines), spacing=2)
        else:
            paras, toc = _drop_web_artifacts(_web_paragraphs(lines))
    else:
        paras, toc = _pdf_paragraphs(lines), []
    if not paras:
        raise InputError("no text to import", path=source)
    metadata["title"], blocks = _classify(paras, toc, metadata["title"])
    chapters = [_notes(chapter) for chapter in _split_chapters(metadata["title"], blocks)]
    notes = sum(block.kind == "note" for chapter in chapters for block in chapter)
    if notes:
        report.append(f"{notes} footnotes `[Footnote 1: …]` made notes, cited where `[1]` stood")
    count = len(chapters)
    files = [(_file_name(n, count, ch[0].text), _render(ch)) for n, ch in enumerate(chapters, 1)]
    report.insert(
        0,
        f"split into {len(files)} chapters at titles guessed from the layout: check where "
        "each chapter starts, and which titles are sections",
    )
    return Draft(files, metadata, report=report)


def _clean_lines(text: str) -> list[str]:
    """Lines without the invisible debris of web pages (no-break spaces, BOM, CR, tabs).

    Leading spaces are kept: in PDF text they mark the start of a printed page.
    """
    text = text.lstrip("\ufeff").replace("\r\n", "\n").replace("\r", "\n")
    text = text.replace("\u00a0", " ").replace("\t", " ")
    text = text.replace("\x00", "").replace("\x01", "")  # the page and note tokens' marks
    return [re.sub(r"(?<=\S) {2,}", " ", line).rstrip() for line in text.split("\n")]


def _web_paragraphs(lines: list[str]) -> list[_Para]:
    """A saved web page has one paragraph per line; blank lines only separate them."""
    paras, gap = [], 0
    for line in lines:
        if not line.strip():
            gap += 1
            continue
        text = line.strip()
        hint = ""
        if text.startswith(_BULLET):
            text, hint = text.lstrip(_BULLET + " "), "bullet"
        elif _NUMBERED.fullmatch(text):
            hint = "number"
        paras.append(_Para(text, gap, line[0] == " ", hint))
        gap = 0
    return paras


def _is_wrapped(lines: list[str]) -> bool:
    """Whether the text is hard-wrapped (typed at a fixed width, as Project Gutenberg's
    texts are) rather than a paragraph per line: most of its lines run on into the next
    one, and no more than a few are longer than a typewriter's line."""
    texts = [line for line in lines if line.strip()]
    running_on = sum(bool(a.strip() and b.strip()) for a, b in itertools.pairwise(lines))
    long_lines = sum(len(line) > _WRAP_WIDTH for line in texts)
    return running_on * 2 > len(texts) and long_lines * 20 <= len(texts)


def _wrapped_paragraphs(lines: list[str]) -> list[_Para]:
    """A hard-wrapped text's paragraphs: one per run of lines between blank lines, its
    lines rejoined, unless its line breaks are the text's own (verse, a table, an
    address), which a line that the next one's first word would have fitted on shows.
    A title-like line after four blank lines opens a chapter even if it ends in a full
    stop (`CHAP. II.`): PG sets four before a chapter's heading, two or one elsewhere.
    The width is the text's own, that of all but its longest few lines, or in a book of
    verse (whose lines are all short) the width PG wraps its prose at."""
    lengths = sorted(len(line) for line in lines if line.strip())
    if not lengths:  # PG's frame around nothing
        return []
    width = max(lengths[len(lengths) * 98 // 100], _WRAPPED_AT) - _WRAP_SLACK
    paras: list[_Para] = []
    run: list[str] = []
    gap = 0
    for line in [*lines, ""]:
        if line.strip():
            run.append(line)
            continue
        if run:
            indented = run[0].startswith(" ")
            if any(_fits(a, b, width) for a, b in itertools.pairwise(run)):
                paras.append(_Para(_dedented(run), gap, indented, "lines"))
            elif len(run) == 1 and gap >= _CHAPTER_GAP and _is_title_like(run[0].rstrip(".:")):
                paras.append(_Para(run[0].strip(), gap, indented, "chapter"))
            else:
                paras.append(_Para(" ".join(line.strip() for line in run), gap, indented))
            run, gap = [], 0
        gap += 1
    return paras


def _dedented(lines: list[str]) -> str:
    """The lines without the indent they all share, one per line."""
    indent = min(len(line) - len(line.lstrip(" ")) for line in lines)
    return "\n".join(line[indent:] for line in lines)


def _drop_web_artifacts(paras: list[_Para], spacing: int = 0) -> tuple[list[_Para], list[str]]:
    """Remove download links and the page's own table of contents; return its entries.

    The entries are kept because they tell which later titles open chapters. A web page
    lists them a line each; a wrapped text as a run of lines, or with up to `spacing`
    blank lines between them (PG puts one, two between the parts of a book).
    """
    kept: list[_Para] = []
    toc: list[str] = []
    index = 0
    while index < len(paras):
        para = paras[index]
        index += 1
        if _DOWNLOAD_LINK.search(para.text) and len(para.text) < 80:
            continue
        if para.text.lower().rstrip(":.") in _TOC_TITLES and not toc:
            while index < len(paras) and (not toc or paras[index].gap <= spacing):
                entries = paras[index].text.split("\n")
                if not all(_is_title_like(entry) for entry in entries):
                    break
                toc += entries
                index += 1
            continue
        kept.append(para)
    return kept, toc


def _pdf_paragraphs(lines: list[str]) -> list[_Para]:
    """Rejoin hard-wrapped PDF lines into paragraphs, headings and list items."""
    kept = list(_pdf_lines(lines))
    width = _line_width([text for text, _ in kept])
    vocabulary = _vocabulary([text for text, _ in kept])
    paras: list[_Para] = []
    current: list[str] = []
    loose_bullets = 0

    def flush() -> None:
        nonlocal loose_bullets
        if current:
            hint = "bullet" if current[0].startswith(_BULLET) else ""
            if not hint and loose_bullets:
                hint, loose_bullets = "bullet", loose_bullets - 1
            text = _join_lines(current, vocabulary).lstrip(_BULLET + " ")
            paras.append(_Para(text, hint=hint))
            current.clear()

    index = 0
    while index < len(kept):
        text, gap_after = kept[index]
        index += 1
        bare = _PAGE.sub("", text).strip()
        if bare == _BULLET:
            flush()
            loose_bullets += 1
            _carry_pages(text, kept, index)
            continue
        if not current and _is_heading_line(bare):
            while _continues(bare) and index < len(kept) and _is_heading_line(kept[index][0]):
                text, gap_after = f"{text} {kept[index][0]}", kept[index][1]
                bare, index = _PAGE.sub("", text).strip(), index + 1
            paras.append(_Para(text.strip(), hint="heading"))
            continue
        if bare.startswith(_BULLET) or _is_address(bare):
            flush()
        current.append(text.strip())
        following = [_PAGE.sub("", t).strip() for t, _ in kept[index : index + 2]]
        ends = gap_after or _is_address(bare) or (following and _is_address(following[0]))
        in_list = bool(loose_bullets) and _TERMINAL.search(bare) is not None
        if ends or in_list or _ends_paragraph(bare, following, width):
            flush()
    flush()
    return paras


def _pdf_lines(lines: list[str]) -> Iterator[tuple[str, bool]]:
    """Yield (line, a blank line ends its paragraph) without page numbers and captions.

    A printed page starts at the first line, after a bare page number, or at a line that
    begins with a space; its start is marked with a page token in front of the first kept
    line. Printed numbers re-synchronise the count, since most pages lost theirs.
    """
    page, pending, after_number = 1, "\x001\x00", False
    first = next((i for i, line in enumerate(lines) if line.strip()), len(lines))
    for index in range(first, len(lines)):
        line = lines[index]
        text = line.strip()
        if not text:
            continue
        if _PAGE_NUMBER.fullmatch(text):
            page, after_number = int(text), True
            continue
        if index > first and (after_number or line.startswith(" ")):
            page += 1
            pending += f"\x00{page}\x00"
        after_number = False
        if _is_caption(lines, index):
            continue
        blank_after = index + 1 < len(lines) and not lines[index + 1].strip()
        yield pending + text, blank_after and bool(_TERMINAL.search(text) or _is_address(text))
        pending = ""


def _is_caption(lines: list[str], index: int) -> bool:
    """A picture caption: a line set apart by blank lines (or opening a page, followed by
    one) that is neither sentence, title, list item nor address. Its picture is not in
    the text, so the caption goes too."""
    text = lines[index].strip()
    blank_before = index == 0 or not lines[index - 1].strip()
    blank_after = index + 1 >= len(lines) or not lines[index + 1].strip()
    return bool(
        blank_after
        and (blank_before or lines[index].startswith(" "))
        and not _TERMINAL.search(text)
        and not re.search(r"[,;]$", text)
        and not _is_title_like(text)
        and not text.startswith(_BULLET)
        and not _is_address(text)
    )


def _is_address(text: str) -> bool:
    """An e-mail or web address standing alone: contact lists put one on each line."""
    return bool(re.fullmatch(r"\S*(@|www\.|://)\S*", _PAGE.sub("", text).strip()))


def _carry_pages(text: str, kept: list[tuple[str, bool]], index: int) -> None:
    """Move page tokens from a dropped line (a lone bullet) onto the next kept line."""
    tokens = _tokens(text)
    if tokens and index < len(kept):
        kept[index] = (tokens + kept[index][0], kept[index][1])


def _tokens(text: str) -> str:
    """The page tokens found in `text`, in order, ready to prepend to another text."""
    return "".join(f"\x00{page}\x00" for page in _PAGE.findall(text))


def _line_width(texts: list[str]) -> int:
    """A full line's length in characters, less a margin: letters differ in width, so
    lines that are typographically full still vary by a few characters."""
    lengths = sorted(len(_PAGE.sub("", t)) for t in texts if len(t) > 20)
    return lengths[int(len(lengths) * 0.9)] - 3 if lengths else 67


def _ends_paragraph(line: str, following: list[str], width: int) -> bool:
    """Does a paragraph end after `line`, given the (up to two) lines that follow?

    Justified type pulls up every word that fits, so a sentence end followed by a word
    that would have fitted on the line ends a paragraph. So does one followed by a
    heading, or by a line too short to be anything but an indented first line.
    """
    if not _TERMINAL.search(line):
        return False
    if not following or _is_heading_line(following[0]):
        return True
    if _fits(line, following[0], width):
        return True
    return (
        len(following) == 2
        and not _TERMINAL.search(following[0])
        and _fits(following[0], following[1], width)
    )


def _fits(line: str, following: str, width: int) -> bool:
    """Would the first word of `following` have fitted at the end of `line`?"""
    words = following.split()
    return not words or len(line) + 1 + len(words[0]) <= width


def _vocabulary(texts: list[str]) -> set[str]:
    """Every word of the text in lower case, without the halves of hyphen-split words."""
    words: set[str] = set()
    for index, text in enumerate(texts):
        tokens = _PAGE.sub("", text).split()
        if tokens and tokens[-1].endswith("-"):
            tokens = tokens[:-1]
        if index and _PAGE.sub("", texts[index - 1]).endswith("-") and tokens:
            tokens = tokens[1:]
        words.update(w.lower().strip(_STRIP) for w in tokens)
    return words


def _join_lines(lines: list[str], vocabulary: set[str]) -> str:
    """Join wrapped lines with spaces, repairing words that hyphenation split in two."""
    text = lines[0]
    for line in lines[1:]:
        rest = _PAGE.sub("", line)
        match = re.search(r"(\w+)-$", text)
        if match and rest[:1].isalnum():
            head, _, tail = rest.partition(" ")
            glue = "" if _should_unhyphenate(match[1], head, vocabulary) else "-"
            marks = _tokens(line)
            text = f"{text[:-1]}{glue}{head}" + (f" {marks}{tail}" if tail else marks)
        else:
            text = f"{text} {line}"
    return text


def _should_unhyphenate(before: str, after: str, vocabulary: set[str]) -> bool:
    """Is `before-` + `after` one word split at a line end rather than a compound?

    "non-" + "Marxist" stays hyphenated (a capital never continues a word); "work-" +
    "ers" joins. Otherwise the spelling the text uses elsewhere wins, then the rule that a
    compound is made of two real words.
    """
    word = after.strip(_STRIP)
    if not word[:1].islower():
        return False
    joined, hyphenated = f"{before}{word}".lower(), f"{before}-{word}".lower()
    if joined in vocabulary and hyphenated not in vocabulary:
        return True
    if hyphenated in vocabulary:
        return False
    return not (before.lower() in vocabulary and word.lower() in vocabulary)


def _is_title_like(text: str, strict: bool = False) -> bool:
    """Short, no closing punctuation, most words capitalised: how titles are written.
    Never in brackets: PG's texts mark a picture `[Illustration: Caption]` (and music,
    a transcriber's note) where it stood, after the blank lines that set a title apart."""
    text = _PAGE.sub("", text).strip()
    if not text or len(text) > 100 or text[-1] in ".,;:" or text[0] in _BULLET + _DASHES + "[":
        return False
    if "@" in text or "www." in text or "://" in text:
        return False
    words = _WORD.findall(text)
    if not words or len(words) > 16:
        return False
    significant = [w for w in words if w.lower() not in _SMALL_WORDS and not w[0].isdigit()]
    capitalised = [w for w in significant if w[0].isupper()]
    if not significant or len(capitalised) < (1 if strict else 0.7) * len(significant):
        return False
    last = words[-1]
    return last[0].isupper() or last[0].isdigit() or last.lower() in _SMALL_WORDS


def _is_heading_line(text: str) -> bool:
    """A PDF line that is a heading: short and every significant word capitalised.

    Stricter than `_is_title_like`, since any wrapped line of prose is short and
    unpunctuated too.
    """
    text = _PAGE.sub("", text).strip()
    return len(text) <= 64 and _is_title_like(text, strict=True)


def _continues(heading: str) -> bool:
    """A heading line that ends on "and the" or a comma runs on to the next line."""
    words = _WORD.findall(heading)
    return heading.endswith(",") or bool(words and words[-1].lower() in _RUN_ON_WORDS)


def _classify(paras: list[_Para], toc: list[str], title: str) -> tuple[str, list[_Block]]:
    """The book title (`title` when the source states it, else its first title-like
    line) and the blocks: chapters, sections, lists, quotes, epigraphs, line blocks."""
    first = paras[0]
    titled = first.hint == "heading" or (not first.hint and _is_title_like(first.text))
    if not title and titled:
        title = _PAGE.sub("", paras[0].text).strip()
        pages = _tokens(paras[0].text)
        paras = paras[1:]
        if paras and pages:
            paras[0].text = pages + paras[0].text
    expected = list(toc)
    blocks: list[_Block] = []
    for para in paras:
        text = para.text
        if para.hint in ("lines", "chapter"):
            blocks.append(_Block(para.hint, text))
        elif para.hint in ("bullet", "number"):
            number = _NUMBERED.fullmatch(_PAGE.sub("", text))
            if para.hint == "number" and number:
                blocks.append(_Block("number", number[2], number[1]))
            else:
                blocks.append(_Block("bullet", text))
        elif para.hint == "heading" or (not para.hint and _is_title_like(text)):
            block = _heading_block(para, expected, bool(toc))
            if not blocks and not toc and para.hint != "heading":
                block.kind = "chapter"  # the first title after the book's title opens a chapter
            blocks.append(block)
        else:
            blocks.append(_Block("para", text))
    return title, _mark_quotes(_mark_epigraphs(blocks))


def _heading_block(para: _Para, expected: list[str], has_toc: bool) -> _Block:
    """Chapter or section? Back-matter titles and the page's own contents entries open
    chapters; without a contents list, a title set apart or indented does."""
    bare = _PAGE.sub("", para.text).strip()
    if bare.lower() in _BACK_MATTER:
        return _Block("chapter", para.text, "backmatter")
    if expected and _similar(bare, expected[0]):
        expected.pop(0)
        return _Block("chapter", para.text)
    if not has_toc and para.hint != "heading" and (para.gap >= 2 or para.indented):
        return _Block("chapter", para.text)
    return _Block("section", para.text)


def _similar(a: str, b: str) -> bool:
    """Titles that differ only in small words or punctuation (a contents entry vs. head)."""

    def simple(s: str) -> str:
        return " ".join(w.lower() for w in _WORD.findall(s))

    return SequenceMatcher(None, simple(a), simple(b)).ratio() >= 0.75


def _mark_epigraphs(blocks: list[_Block]) -> list[_Block]:
    """A line followed by a dash-and-author line, right under a chapter title, is an epigraph."""
    result: list[_Block] = []
    index = 0
    while index < len(blocks):
        block = blocks[index]
        nxt = blocks[index + 1] if index + 1 < len(blocks) else None
        under_title = result and result[-1].kind in ("chapter", "epigraph")
        if (
            under_title
            and block.kind == "para"
            and nxt is not None
            and nxt.kind == "para"
            and nxt.text[:1] in _DASHES
            and len(nxt.text) < 80
        ):
            result.append(_Block("epigraph", block.text, nxt.text.lstrip(_DASHES + " ")))
            index += 2
            continue
        result.append(block)
        index += 1
    return result


def _mark_quotes(blocks: list[_Block]) -> list[_Block]:
    """A long paragraph introduced by one ending in ':' or ',' is most likely a quotation."""
    for before, block in itertools.pairwise(blocks):
        if (
            before.kind == "para"
            and before.text.rstrip().endswith((":", ","))
            and block.kind == "para"
            and len(block.text) >= 80
        ):
            block.kind = "quote"
    return blocks


def _split_chapters(title: str, blocks: list[_Block]) -> list[list[_Block]]:
    """One list of blocks per chapter; text before the first chapter title goes under
    the book's title (a pamphlet whose title is also its only essay's heading)."""
    chapters: list[list[_Block]] = []
    for block in blocks:
        if block.kind == "chapter" or not chapters:
            if block.kind != "chapter":
                chapters.append([_Block("chapter", title or "Untitled")])
            else:
                chapters.append([])
        chapters[-1].append(block)
    return chapters


def _notes(chapter: list[_Block]) -> list[_Block]:
    """The chapter with PG's footnotes as notes: each `[Footnote X: …]` paragraph becomes
    a note, cited where the nearest `[X]` before it stands in the chapter's text (not in a
    heading, which the contents list would show). One with no such mark stays text."""
    blocks: list[_Block] = []
    count = 0
    for block in chapter:
        note = _FOOTNOTE.fullmatch(block.text) if block.kind in ("para", "quote") else None
        if note is not None:
            mark = f"[{note[1]}]"
            for index in reversed(range(len(blocks))):
                cited = blocks[index]
                at = cited.text.rfind(mark)
                if at >= 0 and cited.kind not in ("chapter", "section", "note"):
                    count += 1
                    text = f"{cited.text[:at]}\x01{count}\x01{cited.text[at + len(mark) :]}"
                    blocks[index] = _Block(cited.kind, text, cited.extra)
                    block = _Block("note", note[2], str(count))
                    break
        blocks.append(block)
    return blocks


def _render(blocks: list[_Block]) -> str:
    """The chapter's Markdown: blocks separated by blank lines, list items kept together.

    A page that begins at a heading is marked at the start of the paragraph after it:
    markers inside headings would end up in the table of contents.
    """
    out: list[str] = []
    carried = ""
    previous = ""
    for block in blocks:
        text = carried + block.text
        carried = ""
        if block.kind in ("chapter", "section"):
            carried = _tokens(text)
            heading = _inline(_PAGE.sub("", text).strip())
            matter = f" {{.{block.extra}}}" if block.extra else ""
            markdown = f"{'#' if block.kind == 'chapter' else '##'} {heading}{matter}"
        elif block.kind == "quote":
            markdown = f"> {_paragraph(text)}"
        elif block.kind == "bullet":
            markdown = f"- {_paragraph(text)}"
        elif block.kind == "number":
            markdown = f"{block.extra}. {_paragraph(text)}"
        elif block.kind == "lines":
            markdown = "\n".join(f"| {_inline(line)}" for line in text.split("\n"))
        elif block.kind == "epigraph":
            markdown = f"::: epigraph\n> {_paragraph(text)}\n>\n> — {_inline(block.extra)}\n:::"
        elif block.kind == "note":
            markdown = f"[^{block.extra}]: {_inline(text)}"
        else:
            markdown = _paragraph(text)
        in_list = block.kind == previous and block.kind in ("bullet", "number")
        separator = "\n" if in_list else "\n\n"
        out.append((separator if out else "") + _CITED.sub(r"[^\1]", _pagebreaks(markdown)))
        previous = block.kind
    return "".join(out) + "\n"


def _paragraph(text: str) -> str:
    """Paragraph text, escaped so that its first characters cannot start another block."""
    leading = re.match("(\x00\\d+\x00)*", text)[0]
    return leading + _escape_start(_inline(text[len(leading) :]))


def _inline(text: str) -> str:
    """Escape Markdown's inline specials and turn e-mail and web addresses into links;
    words between underscores (`_so_`, how plain text and PG's texts mark italics) are
    emphasis."""
    parts = _ITALIC.split(text)  # text, italics, text, italics, … text
    return "".join(
        f"*{_escaped(part)}*" if at % 2 else _escaped(part) for at, part in enumerate(parts)
    )


def _escaped(text: str) -> str:
    """`text` with Markdown's inline specials escaped, its addresses made links."""
    text = re.sub(r"([\\`*_$<~^])", r"\\\1", text)
    text = _EMAIL.sub(r"<\1>", text)
    text = _URL.sub(r"<\1>", text)
    return _WWW.sub(r"[\1](http://\1)", text)


def _escape_start(text: str) -> str:
    """Backslash a line start that pandoc would read as a heading, list, quote or table.
    A list marker needs no text after it (`1818.` alone is an empty list item, its
    number lost), and pandoc's lists count in letters and Roman numerals too (`II.`, `(a)`)."""
    if re.match(r"(#|>|\||:|=|%|[-+*](\s|$))", text):
        return "\\" + text
    marker = _LIST_MARKER.match(text)
    if marker is None:
        return text
    opening, number, closing = marker.groups()
    return "\\" * bool(opening) + f"{opening}{number}\\{closing}{text[marker.end() :]}"


def _pagebreaks(markdown: str) -> str:
    """Page tokens -> `[]{.pagebreak page="N"}`, glued to the word the page begins with."""
    return _PAGE.sub(lambda m: f'[]{{.pagebreak page="{m[1]}"}}', markdown)


def _file_name(number: int, count: int, title: str) -> str:
    """The chapter's file, named after its title, short enough to type."""
    ascii_title = unicodedata.normalize("NFKD", _PAGE.sub("", title))
    words = re.findall(r"[a-z0-9]+", ascii_title.encode("ascii", "ignore").decode().lower())
    kept: list[str] = []
    for word in words:
        if len("-".join([*kept, word])) > 48:
            break
        kept.append(word)
    while len(kept) > 1 and kept[-1] in _RUN_ON_WORDS:
        kept.pop()
    return chapter_file(number, count, "-".join(kept) or "chapter")
