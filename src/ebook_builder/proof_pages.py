"""The book's pages for `ebook proof`, as the bundled reader (`data/reader/`, foliate-js, the
reader `ebook preview` opens) lays them out in Debian's Chromium, and what a proofreader
looks for on them.

The reader is served as `ebook preview` serves it (`preview.PreviewServer`) and driven
through its `<foliate-view>` element only (`goTo`, `book.toc`, `book.sections`,
`renderer`): our page's other controls are for people and may change. Each format is
opened as its file, so the AZW3 is read by foliate-js's own KF8 reader, not by us.

The screen is a phone's (`browser.PHONE`), the screen most e-books are read on and the
narrowest: a table, a line of code or a picture too wide for a page shows there first.

Sheets: the title page, the contents, each chapter's opening (the contents' top-level
entries), and one page per kind of distinctive element the book has, at its first instance.
An AZW3 has no contents page in its text: a Kindle lists its contents from the file's NCX
index in a menu of its own, so the AZW3's contents sheet is that list as foliate-js read it
from the file, drawn as a plain list.

Flags, measured in every section of the book as the reader lays it out, not only on the
sheets: an element wider than the page or whose content overflows it (text running off
the page: a `<pre>` line, a wide table), and a picture wider than the page. The reader
shrinks pictures to the page itself, so only a picture that its own style holds wider
(a `min-width`) is flagged: that is the picture a reader shows cut.
"""

from __future__ import annotations

import html
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from ebook_builder.browser import PHONE, RENDER_TIMEOUT_S
from ebook_builder.preview import PreviewServer

if TYPE_CHECKING:  # Playwright is an optional extra: `proof` runs without it, pages aside
    from playwright.sync_api import Browser, Page

# The formats whose pages are drawn, as the reader opens each file.
PAGE_FORMATS = ("epub", "azw3")
# The distinctive elements a proof shows one page of, by the markup our build writes for
# each (pandoc's classes and the DPUB-ARIA roles, which the AZW3 keeps as the EPUB has them).
ELEMENT_KINDS = {
    "blockquote": "blockquote:not(.epigraph blockquote)",
    "epigraph": ".epigraph, [role~='doc-epigraph']",
    "notes": "[role~='doc-footnote'], [role~='doc-endnotes'], [role~='doc-endnote']",
    "verse": ".verse",
    "table": "table",
    "picture": "body:not(.cover) :is(figure, img, svg:not(svg *))",
    "page-markers": "[role~='doc-pagebreak']",
}
TITLE_PAGE = ".titlepage"
CONTENTS = "[role~='doc-toc']"
# How much of a sheet may differ from its commonest colour for it to count as blank: a
# page with a chapter heading alone is well above this.
BLANK_SHARE = 0.002

# Goes to every section in turn; for each, the kinds of element it holds, whether it is
# the title page or the contents, and its elements that run off the page.
SURVEY = """async ({ kinds, titlePage, contents }) => {
    const view = document.querySelector('foliate-view')
    const describe = element => {
        const classes = (element.getAttribute('class') ?? '').split(/\\s+/).filter(Boolean)
        const name = [element.localName, ...classes].join('.')
        const text = (element.getAttribute('alt') || element.textContent || '').trim()
        return text ? `${name} "${text.replace(/\\s+/g, ' ').slice(0, 50)}"` : name
    }
    const sections = []
    for (let index = 0; index < view.book.sections.length; index++) {
        await view.renderer.goTo({ index })
        const { doc } = view.renderer.getContents()[0]
        await doc.fonts.ready
        const style = doc.defaultView.getComputedStyle(doc.documentElement)
        const page = parseFloat(style.columnWidth)
        const id = view.book.sections[index].id
        const heading = doc.querySelector('h1, h2')?.textContent.trim()
        const name = typeof id === 'string' ? id.split('/').pop()
            : `section ${index + 1}` + (heading ? ` (${heading.slice(0, 40)})` : '')
        // A box fragmented across pages has one rectangle per page: each must fit.
        const tooWide = rects => Array.from(rects).some(rect => rect.width > page + 1)
        const wide = new Map()
        for (const element of doc.body.querySelectorAll('*'))
            if (tooWide(element.getClientRects()))
                wide.set(element, element.matches('img, svg:not(svg *)'))
        // A line of text wider than the page (in a <pre>, a word that cannot break).
        const texts = doc.createTreeWalker(doc.body, NodeFilter.SHOW_TEXT)
        const range = doc.createRange()
        for (let text = texts.nextNode(); text; text = texts.nextNode()) {
            range.selectNodeContents(text)
            if (tooWide(range.getClientRects())) wide.set(text.parentElement, false)
        }
        // Only the innermost: a wide element makes each of its ancestors overflow too.
        const elements = [...wide.keys()]
        const inner = one => !elements.some(other => one !== other && one.contains(other))
        const flags = [...wide]
            .filter(([element]) => inner(element))
            .map(([element, picture]) => ({
                document: name,
                problem: picture ? 'picture wider than the page' : 'text running off the page',
                element: describe(element),
            }))
        const found = Object.entries(kinds).filter(([, selector]) => doc.querySelector(selector))
        sections.push({
            index, flags, kinds: found.map(([kind]) => kind),
            titlePage: !!doc.querySelector(titlePage), contents: !!doc.querySelector(contents),
        })
    }
    const toc = (view.book.toc ?? []).map(({ label, href }) => ({ label: label.trim(), href }))
    return { sections, toc }
}"""

