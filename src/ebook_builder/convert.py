"""Stage 2: chapter Markdown -> XHTML body, through pandoc.

Pandoc does the Markdown and the typography (curly quotes, dashes, ellipses); this module
turns its HTML5 into EPUB-flavoured XHTML: sections with stable ids, footnotes as EPUB
pop-up notes, page-break markers, epigraphs and front/back matter tagged with `epub:type`.
"""

from __future__ import annotations

import re
import unicodedata
from pathlib import PurePosixPath
from urllib.parse import unquote

from lxml import etree

from ebook_builder.cache.chapters import NO_CACHE, ChapterCache
from ebook_builder.errors import BookError, Diagnostic
from ebook_builder.lines import locate
from ebook_builder.losses import conversion_warnings
from ebook_builder.model import Book, ChapterDocument, ChapterSource
from ebook_builder.pandoc import Conversion, convert_cached, convert_documents
from ebook_builder.typography import typeset
from ebook_builder.xhtml import EPUB_TYPE, HEADING_TAGS, parse_fragment, tag, text_of

# Ids come from heading text in this module, not from pandoc, so that the pipeline knows
# which ids the author wrote (and must keep) and which it made (and may rename).
PANDOC_FROM = "markdown-auto_identifiers-implicit_header_references"
PANDOC_ARGS = (
    "--section-divs",
    "--email-obfuscation=none",
    "--wrap=none",
)
VOID_ELEMENT = re.compile(
    r"(<(?:area|br|col|embed|hr|img|input|source|track|wbr)\b[^<>]*)>", re.IGNORECASE
)
MATTER_CLASSES = ("frontmatter", "backmatter")
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
    texts = [source.text for source in book.chapters]
    conversions = convert_cached(texts, PANDOC_FROM, "html5", PANDOC_ARGS, cache)
    problems: list[Diagnostic] = []
    chapters = []
    for source, conversion in zip(book.chapters, conversions, strict=True):
        try:
            chapters.append(convert_chapter(source, conversion, book.metadata.language))
        except BookError as exc:
            problems.extend(exc.diagnostics)
    if problems:
        raise BookError("chapters could not be converted", problems)
    make_ids_unique(chapters)
    return chapters


def convert_chapter(
    source: ChapterSource, conversion: Conversion | None = None, language: str = "en"
) -> ChapterDocument:
    """One chapter's XHTML body from pandoc's conversion of it (made here when not given).

    Quotes, spaces and dashes are set for `language` (pandoc's own are English) after the
    ids are made, so that ids never depend on the language; the title gets them too.
    Raises `BookError` when the chapter's raw HTML is not well-formed.
    """
    if conversion is None:
        (conversion,) = markdown_to_html([source.text])
    body = _parse(source, conversion.output)
    _split_titles(body)
    file_name = content_file_name(source)
    auto_ids = _assign_section_ids(body)
    _convert_footnotes(body, file_name.removesuffix(".xhtml"))
    _mark_page_breaks(body)
    _mark_semantics(body)
    typeset(body, language)
    first_heading = next(body.iter(*HEADING_TAGS), None)
    title = text_of(first_heading) if first_heading is not None else source.entry
    warnings = conversion_warnings(source, conversion.output, conversion.warnings)
    return ChapterDocument(source, file_name, title, body, auto_ids, warnings)


def _parse(source: ChapterSource, html: str) -> etree._Element:
    """Pandoc's HTML of `source` as an XHTML `<body>`; `BookError` naming the
    Markdown line when its raw HTML is not well-formed."""
    html = close_void_elements(html)
    try:
        return parse_fragment(html)
    except etree.XMLSyntaxError as exc:
        line = locate_html_error(source.text, html, exc)
        message = f"raw HTML is not well-formed XHTML: {exc.msg}"
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


def unique(candidate: str, taken: set[str]) -> str:
    """`candidate`, or `candidate-2`, `-3`… whichever is not yet taken; marks it taken."""
    name, n = candidate, 1
    while name in taken:
        n += 1
        name = f"{candidate}-{n}"
    taken.add(name)
    return name


def make_ids_unique(chapters: list[ChapterDocument]) -> None:
    """Rename generated ids that an earlier chapter already uses, in reading order.

    Ids must be unique in the whole book so that `[see](#id)` can point into any chapter;
    two essays may both have a section called "Conclusion".
    """
    taken: set[str] = set()
    for chapter in chapters:
        own = {e.get("id") for e in chapter.body.iter() if e.get("id")}
        for element in chapter.body.iter():
            anchor = element.get("id")
            if anchor in chapter.auto_ids and anchor in taken:
                renamed = unique(anchor, taken | own)
                element.set("id", renamed)
                chapter.auto_ids.discard(anchor)
                chapter.auto_ids.add(renamed)
                own.add(renamed)
        taken |= own


