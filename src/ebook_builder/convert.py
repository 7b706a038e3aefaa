"""Stage 2: chapter Markdown -> XHTML body, through pandoc.

Pandoc does the Markdown and the typography (curly quotes, dashes, ellipses); this module
turns its HTML5 into EPUB-flavoured XHTML: sections with stable ids, footnotes as EPUB
pop-up notes, page-break markers, epigraphs and front/back matter tagged with `epub:type`,
and verse set out as stanzas of lines.
"""

from __future__ import annotations

import json
import re
import unicodedata
from collections.abc import Iterable, Iterator, Sequence
from pathlib import PurePosixPath
from urllib.parse import unquote

from lxml import etree

from ebook_builder.cache.chapters import NO_CACHE, ChapterCache
from ebook_builder.errors import BookError, Diagnostic
from ebook_builder.limits import TOO_DEEP, pandoc_problem
from ebook_builder.lines import locate, locate_any
from ebook_builder.losses import conversion_warnings, pandoc_refusal
from ebook_builder.markup.attributes import TEXT_ALIGNED, TEXT_ALIGNMENTS, allowed
from ebook_builder.markup.mathml import add_alttext, formulas, tex_source
from ebook_builder.markup.references import LOADED_ATTRIBUTES
from ebook_builder.markup.semantics import chapter_matter, epub_type_note, role_problem
from ebook_builder.markup.xhtml import (
    EPUB_TYPE,
    HEADING_TAGS,
    HTML_MAX_SPAN,
    VOID_TAGS,
    XHTML_NS,
    heading_text,
    html_integer,
    opened_section,
    parse_fragment,
    tag,
    text_of,
)
from ebook_builder.model import Book, ChapterDocument, ChapterSource
from ebook_builder.pandoc import (
    Conversion,
    Refused,
    conversion_keys,
    convert_cached,
    convert_documents,
)
from ebook_builder.typography import typeset

# Ids come from heading text in this module, not from pandoc, so that the pipeline knows
# which ids the author wrote (and must keep) and which it made (and may rename).
PANDOC_FROM = "markdown-auto_identifiers-implicit_header_references"
PANDOC_ARGS = (
    "--section-divs",
    "--email-obfuscation=none",
    "--wrap=none",
    "--mathml",
)
# Raw passages (`\newpage`, `\begin{center}`, ```` ```{=latex} ````) in a format pandoc's
# HTML writer does not carry: it drops them without a word. Only a chapter with a TeX
# command or a `{=format}` attribute can hold one, so only those are read again, as
# pandoc's document tree, to find them.
CARRIED_RAW = frozenset({"html", "html4", "html5"})
RAW_HINT = re.compile(r"\\[A-Za-z]|\{=")
RAW_FORMATS = {"tex": "TeX", "latex": "LaTeX", "openxml": "OpenXML"}
# What pandoc leaves empty where it dropped all that a list item or paragraph held.
EMPTIED = ("li", "p")
# The ARIA role of each EPUB structural semantic that has one (DPUB-ARIA 1.1, "Mapping
# from EPUB structural semantics"): DAISY Ace's `epub-type-has-matching-role` rule asks an
# element that carries one of these `epub:type`s to carry its role too. The semantics an
# author writes on a fenced div (`{epub:type=part}`), or an import carries on one (a
# `<blockquote epub:type="pullquote">`): sectioning ones, and the blocks of DPUB-ARIA.
EPUB_TYPE_ROLES = {
    name: f"doc-{name}"
    for name in [
        "abstract",
        "acknowledgments",
        "afterword",
        "appendix",
        "bibliography",
        "chapter",
        "colophon",
        "conclusion",
        "credit",
        "credits",
        "dedication",
        "endnotes",
        "epigraph",
        "epilogue",
        "errata",
        "foreword",
        "glossary",
        "index",
        "introduction",
        "notice",
        "part",
        "preface",
        "prologue",
        "pullquote",
        "qna",
        "tip",
    ]
}

