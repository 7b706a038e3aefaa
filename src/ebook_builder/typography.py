"""Stage 2, after pandoc: quotes, spaces and dashes set for the language of the text.

Pandoc's `smart` extension typesets every book the English way: "…" becomes “…”, '…'
becomes ‘…’, `--` and `---` become – and —. `typeset` re-sets the text of a converted
chapter body for its language: the book's `language`, or the `lang` of an element inside
it (`[a phrase]{lang=en}`). It changes text nodes only, never an attribute (alt text and
titles keep pandoc's marks: a screen reader does not voice them, and an attribute has no
markup that would tell code from prose), and never the text of `code`, `pre`, `kbd`,
`samp`, `var` or math. English, and every language without rules here, keeps pandoc's
typography but for the quotes pandoc turns the wrong way (below).

Quotes. Pandoc's double quotes become the language's primary marks and its single quotes
the secondary ones, as pandoc's ConTeXt writer (`\\quotation`, `\\quote`) and the
pandoc-quotes filter map them; authors nest as in English, "outer 'inner' outer":

- en and the rest: “…” and ‘…’ (pandoc's own)
- fr: « … » with U+202F inside, and “…” within them
- de: „…“ and ‚…‘ (Duden)
- de-CH, de-LI: «…» and ‹…›, without spaces (Swiss usage)

Quotes pandoc turns the wrong way, in every language. Inside an open quotation pandoc takes
any `"` for its end, wherever it stands, so a line that opens a quotation after a hard line
break (`"Once upon\\` / `"They called me…`, verse that quotes line by line) or after a
space, a bracket or a dash, gets a closing mark: `”They`. A ” with no word before it (it
follows the start of a block, a line break, a space, an opening bracket or a dash) and a
word after it, while a “ is open, opens: “They. ’ is also the apostrophe, and ’tis, ’90s
and ’em begin lines: right after a line break, with a “‘” open, ’ opens only where pandoc
would open it on a line of its own (its `singleQuoted` rule): a word follows it, and a ’
that can close (no letter or digit after it) comes later in the block; otherwise it stays
an apostrophe. An opening mark left unclosed (a quotation running on to the next line or
paragraph, whose marks open each one) is still set as the language's opening mark.

The apostrophe stays ’ in every language. Which ’ closes a quote and which is an
apostrophe is decided by pandoc's own rules (`Text.Pandoc.Parsing.Smart`): a mark opens
only where a word does not end right before it and a space does not follow it; ’ closes
the innermost ‘ only when no letter or digit follows it (l’homme, aujourd’hui stay).

French spacing (Lexique des règles typographiques en usage à l'Imprimerie nationale;
Office québécois de la langue française): a no-break space before ; : ! ? and », and
after «. The OQLF asks for a thin one before ; ! ? and a word-wide one before : and inside
« »; this project uses the narrow no-break space U+202F for all of them, which
justification never stretches, so no mark drifts away from its word on a justified line.
A plain, no-break or thin space already there is replaced. A missing one is added only
where the mark follows a word, a digit or a closing mark and no letter, digit or piece of
a URL, path or time follows it: 12:30, `a?b=1`, URLs and e-mail addresses are left alone,
and `?!` gets one space, before the `?`.

Dashes. An em dash set tight between words, as English sets it, is spaced: French and
German set an incise between word spaces (Lexique de l'Imprimerie nationale; Duden,
Gedankenstrich). German also uses the en dash, not the em dash, as its Gedankenstrich
(Duden), so — becomes – in German; French keeps the author's dash, since both the em and
the en dash are current for an incise. A dash between digits (a range) gets no space, and
en dashes are left as written: in German an unspaced one is a range (1914–1918, Berlin–
Hamburg). A dash that opens a paragraph, as a French line of dialogue does, gets its space
after it: "—Bonjour" -> "— Bonjour". Spaces added around dashes are plain word spaces, as
the Imprimerie nationale asks.
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Iterator
from dataclasses import dataclass

from lxml import etree

from ebook_builder.markup.xhtml import XML_LANG

NNBSP = "\u202f"
SPACES = " \u00a0\u202f\u2009"  # what may stand between a word and French punctuation
CLOSING = ")]}»”’“‘›…"  # what may end a word before French punctuation or a dash
OPENING = "([{«„‚“‘‹"
TIGHT = "/\\=&#%_~@+-.,;:"  # after ; : ! ?, marks a URL, a path, a time or code, not prose
BREAK = "\n"  # stands for the edge of a block: text on either side does not touch
LINE = "\u2028"  # stands for a `<br/>`: a new line in the same block
BEFORE_OPENING = SPACES + BREAK + LINE + "([{—–"  # what a quote may open after
PANDOC_QUOTES = {"“": "”", "‘": "’"}  # pandoc's opening marks and the closing each awaits
SEPARATOR = "\x00"  # stands for a child element in a level's text; XML text never has it
# A URL is tried only where a word starts (`(?<!\S)`): tried everywhere, the `\S*` ran to
# the word's end from each of its letters, quadratic in a long word.
URL = re.compile(r"(?<!\S)\S*?(?:://|@)\S*|\bwww\.\S+")
VERBATIM = frozenset({"code", "pre", "kbd", "samp", "var", "script", "style", "math", "svg"})
# Elements inside a line of text; any other one ends a block, and text does not run across it.
# fmt: off
INLINE = frozenset({
    "a", "abbr", "b", "bdi", "bdo", "cite", "code", "data", "del", "dfn", "em", "i", "ins",
    "kbd", "mark", "math", "q", "s", "samp", "small", "span", "strong", "sub", "sup", "time",
    "u", "var", "wbr",
})
# fmt: on


@dataclass(frozen=True)
class Rules:
    """How a language sets its text; `double` and `single` are (opening, closing) marks."""

    double: str
    single: str
    french_spacing: bool = False
    dash: str | None = None  # an incise's dash, spaced between words; None: as written


PANDOC = Rules("“”", "‘’")
SWISS_GERMAN = Rules("«»", "‹›", dash="–")
RULES = {
    "fr": Rules("«»", "“”", french_spacing=True, dash="—"),
    "de": Rules("„“", "‚‘", dash="–"),
    "de-ch": SWISS_GERMAN,
    "de-li": SWISS_GERMAN,
}


def rules_for(language: str) -> Rules:
    """The rules of a BCP 47 tag: its language and region (`de-CH`), else its language."""
    subtags = language.lower().split("-")
    region = ""
    for subtag in subtags[1:]:
        if len(subtag) == 1:  # an extension or private use follows: no region
            break
        if len(subtag) == 2 and subtag.isalpha():
            region = subtag
            break
    return RULES.get(f"{subtags[0]}-{region}") or RULES.get(subtags[0], PANDOC)


def typeset(body: etree._Element, language: str) -> None:
    """Set the quotes, spaces and dashes of `body`'s text for `language`, in place.

    `body` is pandoc's output, read once: its marks are taken for pandoc's English ones.
    """
    rules = rules_for(language)
    _reopen(_Text(body, PANDOC))
    levels = list(_levels(body, rules))
    if all(level_rules is PANDOC for _, level_rules in levels):
        return
    for element, level_rules in levels:
        if level_rules is not PANDOC:
            _requote(element, level_rules)
    text = _Text(body, rules)
    _french_spacing(text)
    _dashes(text)
    text.write()


def _local(element: etree._Element) -> str:
    return element.tag.rpartition("}")[2] if isinstance(element.tag, str) else ""


def _verbatim(element: etree._Element) -> bool:
    """Text that is code, math or not text at all (a comment), which must stay as written."""
    name = _local(element)
    return not name or name in VERBATIM or "math" in element.get("class", "").split()


def _own_rules(element: etree._Element, inherited: Rules) -> Rules:
    language = element.get(XML_LANG, element.get("lang"))
    return inherited if language is None else rules_for(language)


def _levels(element: etree._Element, rules: Rules) -> Iterator[tuple[etree._Element, Rules]]:
    """Every element whose own text is prose, with the rules of its language."""
    rules = _own_rules(element, rules)
    yield element, rules
    for child in element:
        if not _verbatim(child):
            yield from _levels(child, rules)


def _requote(element: etree._Element, rules: Rules) -> None:
    """Pair pandoc's quote marks in `element`'s own text and set them in `rules`' marks.

    A quotation's marks always lie in the text of one element (pandoc's `Quoted` inline),
    so the element's text and its children's tails are read together, each child standing
    in as a separator that is neither a letter nor a space, as its markup was in Markdown.
    (Pandoc's `--html-q-tags` would mark each quotation as a `<q>`, but the same `<q>` for
    double and single quotes: the author's choice, which English keeps, would be lost.)
    """
    pieces = [element.text or ""] + [child.tail or "" for child in element]
    source = SEPARATOR.join(pieces)
    marks = list(source)
    opened: list[tuple[str, int]] = []  # (the closing mark awaited, where it opened)

    def unclosed(closing: str, start: int) -> None:
        marks[start] = (rules.double if closing == "”" else rules.single)[0]

    for index, char in enumerate(source):
        before, after = source[index - 1 : index], source[index + 1 : index + 2]
        closing = PANDOC_QUOTES.get(char)
        if closing and not before.isalnum() and after and not after.isspace():
            if any(awaited == closing for awaited, _ in opened):  # the open one runs on
                while opened[-1][0] != closing:
                    unclosed(*opened.pop())
                unclosed(*opened.pop())
            opened.append((closing, index))
        elif opened and char == opened[-1][0] and (char == "”" or not after.isalnum()):
            _, start = opened.pop()
            marks[start], marks[index] = rules.double if char == "”" else rules.single
    for awaited, start in opened:
        unclosed(awaited, start)
    pieces_out = "".join(marks).split(SEPARATOR)
    if pieces_out[0] != pieces[0]:
        element.text = pieces_out[0]
    for child, old, new in zip(element, pieces[1:], pieces_out[1:], strict=True):
        if new != old:
            child.tail = new


@dataclass
class _Run:
    """A stretch of `_Text`: one node's text or tail, or a block edge (`element` None)."""

    start: int
    element: etree._Element | None
    tail: bool
    editable: bool
    rules: Rules


class _Text:
    """A body's text as one string, each character traced back to the node that holds it.

    French spacing and dashes look across inline markup (`mot <em>fin</em> ?`), but not
    across blocks; changes are gathered as position -> new text and written back at once.
    """

    def __init__(self, body: etree._Element, rules: Rules) -> None:
        self.runs: list[_Run] = []
        self.edits: dict[int, str] = {}
        self._parts: list[str] = []
        self._length = 0
        self._walk(body, rules, True)
        self.text = "".join(self._parts)
        self.starts = [run.start for run in self.runs]
        self.protected = bytearray(len(self.text))
        for match in URL.finditer(self.text):
            self.protected[match.start() : match.end()] = b"\x01" * len(match.group())

    def _add(
        self,
        text: str | None,
        element: etree._Element | None,
        tail: bool,
        editable: bool,
        rules: Rules,
    ) -> None:
        if text:
            self.runs.append(_Run(self._length, element, tail, editable, rules))
            self._parts.append(text)
            self._length += len(text)

    def _walk(self, element: etree._Element, rules: Rules, editable: bool) -> None:
        rules = _own_rules(element, rules)
        own = editable and not _verbatim(element)
        if _local(element) == "br":
            self._add(LINE, None, False, False, rules)
            self._add(element.tail, element, True, editable, rules)
            return
        block = _local(element) not in INLINE
        if block:
            self._add(BREAK, None, False, False, rules)
        self._add(element.text, element, False, own, rules)
        for child in element:
            self._walk(child, rules, own)
            if _local(child) != "br":
                self._add(child.tail, child, True, own, rules)
        if block:
            self._add(BREAK, None, False, False, rules)

    def run_at(self, index: int) -> _Run:
        return self.runs[bisect.bisect_right(self.starts, index) - 1]

    def change(self, changes: dict[int, str]) -> None:
        """Apply `changes` (position -> new text) if every position is prose not yet changed."""
        if all(
            i not in self.edits and not self.protected[i] and self.run_at(i).editable
            for i in changes
        ):
            self.edits.update(changes)

    def write(self) -> None:
        """Put the changed text back into the nodes it came from."""
        touched = {bisect.bisect_right(self.starts, i) - 1 for i in self.edits}
        for number in sorted(touched):
            run = self.runs[number]
            end = self.runs[number + 1].start if number + 1 < len(self.runs) else len(self.text)
            new = "".join(self.edits.get(i, self.text[i]) for i in range(run.start, end))
            if run.tail:
                run.element.tail = new
            else:
                run.element.text = new


def _reopen(text: _Text) -> None:
    """Set as opening the quote marks pandoc closed where a quotation opens (module
    docstring), and write them back."""
    source = text.text
    open_double = open_single = False
    for index, char in enumerate(source):
        if char == BREAK and text.run_at(index).element is None:  # a block's edge
            open_double = open_single = False
        if char not in "“”‘’" or not text.run_at(index).editable:
            continue
        before, after = source[index - 1 : index], source[index + 1 : index + 2]
        opening_place = (not before or before in BEFORE_OPENING) and after.strip() != ""
        if char == "“":
            open_double = True
        elif char == "”" and open_double and opening_place:
            text.change({index: "“"})
        elif char == "”":
            open_double = False
        elif char == "‘":
            open_single = True
        elif open_single and after.isalnum() and _after_line_break(source, index):
            block_end = source.find(BREAK, index)
            rest = source[index + 1 : block_end if block_end >= 0 else len(source)]
            if re.search(r"’(?![^\W_])", rest):
                text.change({index: "‘"})
        elif not after.isalnum():
            open_single = False
    text.write()


def _after_line_break(source: str, index: int) -> bool:
    """Whether only spaces stand between a `<br/>` and `index`."""
    start = index
    while start and source[start - 1] in SPACES + BREAK:
        start -= 1
    return source[start - 1 : start] == LINE


def _french_spacing(text: _Text) -> None:
    """A narrow no-break space before ; : ! ? » and after «, in French text."""
    source = text.text
    for match in re.finditer(r"[;:!?«»]", source):
        index, mark = match.start(), match.group()
        if not text.run_at(index).rules.french_spacing:
            continue
        if mark == "«":
            _space_after(text, index)
        elif mark == "»":
            _space_before(text, index, guillemet=True)
        else:
            after = source[index + 1 : index + 2]
            if not after or not (after.isalnum() or after in TIGHT):
                _space_before(text, index, guillemet=False)


def _space_before(text: _Text, index: int, guillemet: bool) -> None:
    """One U+202F before the mark at `index`: spaces before it replaced, or one added.

    Before ; : ! ? a space is added only after a word, a digit or a closing mark, and
    only the first of two marks gets one (`?!`); before » after anything but «. Never at
    the start of a block.
    """
    source = text.text
    start = index
    while start and source[start - 1] in SPACES:
        start -= 1
    before = source[start - 1 : start]
    if not before or before.isspace() or before == "«" or (not guillemet and before in ";:!?"):
        return
    if start < index:
        if source[start:index] != NNBSP:
            text.change({start: NNBSP} | {i: "" for i in range(start + 1, index)})
    elif guillemet or before.isalnum() or before in CLOSING:
        text.change({index: NNBSP + source[index]})


def _space_after(text: _Text, index: int) -> None:
    """One U+202F after the « at `index`, unless nothing follows it in its block."""
    source = text.text
    end = index + 1
    while end < len(source) and source[end] in SPACES:
        end += 1
    if end == len(source) or source[end].isspace() or source[end] == "»":
        return
    if end == index + 1:
        text.change({index: source[index] + NNBSP})
    elif source[index + 1 : end] != NNBSP:
        text.change({index + 1: NNBSP} | {i: "" for i in range(index + 2, end)})


def _dashes(text: _Text) -> None:
    """Em dashes between words spaced, and set as the language's incise dash."""
    source = text.text
    for match in re.finditer("—", source):
        index = match.start()
        dash = text.run_at(index).rules.dash
        if dash is None:
            continue
        before, after = source[index - 1 : index], source[index + 1 : index + 2]
        if before.isdigit() and after.isdigit():
            new = dash  # a range: 1914–1918
        else:
            space_before = before.isalnum() or (before != "" and before in CLOSING)
            space_after = after.isalnum() or (after != "" and after in OPENING)
            new = " " * space_before + dash + " " * space_after
        if new != "—":
            text.change({index: new})
