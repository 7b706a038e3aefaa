"""EPUB Accessibility 1.1: the checks behind the conformance claim, and the book's metadata.

The validate stage already refuses what would make any book broken (images without alt
text, skipped heading levels, broken links, scripts and forms). This module looks for what
still stands between a valid book and WCAG 2.2 Level AA, in the XHTML the pipeline makes,
and derives the package metadata from what it finds: a book with no problem claims
conformance (`dcterms:conformsTo`), a book with problems says in its summary why not.

What is checked is what a program can decide from our markup alone:

- 1.1.1 Non-text Content: alt text that is a file name or a placeholder ("image", "photo"),
  which WCAG calls failure F30; inline SVG without an accessible name.
- 1.3.1 Info and Relationships: data tables without header cells (`th`); a book has no
  layout tables, so every table is data.
- 2.2.2 Pause, Stop, Hide: animated images, which a reading system cannot pause (their
  flash rate, 2.3.1, is not measured, so the hazards become "unknown").
- 2.4.4 Link Purpose (In Context): links with no text, or only generic text ("click here").
  WCAG lets the sentence around a link give its purpose; a program cannot judge that
  context, so generic link text withholds the claim rather than trusting it.
- 1.4.3 Contrast (Minimum): inline styles that set a colour, which no check here can
  measure against the reader's theme (the stylesheet itself sets none).
- 3.1.2 Language of Parts: every `lang` attribute must be a BCP 47 tag. (3.1.1, Language
  of Page, needs no check: the load stage requires the book's language, and the writer
  puts it on every document and on the package.)
- EPUB Accessibility 1.1, page navigation: page-break markers need a label for the page
  list and a pagination source (`page_source`) naming the print edition they follow.

What a program cannot decide — whether alt text describes the picture, whether headings
describe their sections, whether an image shows text — is the author's part; the summary
says that the claim rests on these automated checks.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from lxml import etree
from PIL import Image

from ebook_builder.errors import Diagnostic
from ebook_builder.lines import locate, locate_shown
from ebook_builder.load import LANGUAGE_TAG, Project
from ebook_builder.markup.svg import SVG_NS
from ebook_builder.markup.xhtml import EPUB_TYPE, XML_LANG, page_breaks, tag, text_of
from ebook_builder.model import ChapterDocument, ConvertedBook, once_per_book

CONFORMANCE = "EPUB Accessibility 1.1 - WCAG 2.2 Level AA"
IMAGE_SUFFIX = re.compile(r"\.(?:png|jpe?g|gif|svg|webp|tiff?|bmp)$", re.IGNORECASE)
# Placeholders that name the kind of thing instead of saying what it shows (F30), and
# link texts that say nothing of where the link goes: English, French and German, the
# languages the typography knows.
PLACEHOLDER_ALT = {
    "image", "picture", "photo", "photograph", "img", "graphic", "figure", "illustration",
    "icon", "logo", "alt", "alt text", "placeholder", "untitled", "bild", "foto",
}  # fmt: skip
GENERIC_LINK_TEXT = {
    "click", "click here", "here", "link", "this link", "this", "more", "read more",
    "learn more", "details", "go", "ici", "cliquez ici", "lien", "hier", "hier klicken", "mehr",
}  # fmt: skip
SVG_ANIMATION = re.compile(rb"<(?:\w+:)?(?:animate\w*|set)\b|@keyframes")
COLOUR_STYLE = re.compile(r"(?:^|[;\s])(?:color|background[\w-]*)\s*:")
# The rule each check stands for, and what the summary calls it.
NON_TEXT, HEADERS, CONTRAST, MOVING = "WCAG 1.1.1", "WCAG 1.3.1", "WCAG 1.4.3", "WCAG 2.2.2"
LINKS, LANGUAGE, PAGES = "WCAG 2.4.4", "WCAG 3.1.2", "EPUB Accessibility 1.1"
CRITERIA = {
    NON_TEXT: "non-text content",
    HEADERS: "table headers",
    CONTRAST: "colour contrast",
    MOVING: "moving images",
    LINKS: "link text",
    LANGUAGE: "language tags",
    PAGES: "page navigation",
}


@dataclass(frozen=True)
class Problem:
    """One thing that prevents the conformance claim; `criterion` is a key of CRITERIA."""

    criterion: str
    diagnostic: Diagnostic

    def __str__(self) -> str:
        return f"{self.diagnostic} ({self.criterion})"


@dataclass(frozen=True)
class Property:
    """One `<meta property>` of the package; `lang` where it differs from the book's."""

    name: str
    value: str
    lang: str | None = None