# What marks a block as verse: pandoc's line block, the classes authors give a poem's div,
# and the semantics other productions (Standard Ebooks, DAISY) put on poems.
VERSE_CLASSES = frozenset({"line-block", "poem", "verse"})
VERSE_TYPES = frozenset({"z3998:poem", "z3998:verse", "z3998:song", "z3998:hymn"})
# The numeric attributes of raw HTML that `_read_numbers` reads: name, least, most.
LIST_NUMBER = 2**31 - 1
NUMERIC_ATTRIBUTES = {
    "td": [("colspan", 1, HTML_MAX_SPAN["colspan"]), ("rowspan", 0, HTML_MAX_SPAN["rowspan"])],
    "th": [("colspan", 1, HTML_MAX_SPAN["colspan"]), ("rowspan", 0, HTML_MAX_SPAN["rowspan"])],
    "ol": [("start", -LIST_NUMBER, LIST_NUMBER)],
    "li": [("value", -LIST_NUMBER, LIST_NUMBER)],
}
# HTML's void elements written as HTML (`<br>`), to be closed for the XML parser.
VOID_ELEMENT = re.compile(rf"(<(?:{'|'.join(sorted(VOID_TAGS))})\b[^<>]*)>", re.IGNORECASE)
# The id pandoc gives a note in its note list; its reference is `fnref` and the number.
NOTE_ID = re.compile(r"fn[0-9]+")
# An address that pandoc read together with its title: `/url%20%22title%22` (see
# `_split_titles`): the address, the whitespace as pandoc encoded it, the quoted title.
ADDRESS_AND_TITLE = re.compile(r"^(.*?)%20(%22.*%22|'.*'|\(.*\))$")


def markdown_to_html(texts: list[str]) -> list[Conversion]:
    """Pandoc's HTML5 body of each chapter, with its warnings.

    Pandoc runs sandboxed (it reads no file, fetches nothing); its warnings become the
    chapter's (`losses.conversion_warnings`).
    """
    return convert_documents(texts, PANDOC_FROM, "html5", PANDOC_ARGS)


def convert_book(book: Book, cache: ChapterCache = NO_CACHE) -> list[ChapterDocument]:
    """Convert every chapter; raise `BookError` listing every chapter that fails."""
    unreadable = [problem for source in book.chapters if (problem := pandoc_problem(source))]
    if unreadable:
        raise BookError("pandoc cannot read some chapters in time", unreadable)
    texts = [source.text for source in book.chapters]
    try:
        conversions = convert_cached(texts, PANDOC_FROM, "html5", PANDOC_ARGS, cache)
    except Refused as refused:
        raise _refusal(book.chapters, refused) from None
    raws = raw_passages(texts, cache)
    problems: list[Diagnostic] = []
    chapters = []
    for source, conversion, raw in zip(book.chapters, conversions, raws, strict=True):
        try:
            chapters.append(convert_chapter(source, conversion, book.metadata.language, raw))
        except BookError as exc:
            problems.extend(exc.diagnostics)
    if problems:
        raise BookError("chapters could not be converted", problems)
    make_ids_unique(chapters)
    return chapters


def cache_keys(book: Book) -> list[str]:
    """The chapter-cache entries `convert_book` looks up: the HTML of every chapter and the
    pandoc tree of those with raw passages (`raw_passages`).

    A catalog build sends them with the book to a worker, whose disk has no cache.
    """
    texts = [source.text for source in book.chapters]
    hinted = [text for text in texts if RAW_HINT.search(text)]
    html = conversion_keys(texts, PANDOC_FROM, "html5", PANDOC_ARGS)
    return html + conversion_keys(hinted, PANDOC_FROM, "json", ())


def convert_chapter(
    source: ChapterSource,
    conversion: Conversion | None = None,
    language: str = "en",
    raw: list[tuple[str, str]] | None = None,
) -> ChapterDocument:
    """One chapter's XHTML body from pandoc's conversion of it and its raw passages
    (`raw_passages`), made here when not given.

    Quotes, spaces and dashes are set for `language` (pandoc's own are English) after the
    ids are made, so that ids never depend on the language; the title gets them too.
    What pandoc could not carry into the HTML becomes the chapter's warnings.
    Raises `BookError` when the chapter's raw HTML is not well-formed.
    """
    if conversion is None:
        if problem := pandoc_problem(source):
            raise BookError(problem.message, [problem])
        try:
            (conversion,) = markdown_to_html([source.text])
        except Refused as refused:
            raise _refusal([source], refused) from None
    if raw is None:
        (raw,) = raw_passages([source.text])
    body = _parse(source, conversion.output)
    _split_titles(body)
    add_alttext(body)
    found = conversion_warnings(source, conversion.output, conversion.warnings)
    found += _dropped_raw(source, body, raw)
    _drop_emptied(body)
    _read_numbers(body)
    _keep_attributes_valid(body)
    file_name = content_file_name(source)
    _convert_footnotes(body, file_name.removesuffix(".xhtml"))
    page_ids = _mark_page_breaks(body)
    # After the notes and page breaks are marked, so that ids leave them out of the text.
    auto_ids = _assign_section_ids(body) | page_ids
    _mark_semantics(body)
    found += _semantic_notes(source, body)
    typeset(body, language)
    _mark_verse(body)
    first_heading = next(body.iter(*HEADING_TAGS), None)
    title = heading_text(first_heading) if first_heading is not None else source.entry
    warnings = sorted(dict.fromkeys(found), key=lambda warning: warning.line or 0)
    return ChapterDocument(source, file_name, title, body, auto_ids, warnings)


