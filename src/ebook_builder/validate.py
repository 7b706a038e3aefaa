"""Stage 3: check the converted chapters before anything is packaged.

Every problem of the book is collected, each pointing at the Markdown file and, where the
offending text can be found there, its line. A book with problems is never packaged.
"""

from __future__ import annotations

import mimetypes
import unicodedata
from pathlib import Path
from urllib.parse import unquote, urlsplit

from lxml import etree

from ebook_builder.convert import chapter_files
from ebook_builder.cover import image_problem
from ebook_builder.errors import BookError, Diagnostic
from ebook_builder.lines import locate_any, locate_heading, locate_shown
from ebook_builder.markup.attributes import element_problem, value_problem
from ebook_builder.markup.references import LOADED_ATTRIBUTES, css_problem, is_active
from ebook_builder.markup.semantics import epub_type_problem, role_problem
from ebook_builder.markup.svg import SVG_NS, inline_pictures, svg_problem
from ebook_builder.markup.xhtml import EPUB_TYPE, HEADING_TAGS, XHTML_NS, heading_text, tag
from ebook_builder.matter import matter_pages
from ebook_builder.model import Book, ChapterDocument, ConvertedBook, ImageAsset
from ebook_builder.sources import PICTURE_LIMIT, read_source, resolved

# Active content has no place in a book: reading systems that run it are a risk to
# readers, and stores refuse it.
FORBIDDEN_ELEMENTS = {
    "script",
    "iframe",
    "object",
    "embed",
    "form",
    "applet",
    "frame",
    "frameset",
    "base",
    "input",
    "button",
    "select",
    "textarea",
}
# Elements of a document's head, which the build writes: HTML allows <style> nowhere else
# (EPUBCheck refuses it in the body, whatever its rules), a <link> names a stylesheet or
# other file the book does not carry, a <meta> may send the reader elsewhere (refresh).
HEAD_ELEMENTS = {"style", "link", "meta"}
# HTML's content models forbid these elements inside these others (a link in a link, a
# footer in a footer, a table in a caption), and EPUBCheck refuses a chapter that nests
# them (found by running it); raw HTML in Markdown can.
FORBIDDEN_INSIDE = {
    "a": {"a", "label", "details", "select", "textarea", "input", "audio", "video"},
    "address": {"address", "header", "footer"},
    "caption": {"table"},
    "dfn": {"dfn"},
    "footer": {"header", "footer"},
    "header": {"header", "footer"},
    "label": {"label"},
    "meter": {"meter"},
    "progress": {"progress"},
}
# XInclude pulls in another file, wherever it lies; no reading system should, and EPUBCheck
# refuses the element.
XINCLUDE_NS = "http://www.w3.org/2001/XInclude"
# Attributes whose value is an address a reader follows or loads, by local name (a
# namespaced attribute such as xlink:href is `{http://www.w3.org/1999/xlink}href` to lxml).
URL_ATTRIBUTES = {"href", "action", "formaction", "cite", "longdesc", *LOADED_ATTRIBUTES}
# The one loaded file the build packages: a picture's (`_collect_images`).
PICTURE = (tag("img"), "src")
EXTERNAL_SCHEMES = {"http", "https", "mailto", "tel"}
IMAGE_TYPES = {"image/jpeg", "image/png", "image/gif", "image/svg+xml", "image/webp"}


def validate_book(book: Book, chapters: list[ChapterDocument]) -> ConvertedBook:
    """The book ready for the writers, with the pages made from its metadata
    (`matter.matter_pages`), or `BookError` with every problem found."""
    problems: list[Diagnostic] = []
    anchors = _anchor_index(chapters, problems)
    files = chapter_files(chapters)
    images: dict[Path, ImageAsset] = {}
    for chapter in chapters:
        report = _Reporter(chapter, problems)
        _check_markup(chapter, report)
        _check_headings(chapter, report)
        _check_links(chapter, anchors, files, report)
        _collect_images(book, chapter, images, report)
    if problems:
        raise BookError(f"{book.book_id}: the book has problems", problems)
    pictures = sorted(images.values(), key=lambda a: a.href)
    return ConvertedBook(book, chapters, pictures, matter_pages(book, chapters))


class _Reporter:
    """Adds a diagnostic for one chapter, finding the Markdown line from search strings.

    The checks walk the chapter in reading order, so the n-th problem with the same message
    and search strings (two links to the same missing id) is at their n-th occurrence.
    """

    def __init__(self, chapter: ChapterDocument, problems: list[Diagnostic]) -> None:
        self.chapter = chapter
        self.problems = problems
        self.seen: dict[tuple[str, ...], int] = {}

    def __call__(
        self, message: str, *needles: str, nth: int | None = None, fallback: int | None = None
    ) -> None:
        """`fallback`: the line to name when no needle is found (a heading's, by its order)."""
        key = (message, *needles)
        self.seen[key] = self.seen.get(key, 0) + 1
        line = locate_any(self.chapter.source.text, needles, nth or self.seen[key]) or fallback
        self.problems.append(Diagnostic(self.chapter.source.display_path, message, line))