@dataclass(frozen=True)
class Assessment:
    """A book's accessibility problems and the package metadata that follows from them."""

    problems: list[Problem]
    metadata: list[Property]

    @property
    def conforms(self) -> bool:
        return not self.problems


@once_per_book
def assess(converted: ConvertedBook) -> Assessment:
    """Check the book and describe it: schema.org properties, summary, conformance claim."""
    problems = accessibility_problems(converted)
    return Assessment(problems, _metadata(converted, problems))


def accessibility_problems(converted: ConvertedBook) -> list[Problem]:
    """Every problem that prevents the claim, pointing at the file to edit, in book order."""
    book = converted.book
    project = Project(book.book_dir.parents[1])
    metadata_file = project.display(book.metadata_path)
    problems: list[Problem] = []
    for chapter in converted.chapters:
        problems += _chapter_problems(chapter)
    if _page_labels(converted) and not book.metadata.page_source:
        message = "the chapters mark print pages: say which edition in 'page_source'"
        problems.append(Problem(PAGES, Diagnostic(metadata_file, message)))
    for image in converted.images:
        if _animated(image.source):
            message = f"image {image.href!r} is animated, and readers cannot pause it"
            problems.append(Problem(MOVING, Diagnostic(project.display(image.source), message)))
    return problems


def _chapter_problems(chapter: ChapterDocument) -> list[Problem]:
    found: list[Problem] = []

    def report(criterion: str, message: str, *needles: str) -> None:
        text = chapter.source.text
        # The text as written, else as the book shows it (`*emphasized*` shows without stars).
        places = (locate(text, s) or locate_shown(text, s) for s in needles if s)
        line = next((n for n in places if n), None)
        found.append(Problem(criterion, Diagnostic(chapter.source.display_path, message, line)))

    body = chapter.body
    for image in body.iter(tag("img")):
        src, alt = image.get("src", ""), (image.get("alt") or "").strip()
        if _placeholder_alt(alt, src):
            report(NON_TEXT, f"image {src!r} has alt text {alt!r}: say what it shows", alt, src)
    for svg in body.iter(f"{{{SVG_NS}}}svg"):
        named = svg.get("aria-label") or svg.find(f"{{{SVG_NS}}}title") is not None
        if not named and svg.get("aria-hidden") != "true":
            report(NON_TEXT, "an inline <svg> has neither a <title> nor an aria-label", "<svg")
    for table in body.iter(tag("table")):
        if next(table.iter(tag("th")), None) is None:
            cell = next(table.iter(tag("td")), None)
            first = text_of(cell) if cell is not None else ""
            report(HEADERS, "a table has no header cells: give it a header row", first)
    for link in body.iter(tag("a")):
        href = link.get("href")
        if href is None or link.get(EPUB_TYPE) == "noteref":
            continue  # an anchor, or a note's number, whose purpose is its role
        name = _link_name(link)
        if not name:
            report(LINKS, f"the link to {href!r} has no text", href)
        elif re.sub(r"[^\w ]", "", name.lower()).strip() in GENERIC_LINK_TEXT:
            report(LINKS, f"link text {name!r} does not say where the link goes", f"[{name}]")
    for element in body.iter():
        for attribute in ("lang", XML_LANG):
            value = element.get(attribute)
            if value is not None and not LANGUAGE_TAG.match(value):
                report(LANGUAGE, f"lang={value!r} is not a BCP 47 language tag", f"lang={value}")
        style = (element.get("style") or "").lower()
        if COLOUR_STYLE.search(style):
            message = f"style {style!r} sets a colour or background of unknown contrast"
            report(CONTRAST, message, style)
    for marker in page_breaks(chapter.body):
        if not (marker.get("aria-label") or "").strip():
            report(PAGES, "a page-break marker has no page number", "pagebreak")
    return found


def _placeholder_alt(alt: str, src: str) -> bool:
    """Alt text that is the file's name or names the kind of thing: F30, not a text alternative."""
    alt = alt.lower()
    name = PurePosixPath(src).name.lower()
    return (
        alt in PLACEHOLDER_ALT
        or alt in {name, PurePosixPath(name).stem}
        or (" " not in alt and bool(IMAGE_SUFFIX.search(alt)))
    )


def _link_name(link: etree._Element) -> str:
    """What a screen reader announces for a link: its aria-label, else its text and alt text."""
    label = (link.get("aria-label") or "").strip()
    if label:
        return label
    alts = " ".join(image.get("alt", "") for image in link.iter(tag("img")))
    return f"{text_of(link)} {alts}".strip()