def _refusal(sources: Sequence[ChapterSource], refused: Refused) -> BookError:
    """Pandoc's refusal of one of `sources`, at that chapter's line."""
    problem = pandoc_refusal(sources[refused.index], refused.reason)
    return BookError(problem.message, [problem])


def raw_passages(
    texts: Sequence[str], cache: ChapterCache = NO_CACHE
) -> list[list[tuple[str, str]]]:
    """Each text's raw passages (format, source) that pandoc's HTML writer drops."""
    found: list[list[tuple[str, str]]] = [[] for _ in texts]
    hinted = [index for index, text in enumerate(texts) if RAW_HINT.search(text)]
    if hinted:
        trees = convert_cached([texts[i] for i in hinted], PANDOC_FROM, "json", (), cache)
        for index, tree in zip(hinted, trees, strict=True):
            raws = _raw_nodes(json.loads(tree.output)["blocks"])
            found[index] = [(fmt, text) for fmt, text in raws if fmt.lower() not in CARRIED_RAW]
    return found


def _raw_nodes(node: object) -> Iterator[tuple[str, str]]:
    """The `RawBlock` and `RawInline` nodes of a pandoc JSON tree, in document order."""
    if isinstance(node, dict):
        if node.get("t") in ("RawBlock", "RawInline"):
            fmt, text = node["c"]
            yield fmt, text
        else:
            yield from _raw_nodes(node.get("c"))
    elif isinstance(node, list):
        for child in node:
            yield from _raw_nodes(child)


def _dropped_raw(
    source: ChapterSource, body: etree._Element, raw: list[tuple[str, str]]
) -> list[Diagnostic]:
    """A warning for each raw passage the chapter loses, at its own line.

    A TeX math environment (`\\begin{equation}`) is not lost: pandoc writes it as MathML,
    and its TeX is then a formula's annotation.
    """
    carried = {tex_source(math) for math in formulas(body)}
    seen: dict[str, int] = {}
    warnings = []
    for fmt, text in raw:
        text = text.strip()
        if not text or text in carried:
            continue
        needle = text.splitlines()[0].strip()[:60]
        seen[needle] = seen.get(needle, 0) + 1
        name = RAW_FORMATS.get(fmt.lower(), fmt)
        message = f"raw {name} `{_shortened(text)}` is left out: no e-book format can show it"
        # A note's raw passage comes once per reference to the note, written once: its line.
        line = locate_any(source.text, [needle], seen[needle])
        warnings.append(Diagnostic(source.display_path, message, line))
    return warnings


def _semantic_notes(source: ChapterSource, body: etree._Element) -> list[Diagnostic]:
    """A warning for each `epub:type` term outside the vocabulary, at its own line."""
    notes = []
    seen: dict[str, int] = {}
    for element in body.iter():
        for word in element.get(EPUB_TYPE, "").split() if isinstance(element.tag, str) else ():
            if message := epub_type_note(word):
                seen[word] = seen.get(word, 0) + 1
                line = locate_any(source.text, [f"epub:type={word}", word], seen[word])
                notes.append(Diagnostic(source.display_path, message, line))
    return notes


def _shortened(text: str) -> str:
    """`text` on one line, at most 40 characters: enough to recognise it in a message."""
    text = " ".join(text.split())
    return text if len(text) <= 40 else text[:39] + "…"


def _drop_emptied(body: etree._Element) -> None:
    """Remove list items and paragraphs left with nothing in them, then lists left empty.

    Pandoc leaves them where it dropped all they held (a raw TeX item): a reader would
    show a bullet beside nothing, and a screen reader announce an empty item.
    """
    for element in list(body.iter(*map(tag, EMPTIED))):
        if len(element) == 0 and not (element.text or "").strip():
            _remove(element)
    for listing in list(body.iter(tag("ul"), tag("ol"))):
        if listing.find(tag("li")) is None:
            _remove(listing)