def _anchor_index(chapters: list[ChapterDocument], problems: list[Diagnostic]) -> dict[str, str]:
    """Map every id to the file that holds it; an id written twice is a problem."""
    owner: dict[str, str] = {}
    shown: dict[str, ChapterDocument] = {}
    for chapter in chapters:
        report = _Reporter(chapter, problems)
        count: dict[str, int] = {}
        for element in chapter.body.iter():
            anchor = element.get("id")
            if anchor is None:
                continue
            count[anchor] = count.get(anchor, 0) + 1
            if anchor in owner:
                first = shown[anchor].source.display_path
                where = "" if shown[anchor] is chapter else f" (first in {first})"
                # a page-break marker's id is made from its page: found by its class
                marker = ".pagebreak" if element.get(EPUB_TYPE) == "pagebreak" else ""
                needles = ("#" + anchor, anchor, marker)
                report(f"duplicate id {anchor!r}{where}", *needles, nth=count[anchor])
                continue
            owner[anchor] = chapter.file_name
            shown[anchor] = chapter
    return owner


def _check_markup(chapter: ChapterDocument, report: _Reporter) -> None:
    """Active content, and references outside the book, in any namespace.

    Elements of inline SVG are left to `svg_problem`, which reports each picture once.
    """
    for element in chapter.body.iter():
        if not isinstance(element.tag, str):
            continue
        qname = etree.QName(element)
        name = qname.localname
        if qname.namespace != SVG_NS:
            _check_active(element, name, report)
        if qname.namespace == XHTML_NS:
            _check_html(element, name, report)
        for word in element.get(EPUB_TYPE, "").split():
            if problem := epub_type_problem(word):
                report(problem, f'"{word}', word)
        role = element.get("role")
        in_html = qname.namespace == XHTML_NS
        if role is not None and in_html and (problem := role_problem(element, role)):
            report(problem, f'role="{role}', role)
    _check_nesting(chapter.body, report)
    for svg in inline_pictures(chapter.body):
        problem = svg_problem(etree.tostring(svg, with_tail=False))
        if problem:
            written = f"<{svg.prefix}:svg" if svg.prefix else "<svg"
            report(f"an inline <svg> {problem}", written)


def _check_nesting(body: etree._Element, report: _Reporter) -> None:
    """An element inside one whose content model forbids it (`FORBIDDEN_INSIDE`), and a
    figure with more than one caption, both of which EPUBCheck refuses."""
    for outer in body.iter(*(tag(name) for name in FORBIDDEN_INSIDE)):
        outside = etree.QName(outer).localname
        inside = (tag(name) for name in FORBIDDEN_INSIDE[outside])
        for inner in outer.iterdescendants(*inside):
            name = etree.QName(inner).localname
            report(f"<{name}> inside <{outside}> is not allowed (HTML)", f"<{name}", f"<{outside}")
    for figure in body.iter(tag("figure")):
        if len(figure.findall(tag("figcaption"))) > 1:
            report("a figure has more than one caption (<figcaption>)", "<figcaption", "<figure")


def _check_active(element: etree._Element, name: str, report: _Reporter) -> None:
    """Scripts, handlers, `javascript:` addresses, files loaded from outside the book and
    CSS that reaches outside it.

    Each is found by its local name whatever its namespace or prefix (`<html:script>`,
    `xlink:href`), which is what a reader that runs it goes by. An element refused whole
    (`<iframe src>`) is one problem, not also one for the file it loads.
    """
    written = (f"<{element.prefix}:{name}", f"<{name}") if element.prefix else (f"<{name}",)
    refused = True
    if etree.QName(element).namespace == XINCLUDE_NS:
        report(f"<{name}> (XInclude) is not allowed in a book", *written)
    elif name in FORBIDDEN_ELEMENTS:
        report(f"<{name}> is not allowed in a book", *written)
    elif name in HEAD_ELEMENTS:
        report(
            f"<{name}> is not allowed in a chapter: it belongs in the head, which the build writes",
            *written,
        )
    else:
        refused = False
    for attribute, value in element.attrib.items():
        local = etree.QName(attribute).localname
        if local.lower().startswith("on"):
            report(f"event handler attribute {local!r} is not allowed", f"{local}=")
        elif local in URL_ATTRIBUTES and is_active(value):
            # the value as written may differ (`&#106;avascript:`): what follows the scheme
            after = value.partition(":")[2][:40]
            report(f"{local}={value[:40]!r} is not allowed", value[:40], after, f"{local}=")
        elif local in LOADED_ATTRIBUTES and not refused and (element.tag, attribute) != PICTURE:
            shown = f"{written[0]} {local}={value[:60]!r}>"
            report(f"{shown} is not allowed: {LOADED_ATTRIBUTES[local]}", value, f"{local}=")
        elif local == "style" and (problem := css_problem(value)):
            report(
                f"a style attribute {problem}: a book must hold all it shows", value[:40], "style="
            )