# Goes to one place (a TOC href, or a section and the first element a selector finds) and
# returns the text of the page shown once it is painted.
SHOW = """async ({ href, index, selector }) => {
    const view = document.querySelector('foliate-view')
    if (href) await view.goTo(href)
    else await view.renderer.goTo({ index, anchor: doc => doc.querySelector(selector) })
    const { doc } = view.renderer.getContents()[0]
    await doc.fonts.ready
    await new Promise(done => requestAnimationFrame(() => requestAnimationFrame(done)))
    return view.lastLocation?.range?.toString() ?? ''
}"""


@dataclass(frozen=True)
class Sheet:
    """One picture of the proof: its file, what it shows, and the text the page showed."""

    path: Path
    label: str
    text: str = ""


@dataclass(frozen=True)
class Flag:
    """One thing a proofreader should look at: where (format and document) and what."""

    format: str
    document: str
    problem: str
    element: str = ""

    def __str__(self) -> str:
        what = f"{self.problem}: {self.element}" if self.element else self.problem
        return f"{self.format.upper()} {self.document}: {what}"


@dataclass(frozen=True)
class _Place:
    """Where a sheet is taken: a TOC entry's href, or a section and a selector in it."""

    name: str
    label: str
    href: str | None = None
    index: int | None = None
    selector: str | None = None


def reader_pages(
    browser: Browser,
    book_id: str,
    outputs: Path,
    folder: Path,
    progress: Callable[[str], None],
) -> tuple[list[Sheet], list[Flag]]:
    """Every format's sheets, written into `folder`, and the flags of every format."""
    server = PreviewServer(book_id, outputs.resolve(), port=0)
    server.start()
    sheets: list[Sheet] = []
    flags: list[Flag] = []
    try:
        for format_name in PAGE_FORMATS:
            context = browser.new_context(viewport=PHONE)
            try:
                page = context.new_page()
                found, found_flags = _pages(
                    page, server.reader_url(format_name), format_name, folder
                )
            finally:
                context.close()
            sheets += found
            flags += found_flags
            progress(f"{format_name.upper()} pages in the reader: {len(found)} sheets")
    finally:
        server.close()
    return sheets, flags


def _pages(
    page: Page, address: str, format_name: str, folder: Path
) -> tuple[list[Sheet], list[Flag]]:
    page.goto(address)
    # A function, not an expression: Playwright polls an expression with eval, which the
    # reader page's Content-Security-Policy (preview.py) refuses.
    page.wait_for_function(
        "() => document.querySelector('foliate-view')?.lastLocation",
        timeout=RENDER_TIMEOUT_S * 1000,
    )
    survey = page.evaluate(
        SURVEY, {"kinds": ELEMENT_KINDS, "titlePage": TITLE_PAGE, "contents": CONTENTS}
    )
    flags = [
        Flag(format_name, **flag) for section in survey["sections"] for flag in section["flags"]
    ]
    sheets = []
    view = page.locator("foliate-view")
    for place in _places(survey):
        path = folder / f"{format_name}-{place.name}.png"
        text = page.evaluate(
            SHOW, {"href": place.href, "index": place.index, "selector": place.selector}
        )
        view.screenshot(path=path)
        sheets.append(Sheet(path, f"{format_name.upper()} {place.label}", text))
        if place.name == "01-title":  # the contents follow the title page
            sheets += _contents_list(page, survey, format_name, folder)
    return sheets, flags


def _places(survey: dict) -> list[_Place]:
    """The sheets' places in reading order of the proof: title page, contents, chapter
    openings, then one page per element kind in the order of ELEMENT_KINDS."""
    sections = survey["sections"]
    places = []
    if title := next((s for s in sections if s["titlePage"]), None):
        places.append(_Place("01-title", "title page", index=title["index"], selector=TITLE_PAGE))
    if contents := next((s for s in sections if s["contents"]), None):
        places.append(_Place("02-contents", "contents", index=contents["index"], selector=CONTENTS))
    for number, entry in enumerate(survey["toc"], start=1):
        label = f"chapter {number}: {entry['label']}"
        places.append(_Place(f"{number + 2:02d}-chapter-{number}", label, href=entry["href"]))
    for kind, selector in ELEMENT_KINDS.items():
        if first := next((s for s in sections if kind in s["kinds"]), None):
            places.append(_Place(f"element-{kind}", kind, index=first["index"], selector=selector))
    return places


def _contents_list(page: Page, survey: dict, format_name: str, folder: Path) -> list[Sheet]:
    """The contents of a book without a contents page (an AZW3), as the reader read them
    from its index, drawn as a list in a page of its own: the top level, as the EPUB's
    contents page shows it."""
    if any(section["contents"] for section in survey["sections"]):
        return []
    items = "".join(f"<li>{html.escape(entry['label'])}</li>" for entry in survey["toc"])
    contents = page.context.new_page()
    try:
        contents.set_content(
            "<!DOCTYPE html><meta charset='utf-8'><style>body { font: 15px/1.4 serif; "
            "margin: 2em 1.5em; }</style>"
            f"<h1>Contents</h1><ol>{items}</ol>"
        )
        path = folder / f"{format_name}-02-contents.png"
        contents.screenshot(path=path)
        text = contents.inner_text("body")
    finally:
        contents.close()
    return [Sheet(path, f"{format_name.upper()} contents (from the book's index)", text)]