def _remove(element: etree._Element) -> None:
    """Remove `element`, keeping its tail (text after it) in the document."""
    parent = element.getparent()
    previous = element.getprevious()
    if element.tail:
        if previous is not None:
            previous.tail = (previous.tail or "") + element.tail
        else:
            parent.text = (parent.text or "") + element.tail
    parent.remove(element)


def _read_numbers(body: etree._Element) -> None:
    """Each numeric attribute of raw HTML written as the number HTML reads in it, within
    HTML's bounds (`html_integer`); one that holds no number is dropped, as HTML ignores it.

    EPUBCheck refuses what is not an integer (`colspan="²"`, RSC-005), and writers that lay
    out a table count its spans: `colspan="1000000000"` would exhaust their memory.
    A list's numbers have no bound in HTML; browsers keep them as 32-bit integers.
    """
    for element in body.iter(tag("td"), tag("th"), tag("ol"), tag("li")):
        for name, least, most in NUMERIC_ATTRIBUTES[etree.QName(element).localname]:
            value = element.get(name)
            if value is None:
                continue
            number = html_integer(value, least - 1, most)
            if number < least:
                del element.attrib[name]
            else:
                element.set(name, str(number))


def _keep_attributes_valid(body: etree._Element) -> None:
    """Each attribute HTML does not allow on its element (`markup.attributes.allowed`)
    written as `data-NAME`, as pandoc writes a name HTML does not know; names lower-cased.

    EPUBCheck refuses `<span target>` and `<td width>` (RSC-005) but allows any `data-*`, so
    the book is valid and the value kept. HTML 4's `align` on a block or a cell becomes CSS's
    `text-align`, which means the same. Namespaced attributes (`xml:lang`, `epub:type`) are
    left as they are, and event handlers and attributes that load a file for the validate
    stage to refuse: as `data-*` they would do nothing, and the author never learn why.
    """
    for element in body.iter():
        if not isinstance(element.tag, str) or etree.QName(element).namespace != XHTML_NS:
            continue
        name = etree.QName(element).localname
        linked = any(attribute.lower() == "href" for attribute in element.attrib)
        for attribute, value in list(element.attrib.items()):
            lower = attribute.lower()
            if attribute.startswith("{") or lower.startswith("on") or lower in LOADED_ATTRIBUTES:
                continue
            if lower == attribute and allowed(name, lower, linked):
                continue
            del element.attrib[attribute]
            if allowed(name, lower, linked) and lower not in element.attrib:
                element.set(lower, value)
            elif _aligns_text(element, name, lower, value):
                style = element.get("style", "").strip().rstrip(";")
                alignment = f"text-align: {value.lower()}"
                element.set("style", f"{style}; {alignment}" if style else alignment)
            else:
                element.set(_free_name(element, f"data-{lower}"), value)


def _aligns_text(element: etree._Element, name: str, attribute: str, value: str) -> bool:
    """Whether `attribute` is HTML 4's `align` that CSS's `text-align` can say, on an
    element whose style sets no alignment of its own (which would win over it)."""
    return (
        attribute == "align"
        and name in TEXT_ALIGNED
        and value.lower() in TEXT_ALIGNMENTS
        and "text-align" not in element.get("style", "")
    )


def _free_name(element: etree._Element, name: str) -> str:
    """`name`, or with a number after it when the element already has that attribute."""
    candidate, number = name, 1
    while candidate in element.attrib:
        number += 1
        candidate = f"{name}-{number}"
    return candidate


def _parse(source: ChapterSource, html: str) -> etree._Element:
    """Pandoc's HTML of `source` as an XHTML `<body>`; `BookError` naming the
    Markdown line when its raw HTML is not well-formed."""
    html = close_void_elements(html)
    try:
        return parse_fragment(html)
    except etree.XMLSyntaxError as exc:
        line = locate_html_error(source.text, html, exc)
        message = f"raw HTML is not well-formed XHTML: {exc.msg}"
        if "Excessive depth" in exc.msg:  # lxml's limit, reached by what the lines hide
            message = TOO_DEEP
        raise BookError(message, [Diagnostic(source.display_path, message, line)]) from None


def _split_titles(body: etree._Element) -> None:
    """`[t](/url<TAB>"title")`: the address `/url` with the title `title`, as with a space.

    CommonMark and pandoc's manual let any whitespace separate a link's or an image's
    title from its address, but pandoc 3.9 reads a title after a tab as part of the address
    (`/url "title"`, percent-encoded): a broken link, or a missing image.
    """
    for element in body.iter(tag("a"), tag("img")):
        attribute = "href" if element.tag == tag("a") else "src"
        match = ADDRESS_AND_TITLE.match(element.get(attribute, ""))
        if match is not None and not element.get("title"):
            element.set(attribute, match.group(1))
            element.set("title", unquote(match.group(2))[1:-1])