def _assign_section_ids(body: etree._Element) -> set[str]:
    """Give every heading an anchor from its text, for the contents and for links.

    Pandoc wraps a heading and what follows in a `<section>`, which gets the id; a heading
    inside a list or block quote has no section and gets the id itself.
    """
    taken = {e.get("id") for e in body.iter() if e.get("id")}
    made = set()
    for heading in body.iter(*HEADING_TAGS):
        parent = heading.getparent()
        opens_section = parent is not None and parent.tag == tag("section")
        holder = parent if opens_section else heading
        if heading.get("id") or holder.get("id"):
            continue
        anchor = unique(slugify(text_of(heading)), taken)
        holder.set("id", anchor)
        made.add(anchor)
    return made


def _convert_footnotes(body: etree._Element, prefix: str) -> None:
    """Pandoc's end-of-document note list -> one `<aside epub:type="footnote">` per note.

    Reading systems show an aside marked this way as a pop-up when its `noteref` is tapped
    (EPUB 3 Structural Semantics). Ids get the chapter's prefix to stay unique in the book.
    """
    notes = body.find(f"{tag('section')}[@id='footnotes']")
    if notes is None:
        return
    items = notes.findall(f"{tag('ol')}/{tag('li')}")
    renamed = {}
    for item in items:
        old = item.get("id")
        renamed[old] = f"{prefix}-{old}"
        renamed[old.replace("fn", "fnref", 1)] = f"{prefix}-{old.replace('fn', 'fnref', 1)}"
    for ref in body.iter(tag("a")):
        if "footnote-ref" in ref.get("class", ""):
            ref.set("id", renamed[ref.get("id")])
            ref.set("href", "#" + renamed[ref.get("href")[1:]])
            ref.set(EPUB_TYPE, "noteref")
            del ref.attrib["class"]
    container = notes.getparent()
    position = container.index(notes)
    container.remove(notes)
    for offset, item in enumerate(items):
        aside = etree.Element(tag("aside"))
        aside.set("id", renamed[item.get("id")])
        aside.set(EPUB_TYPE, "footnote")
        aside.set("role", "doc-footnote")
        aside.set("class", "footnote")
        for back in item.iter(tag("a")):
            if "footnote-back" in back.get("class", ""):
                back.set("href", "#" + renamed[back.get("href")[1:]])
                back.set("class", "footnote-back")
                back.set("aria-label", "Back to text")
                back.text = "↩"
        aside.text = item.text
        aside.extend(list(item))
        container.insert(position + offset, aside)


def _mark_page_breaks(body: etree._Element) -> None:
    """`[]{.pagebreak page="5"}` -> an EPUB page-break marker for the page list.

    A marker alone on its line (a page that begins with a heading) would be an empty
    paragraph; it stands on its own instead, so that it adds no blank line.
    """
    for span in list(body.iter(tag("span"))):
        if "pagebreak" not in span.get("class", "").split():
            continue
        page = span.attrib.pop("data-page", "").strip()
        span.attrib.pop("class")
        span.set("id", "page-" + (re.sub(r"[^0-9A-Za-z]+", "-", page) or "unnumbered"))
        span.set(EPUB_TYPE, "pagebreak")
        span.set("role", "doc-pagebreak")
        span.set("aria-label", page)
        paragraph = span.getparent()
        if paragraph.tag == tag("p") and len(paragraph) == 1 and not text_of(paragraph):
            span.tail = paragraph.tail
            paragraph.getparent().replace(paragraph, span)


def _mark_semantics(body: etree._Element) -> None:
    """Tag chapters, front/back matter and epigraphs with `epub:type` and ARIA roles."""
    first = body.find(tag("section"))
    classes = (first.get("class", "") if first is not None else "").split()
    matter = next((c for c in MATTER_CLASSES if c in classes), "bodymatter")
    body.set(EPUB_TYPE, matter)
    if first is not None and matter == "bodymatter":
        first.set(EPUB_TYPE, "chapter")
        first.set("role", "doc-chapter")
    for div in body.iter(tag("div")):
        if "epigraph" in div.get("class", "").split():
            div.set(EPUB_TYPE, "epigraph")
            div.set("role", "doc-epigraph")