def _page_labels(converted: ConvertedBook) -> list[str]:
    return [m.get("aria-label", "") for c in converted.chapters for m in page_breaks(c.body)]


def _animated(path: Path) -> bool:
    """A GIF, PNG or WebP of several frames, or an SVG with SMIL or CSS animation."""
    if path.suffix.lower() == ".svg":
        return bool(SVG_ANIMATION.search(path.read_bytes()))
    with Image.open(path) as image:
        return bool(getattr(image, "is_animated", False))


def _metadata(converted: ConvertedBook, problems: list[Problem]) -> list[Property]:
    """schema.org discovery metadata, the page source and, when nothing failed, the claim.

    No `a11y:certifiedBy`, though EPUB Accessibility 1.1 asks for one beside a claim: it
    names the party that evaluated the book, and no party did; a program ran the checks.
    Naming the publisher or the author would state an evaluation that never happened, so
    the summary says instead what the claim rests on. (Naming a real evaluator would need
    a metadata key for it.)
    """
    meta = converted.book.metadata
    failed = {problem.criterion for problem in problems}
    visual = bool(converted.images) or any(
        next(c.body.iter(f"{{{SVG_NS}}}svg"), None) is not None for c in converted.chapters
    )
    described = NON_TEXT not in failed
    modes = ["textual", "visual"] if visual else ["textual"]
    sufficient = ([",".join(modes)] if visual else []) + (["textual"] if described else [])
    features = ["structuralNavigation", "tableOfContents", "readingOrder", "ARIA"]
    if CONTRAST not in failed:
        features.append("displayTransformability")
    if visual and described:
        features.append("alternativeText")
    pages = _page_labels(converted)
    if pages:
        features += ["pageBreakMarkers", "pageNavigation"]
    hazards = (
        ["unknownFlashingHazard", "unknownMotionSimulationHazard", "noSoundHazard"]
        if MOVING in failed
        else ["none"]
    )
    english = None if meta.language.lower().split("-")[0] == "en" else "en"
    properties = [Property("schema:accessMode", mode) for mode in modes]
    properties += [Property("schema:accessModeSufficient", s) for s in sufficient]
    properties += [Property("schema:accessibilityFeature", f) for f in features]
    properties += [Property("schema:accessibilityHazard", h) for h in hazards]
    summary = _summary(converted, failed, pages)
    properties.append(Property("schema:accessibilitySummary", summary, english))
    if pages and meta.page_source:
        properties.append(Property("pageBreakSource", meta.page_source))
    if not problems:
        properties.append(Property("dcterms:conformsTo", CONFORMANCE))
    return properties


def _summary(converted: ConvertedBook, failed: set[str], pages: list[str]) -> str:
    """What is true of this book, in sentences, including why it claims nothing if it does not.

    It adds to the other properties what they cannot say (where notes are, which print
    edition the page numbers follow), as EPUB Accessibility Techniques 1.1 asks.
    """
    chapters = len(converted.chapters)
    sentences = [
        f"A text book of {chapters} chapter{'s' if chapters != 1 else ''}; headings never skip"
        " a level, and the table of contents lists every chapter with its sections, in reading"
        " order."
    ]
    if any(e.get(EPUB_TYPE) == "footnote" for c in converted.chapters for e in c.body.iter()):
        sentences.append(
            "Footnotes stand at the end of their chapter, linked to and from the text that"
            " cites them."
        )
    images = len(converted.images)
    if images and NON_TEXT not in failed:
        sentences.append(
            "Its image has a text alternative."
            if images == 1
            else f"Each of its {images} images has a text alternative."
        )
    if pages:
        source = converted.book.metadata.page_source
        span = f"pages {pages[0]}–{pages[-1]}" if len(pages) > 1 else f"page {pages[0]}"
        sentences.append(
            f"Page-break markers and a page list give the print {span} of “{source}”."
            if source
            else f"Page-break markers and a page list give {span}, from an unnamed edition."
        )
    sentences.append(
        "Text reflows, and the stylesheet sets no colours and no fixed font sizes, so the"
        " reader's font, size and colour settings apply."
    )
    if MOVING in failed:
        sentences.append("It has animated images, which were not checked for flashing.")
    if failed:
        reasons = ", ".join(f"{name} ({c})" for c, name in CRITERIA.items() if c in failed)
        sentences.append(f"It makes no conformance claim: checks found problems with {reasons}.")
    else:
        sentences.append(
            "Its conformance claim rests on the automated checks of ebook-builder, the program"
            " that made this file, not on an evaluation by a person."
        )
    return " ".join(sentences)