def close_void_elements(html: str) -> str:
    """`<br>` -> `<br/>`: raw HTML in Markdown is usually written as HTML, not XHTML.

    Pandoc escapes every `<` of the text, so a `<br` here can only be a tag.
    """
    return VOID_ELEMENT.sub(lambda m: m.group(1).rstrip("/ ") + "/>", html)


def content_file_name(source: ChapterSource) -> str:
    """The chapter's XHTML name: its path in the book folder, flattened, so names differ."""
    return PurePosixPath(source.entry).with_suffix("").as_posix().replace("/", "-") + ".xhtml"


def chapter_files(chapters: list[ChapterDocument]) -> dict[str, str]:
    """The XHTML file of each chapter, by the names a link may use: entry or file name."""
    names = {PurePosixPath(c.source.entry).name: c.file_name for c in chapters}
    names.update({c.source.entry: c.file_name for c in chapters})
    return names


def locate_html_error(markdown: str, html: str, exc: etree.XMLSyntaxError) -> int | None:
    """Map a parse error in pandoc's output back to a Markdown line, by the text around it.

    An element left open is found only at the end of the chapter: the text is searched
    from the error's line back to the start, for the nearest fragment the source holds.
    """
    html_lines = html.splitlines()
    last = min(exc.lineno or len(html_lines), len(html_lines))
    for html_line in reversed(html_lines[:last]):
        for fragment in re.findall(r"<[^>]*>|[^<]{8,}", html_line):
            line = locate(markdown, fragment.strip()[:60])
            if line:
                return line
    return None


def slugify(text: str) -> str:
    """An id from heading text: lower case, letters and digits, words joined by hyphens."""
    text = unicodedata.normalize("NFKC", text).lower()
    words = re.findall(r"[^\W_]+", text)
    slug = "-".join(words)
    # An id starts with a-z or a character from U+00C0 to U+FFFF. Written as the ranges to
    # strip, it compiles in 0.3 ms; as the negated class `[^a-z\u00c0-\uffff]`, in 6-9 ms.
    slug = re.sub(r"^[\x00-`{-\xbf\U00010000-\U0010ffff]+", "", slug)
    return slug or "section"


class Ids(set[str]):
    """Ids already taken, and for each base the number `unique` tries next: counting from 2
    each time made a chapter of 100,000 headings with the same text quadratic."""

    def __init__(self, ids: Iterable[str] = ()) -> None:
        super().__init__(ids)
        self.next: dict[str, int] = {}


def unique(candidate: str, taken: Ids) -> str:
    """`candidate`, or `candidate-2`, `-3`… whichever is not yet taken; marks it taken."""
    name, n = candidate, taken.next.get(candidate, 1)
    while name in taken:
        n += 1
        name = f"{candidate}-{n}"
    taken.next[candidate] = n
    taken.add(name)
    return name


def make_ids_unique(chapters: list[ChapterDocument]) -> None:
    """Rename generated ids that an earlier chapter already uses, in reading order.

    Ids must be unique in the whole book so that `[see](#id)` can point into any chapter;
    two essays may both have a section called "Conclusion". A new name avoids the ids of
    the earlier chapters and of this one (`seen`).
    """
    earlier: set[str] = set()
    seen = Ids()
    for chapter in chapters:
        own = {e.get("id") for e in chapter.body.iter() if e.get("id")}
        seen |= own
        for element in chapter.body.iter():
            anchor = element.get("id")
            if anchor in chapter.auto_ids and anchor in earlier:
                renamed = unique(anchor, seen)
                element.set("id", renamed)
                chapter.auto_ids.discard(anchor)
                chapter.auto_ids.add(renamed)
                own.add(renamed)
        earlier |= own


def _assign_section_ids(body: etree._Element) -> set[str]:
    """Give every heading an anchor from its text, for the contents and for links.

    Pandoc wraps a heading and what follows in a `<section>`, which gets the id; a heading
    inside a list or block quote, or written in raw HTML inside a section it does not open
    (`opened_section`), gets the id itself.
    """
    taken = Ids(e.get("id") for e in body.iter() if e.get("id"))
    made = set()
    for heading in body.iter(*HEADING_TAGS):
        section = opened_section(heading)
        holder = section if section is not None else heading
        if heading.get("id") or holder.get("id"):
            continue
        anchor = unique(slugify(heading_text(heading)), taken)
        holder.set("id", anchor)
        made.add(anchor)
    return made