def _check_html(element: etree._Element, name: str, report: _Reporter) -> None:
    """An element HTML does not have, and a value HTML refuses (`markup.attributes`).

    The convert stage has already made every attribute the element does not allow a
    `data-*` one; what is left here cannot be kept validly, so it is the author's to mend.
    """
    if problem := element_problem(name):
        report(problem, f"<{name}")
    for attribute, value in element.attrib.items():
        if not attribute.startswith("{") and (problem := value_problem(name, attribute, value)):
            report(problem, f'{attribute}="{value}', f"{attribute}={value}", f"{attribute}=")


def _check_headings(chapter: ChapterDocument, report: _Reporter) -> None:
    previous = 0
    counts: dict[int, int] = {}
    source = chapter.source.text
    for heading in chapter.body.iter(*HEADING_TAGS):
        level = HEADING_TAGS[heading.tag]
        counts[level] = counts.get(level, 0) + 1
        text = heading_text(heading)
        where = locate_heading(source, level, counts[level]) or locate_shown(source, text)
        if not any(unicodedata.category(c)[0] in "LNPS" for c in text):
            message = f"a level-{level} heading has no text: the contents list needs one"
            report(message, fallback=where)
        if level > previous + 1:
            expected = "#" * (previous + 1)
            message = f"heading level skips from {previous} to {level} (expected {expected!r})"
            report(message, text, fallback=where)
        previous = level
    if previous == 0:
        report("chapter has no heading: start it with '# Title'", chapter.source.text.strip()[:40])


def _check_links(
    chapter: ChapterDocument,
    anchors: dict[str, str],
    files: dict[str, str],
    report: _Reporter,
) -> None:
    """Every link's address, an image map's areas' among them: EPUBCheck follows both
    (RSC-012 for an id that is not there)."""
    for link in chapter.body.iter(tag("a"), tag("area")):
        href = link.get("href")
        if href is None:
            continue
        if not href.strip():
            label = "".join(link.itertext())
            where = (f"[{label}](", "]()", "](<>)", "]( )")
            report(f"link {label!r} has no address: write [{label}](#id) or a URL", *where)
            continue
        parts = urlsplit(href)
        fragment = unquote(parts.fragment)
        if parts.scheme in EXTERNAL_SCHEMES or is_active(href):
            continue  # active schemes are reported by _check_markup
        written = (href, unquote(href))  # `[x](<#a b>)` is `#a%20b` in the HTML
        if parts.scheme or parts.netloc:
            report(f"link {href!r} uses an unsupported scheme", *written)
        elif not parts.path:
            if fragment not in anchors:
                report(f"broken internal link {href!r}: no such id in the book", *written)
        elif (target := files.get(unquote(parts.path))) is None:
            message = f"link {href!r} points to a file that is not a chapter of this book"
            report(message, *written)
        elif fragment and anchors.get(fragment) != target:
            message = f"broken internal link {href!r}: no id {fragment!r} in {parts.path}"
            report(message, *written)


def _collect_images(
    book: Book, chapter: ChapterDocument, images: dict[Path, ImageAsset], report: _Reporter
) -> None:
    base = chapter.source.path.parent
    element, attribute = PICTURE
    for image in chapter.body.iter(element):
        src = image.get(attribute, "")
        if not (image.get("alt") or "").strip():
            report(f"image {src!r} has no alt text: write ![description]({src})", src, unquote(src))
        parts = urlsplit(src)
        if parts.scheme or parts.netloc or not parts.path:
            report(f"image {src!r} must be a file inside the book folder", src, unquote(src))
            continue
        try:
            path = resolved(base / unquote(parts.path))
            if not path.is_relative_to(book.book_dir.resolve()):
                report(f"image {src!r} lies outside the book folder", src, unquote(src))
                continue
            data = read_source(path, PICTURE_LIMIT)
        except FileNotFoundError:
            report(f"missing image {src!r}", src, unquote(src))
            continue
        except OSError as exc:
            report(f"cannot read image {src!r} ({exc.strerror})", src, unquote(src))
            continue
        media_type = mimetypes.guess_type(path.name)[0]
        if media_type not in IMAGE_TYPES:
            report(f"image {src!r} is not a JPEG, PNG, GIF, SVG or WebP file", src, unquote(src))
            continue
        svg = media_type == "image/svg+xml"
        problem = svg_problem(data) if svg else image_problem(data, media_type)
        if problem:
            report(f"image {src!r}: {problem}", src, unquote(src))
            continue
        relative = path.relative_to(book.book_dir.resolve()).as_posix()
        asset = images.setdefault(path, ImageAsset(path, relative, media_type))
        image.set(attribute, asset.href)