def _convert_footnotes(body: etree._Element, prefix: str) -> None:
    """Pandoc's end-of-document note list -> one `<aside epub:type="footnote">` per note.

    Reading systems show an aside marked this way as a pop-up when its `noteref` is tapped
    (EPUB 3 Structural Semantics). Ids get the chapter's prefix to stay unique in the book.
    Only what pandoc writes is converted (`_pandoc_notes`); raw HTML that looks like a note
    or a note list stays as its author wrote it, for the checks that follow.
    """
    notes = _pandoc_notes(body)
    if notes is None:
        return
    items = [item for item in notes.findall(f"{tag('ol')}/{tag('li')}") if item.get("id")]
    renamed = {}
    for item in items:
        old = item.get("id")
        renamed[old] = f"{prefix}-{old}"
        renamed[f"fnref{old[2:]}"] = f"{prefix}-fnref{old[2:]}"
    for ref in body.iter(tag("a")):
        target = ref.get("href", "")[1:]
        if _is_pandoc("footnote-ref", "doc-noteref", ref) and ref.get("id") in renamed:
            ref.set("id", renamed[ref.get("id")])
            ref.set("href", "#" + renamed.get(target, target))
            ref.set(EPUB_TYPE, "noteref")
            del ref.attrib["class"]
    for item in items:  # each before the list, which goes: inserting at an index is quadratic
        aside = etree.Element(tag("aside"))
        aside.set("id", renamed[item.get("id")])
        aside.set(EPUB_TYPE, "footnote")
        aside.set("role", "doc-footnote")
        aside.set("class", "footnote")
        _drop_pandoc_back_links(item)
        aside.text = item.text
        aside.extend(list(item))
        number = item.get("id")[2:]
        _open_with_number(aside, number, renamed[f"fnref{number}"])
        notes.addprevious(aside)
    notes.getparent().remove(notes)


def _drop_pandoc_back_links(note: etree._Element) -> None:
    """Pandoc's `↩` links at a note's end, and the paragraph it makes for one when the
    note ends in a block that is no paragraph (a list, a quote)."""
    for back in list(note.iter(tag("a"))):
        if _is_pandoc("footnote-back", "doc-backlink", back):
            holder = back.getparent()
            _remove(back)
            if holder.tag == tag("p") and len(holder) == 0 and not (holder.text or "").strip():
                _remove(holder)


def _open_with_number(note: etree._Element, number: str, reference: str) -> None:
    """Open the note with its number, a link back to its reference, in place of pandoc's
    `↩` at its end.

    Where a reader does not pop a note up, it shows it at the chapter's end, and there a
    number says which reference it answers, as a printed book's notes do; a pop-up shows
    it too. The link back keeps the two-way link between reference and note that Kindle
    and Kobo pop-ups rely on. Its label says where it goes, since "1" does not (WCAG
    2.4.4). The number goes in the note's first paragraph, else a paragraph of its own (a
    note that opens with a list or a quote).
    """
    back = etree.Element(tag("a"), href=f"#{reference}")
    back.set("class", "footnote-back")
    back.set("role", "doc-backlink")
    back.set("aria-label", f"Note {number}: back to the text")
    back.text = f"{number}."
    first = next((child for child in note if isinstance(child.tag, str)), None)
    if first is None or first.tag != tag("p"):
        first = etree.Element(tag("p"))
        note.insert(0, first)
    text = (first.text or "").lstrip()
    back.tail = f" {text}" if text or len(first) else None
    first.text = None
    first.insert(0, back)


def _pandoc_notes(body: etree._Element) -> etree._Element | None:
    """Pandoc's note list, as pandoc 3.9 writes it: the body's last element, a
    `<section id="footnotes" class="footnotes footnotes-end-of-document"
    role="doc-endnotes">` whose items are `fn1`, `fn2`…

    Not the first section with the id `footnotes`: a chapter titled "Footnotes" may have
    that id (`# Footnotes {#footnotes}`), and raw HTML may copy any of this markup, which
    then stays raw HTML. Raw HTML cannot follow pandoc's list, which pandoc writes last.
    """
    last = next((child for child in reversed(body) if isinstance(child.tag, str)), None)
    if (
        last is None
        or last.tag != tag("section")
        or last.get("id") != "footnotes"
        or not _is_pandoc("footnotes", "doc-endnotes", last)
    ):
        return None
    items = last.findall(f"{tag('ol')}/{tag('li')}")
    if not items or not all(NOTE_ID.fullmatch(item.get("id", "")) for item in items):
        return None
    return last


def _is_pandoc(css_class: str, role: str, element: etree._Element) -> bool:
    """Whether `element` carries the class and the ARIA role pandoc gives this note part."""
    return css_class in element.get("class", "").split() and element.get("role") == role


def _mark_page_breaks(body: etree._Element) -> set[str]:
    """`[]{.pagebreak page="5"}` -> an EPUB page-break marker for the page list.

    A marker alone on its line would be an empty paragraph; it stands on its own instead,
    so that it adds no blank line. A marker right before a heading (a page that begins with
    a chapter or section) goes to the start of that heading: left before it, outside the
    heading's section, it sits on the page before a chapter's page break, and the stylesheet's
    `break-before: page` on `h1` (which the Kindle follows too) turns it into a blank page.
    Returns the ids it made (`page-5`), which other chapters' may not repeat.
    """
    taken = Ids(e.get("id") for e in body.iter() if e.get("id"))
    made = _adopt_page_breaks(body, taken)
    for span in list(body.iter(tag("span"))):
        if "pagebreak" not in span.get("class", "").split():
            continue
        page = span.attrib.pop("data-page", "").strip()
        span.attrib.pop("class")
        if not span.get("id"):
            span.set("id", _page_id(page, taken))
            made.add(span.get("id"))
        span.set(EPUB_TYPE, "pagebreak")
        span.set("role", "doc-pagebreak")
        span.set("aria-label", page)
        paragraph = span.getparent()
        if paragraph.tag == tag("p") and len(paragraph) == 1 and not text_of(paragraph):
            span.tail = paragraph.tail
            paragraph.getparent().replace(paragraph, span)
            heading = _heading_after(span)
            if heading is not None:
                span.getparent().remove(span)  # its tail, whitespace, goes with it
                span.tail = heading.text
                heading.text = None
                heading.insert(0, span)
    return made


def _adopt_page_breaks(body: etree._Element, taken: Ids) -> set[str]:
    """Page-break markers in the raw HTML of other productions, made like ours.

    They come as `<span epub:type="pagebreak" title="5"/>`, `role="doc-pagebreak"` with an
    `aria-label`, or the number as their text, often without an id: the page list links
    each marker by its id and names it by its `aria-label`, so both are set (EPUBCheck
    refuses a page-list link without text, RSC-005, or without a target). Returns the
    ids it made.
    """
    made = set()
    for element in list(body.iter()):
        if not isinstance(element.tag, str) or "pagebreak" in element.get("class", "").split():
            continue
        marked = "pagebreak" in element.get(EPUB_TYPE, "").split()
        if not marked and element.get("role") != "doc-pagebreak":
            continue
        page = (element.get("aria-label") or element.get("title") or text_of(element)).strip()
        element.set(EPUB_TYPE, "pagebreak")
        element.set("role", "doc-pagebreak")
        element.set("aria-label", page)
        if not element.get("id"):
            element.set("id", _page_id(page, taken))
            made.add(element.get("id"))
    return made


def _page_id(page: str, taken: Ids) -> str:
    """A new id for the marker of printed page `page`: `page-xiv`, `page-12`."""
    return unique("page-" + (re.sub(r"[^0-9A-Za-z]+", "-", page) or "unnumbered"), taken)


def _heading_after(element: etree._Element) -> etree._Element | None:
    """The heading that comes next after `element`, with only whitespace between: its
    next sibling, or the first child of the section that is (pandoc's `--section-divs`)."""
    following = element.getnext()
    while (
        following is not None and following.tag == tag("section") and not _leading_text(following)
    ):
        following = following[0] if len(following) else None
    if following is None or following.tag not in HEADING_TAGS:
        return None
    return following


def _leading_text(element: etree._Element) -> str:
    return (element.text or "").strip()


def _is_verse(element: etree._Element) -> bool:
    return bool(
        VERSE_CLASSES.intersection(element.get("class", "").split())
        or VERSE_TYPES.intersection(element.get(EPUB_TYPE, "").split())
    )


def _mark_verse(body: etree._Element) -> None:
    """Verse as Standard Ebooks sets it: a `verse` block of stanzas (`<p>`), one `<span>`
    per line, lines separated by `<br/>`.

    A line of its own element is what lets base.css give each line a hanging indent (a
    wrapped line's rest indented under it) and honour indent classes (`i1`…), and what the
    DOCX writer makes a paragraph of; the `<br/>` keeps the lines apart in readers without
    CSS (MOBI 6). Pandoc's line block is one `<div>` of lines, a blank line between
    stanzas; a poem's div from elsewhere holds paragraphs of lines, with or without spans.
    """
    for block in list(body.iter(tag("div"), tag("section"), tag("blockquote"))):
        if not _is_verse(block):
            continue
        classes = block.get("class", "").split()
        if "verse" not in classes:
            block.set("class", " ".join([*classes, "verse"]))
        if "line-block" in classes:
            _stanzas(block)
        for stanza in block.iter(tag("p")):
            if not _in_lines(stanza):
                _set_lines(stanza, _lines(stanza))


def _lines(element: etree._Element) -> list[list[str | etree._Element]]:
    """The content of `element` cut at each `<br/>`: per line, text and inline elements."""
    lines: list[list[str | etree._Element]] = [[element.text or ""]]
    for child in list(element):
        tail, child.tail = child.tail or "", None
        element.remove(child)
        if child.tag == tag("br"):
            lines.append([tail])
        else:
            lines[-1] += [child, tail]
    return lines


def _stanzas(block: etree._Element) -> None:
    """A line block's lines -> one `<p>` per stanza; a blank line ends a stanza."""
    stanzas: list[list[list[str | etree._Element]]] = [[]]
    for line in _lines(block):
        blank = all(isinstance(piece, str) and not piece.strip() for piece in line)
        if not blank:
            stanzas[-1].append(line)
        elif stanzas[-1]:
            stanzas.append([])
    block.text = "\n"
    for lines in stanzas:
        if lines:
            _set_lines(etree.SubElement(block, tag("p")), lines)
            block[-1].tail = "\n"


def _in_lines(stanza: etree._Element) -> bool:
    """Whether the stanza is lines already: spans (not page markers) between `<br/>`s."""
    loose = [stanza.text] + [child.tail for child in stanza]
    return (
        len(stanza) > 0
        and all(
            child.tag == tag("br") or (child.tag == tag("span") and child.get(EPUB_TYPE) is None)
            for child in stanza
        )
        and not "".join(piece or "" for piece in loose).strip()
    )


def _set_lines(stanza: etree._Element, lines: list[list[str | etree._Element]]) -> None:
    """Fill `stanza` with one `<span>` per line, `<br/>` between. The leading no-break
    spaces with which pandoc keeps a line block's indentation stay in the line."""
    stanza.text = None
    for number, line in enumerate(lines):
        if number:
            etree.SubElement(stanza, tag("br")).tail = "\n"
        span = etree.SubElement(stanza, tag("span"))
        first, *rest = line
        span.text = first.lstrip(" \n\t\r")
        for element, text in zip(rest[::2], rest[1::2], strict=True):
            span.append(element)
            element.tail = text
        if rest:
            rest[-2].tail = rest[-1].rstrip(" \n\t\r")
        else:
            span.text = span.text.rstrip(" \n\t\r")


def _mark_semantics(body: etree._Element) -> None:
    """Tag chapters, front/back matter and epigraphs with `epub:type` and ARIA roles.

    A body-matter chapter's section becomes a `chapter` unless its author gave it a type or
    role of its own (`z3998:poem`), which is kept.
    """
    matter = chapter_matter(body)
    body.set(EPUB_TYPE, matter)
    first = body.find(tag("section"))
    own = first is not None and (first.get(EPUB_TYPE) or first.get("role"))
    if first is not None and matter == "bodymatter" and not own:
        first.set(EPUB_TYPE, "chapter")
        first.set("role", "doc-chapter")
    for div in body.iter(tag("div")):
        if "epigraph" in div.get("class", "").split():
            div.set(EPUB_TYPE, "epigraph")
            div.set("role", "doc-epigraph")
    for element in body.iter(tag("div"), tag("section")):
        # Axe takes the first semantic of the list that has a role.
        types = element.get(EPUB_TYPE, "").split()
        role = next((EPUB_TYPE_ROLES[t] for t in types if t in EPUB_TYPE_ROLES), None)
        # Not one HTML forbids on the element (`doc-tip` on a `<section>`): EPUBCheck
        # would fail the book, where Ace only notes the missing role.
        if role and not element.get("role") and role_problem(element, role) is None:
            element.set("role", role)
