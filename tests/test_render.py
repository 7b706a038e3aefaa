"""The books as a reader draws them: pages opened in headless Chromium at a phone's size
(tests/browser.py), checked with the styles and boxes the browser computed, and the cover
read back by OCR.

Validators pass markup that looks wrong on a screen (an indented paragraph after a
heading, a note whose back link leads nowhere); these tests look at the laid-out page.
The feature tour is rendered in every design; the shipped books as they ship.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, Page

from ebook_builder.fonts import FACE_LICENCE, FACE_NAME
from ebook_builder.model import DESIGNS
from tests.browser import RenderedBook, build_in_design
from tests.helpers import SHIPPED_BOOKS, TOUR

# Paragraphs that begin a block the break before them already marks: a first-line indent
# there would mark it a second time.
UNINDENTED = {
    "after a heading": ", ".join(f"h{level} + p" for level in range(1, 7)),
    "after a scene break": "hr + p",
    "after an epigraph": ".epigraph + p",
    "after a block quote": "blockquote + p",
    "opening a block quote": "blockquote > p:first-child",
    "in an epigraph": ".epigraph p",
}

# A reading system's night theme: light text on black, set on the root for the book's
# text to inherit.
NIGHT_THEME = "html { color: rgb(221, 221, 221); background: rgb(0, 0, 0); }"

# Inside the screen, give or take the pixel a scroll to a fractional position rounds off.
IN_VIEW = """element => {
  const box = element.getBoundingClientRect();
  return box.top >= -1 && box.bottom <= window.innerHeight + 1;
}"""


@pytest.fixture(scope="session", params=DESIGNS)
def tour(
    request: pytest.FixtureRequest,
    browser: Browser,
    fixture_project: Path,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[RenderedBook]:
    """The feature tour (epigraph, notes, block quote, scene break, verse, signature, links)
    in each design."""
    epub = build_in_design(fixture_project, TOUR, request.param, tmp_path_factory.mktemp("render"))
    book = RenderedBook(browser, epub)
    yield book
    book.close()


@pytest.fixture(scope="session", params=SHIPPED_BOOKS)
def shipped_book(
    request: pytest.FixtureRequest, browser: Browser, shipped_build: dict[str, Path]
) -> Iterator[RenderedBook]:
    """A shipped book as it ships."""
    book = RenderedBook(browser, shipped_build[request.param])
    yield book
    book.close()


def chapters(book: RenderedBook) -> Iterator[Page]:
    """Each chapter of a book, open in turn."""
    for name in book.documents("chapter"):
        yield book.open(name)


def indents(page: Page, selector: str) -> list[str]:
    """The first-line indent of each paragraph that `selector` picks."""
    return page.eval_on_selector_all(
        selector, "found => found.map(p => getComputedStyle(p).textIndent)"
    )


@pytest.mark.parametrize("where", UNINDENTED)
def test_no_indent_where_a_block_begins(tour: RenderedBook, where: str) -> None:
    found = [indent for page in chapters(tour) for indent in indents(page, UNINDENTED[where])]
    assert found, f"the tour has no paragraph {where}"
    assert set(found) == {"0px"}, found


def test_chapters_open_without_indent(shipped_book: RenderedBook) -> None:
    found = [
        indent
        for page in chapters(shipped_book)
        for indent in indents(page, UNINDENTED["after a heading"])
    ]
    assert len(found) >= len(shipped_book.documents("chapter"))
    assert set(found) == {"0px"}, found


def note_links(page: Page) -> list[str]:
    """The ids of the notes a page's note references lead to, in reading order."""
    return page.eval_on_selector_all(
        'a[role="doc-noteref"]', "refs => refs.map(a => a.hash.slice(1))"
    )


def test_notes_come_after_the_chapter_text(tour: RenderedBook) -> None:
    """Notes that a reader does not pop up are read at the chapter's end, below its text."""
    page = tour.open(tour.documents("chapter")[0])
    gaps = page.evaluate(
        """ids => {
          const notes = ids.map(id => document.getElementById(id));
          const text = [...document.querySelectorAll("p")]
            .filter(p => !notes.some(note => note.contains(p)));
          const end = Math.max(...text.map(p => p.getBoundingClientRect().bottom));
          return notes.map(note => note.getBoundingClientRect().top - end);
        }""",
        note_links(page),
    )
    assert len(gaps) == 2
    assert min(gaps) >= 0, gaps


def test_note_references_and_back_links_lead_to_each_other(tour: RenderedBook) -> None:
    """Clicking a note's number scrolls its note into view, and its back link scrolls back
    to the number: on a screen too short to show both at once, so that each click must."""
    page = tour.open(tour.documents("chapter")[0])
    page.set_viewport_size({"width": 412, "height": 300})
    for note_id in note_links(page):
        reference = page.locator(f'a[role="doc-noteref"][href$="#{note_id}"]')
        note = page.locator(f'[id="{note_id}"]')
        reference.scroll_into_view_if_needed()
        assert not note.evaluate(IN_VIEW)
        reference.click()
        assert note.evaluate(IN_VIEW), note_id
        assert not reference.evaluate(IN_VIEW)
        note.locator('a[role="doc-backlink"]').click()
        assert reference.evaluate(IN_VIEW), note_id


def link_colours(page: Page) -> list[tuple[str, str, str]]:
    """Each link's text, its colour and the colour of the text around it."""
    return page.eval_on_selector_all(
        "body a",
        """links => links.map(a => [a.textContent, getComputedStyle(a).color,
                                    getComputedStyle(a.parentElement).color])""",
    )


@pytest.mark.parametrize("theme", ["book", "night"])
def test_links_take_the_colour_of_the_text(tour: RenderedBook, theme: str) -> None:
    """Links are told apart by their underline, not by a colour of their own, which a
    reader's night theme would leave dark blue on black."""
    found = []
    for page in chapters(tour):
        if theme == "night":
            page.add_style_tag(content=NIGHT_THEME)
        found += link_colours(page)
    assert len(found) >= 5
    assert [(text, colour, around) for text, colour, around in found if colour != around] == []


def test_signature_is_set_right(tour: RenderedBook) -> None:
    """The signature's longest line ends at the text's right edge, its lines in the right
    half of the column, one signature line to a screen line."""
    [chapter] = [
        name
        for name in tour.documents("chapter")
        if tour.tree(name).xpath("//*[@class='signature']")
    ]
    lines = tour.open(chapter).eval_on_selector(
        ".signature",
        """signature => {
          const column = signature.parentElement.getBoundingClientRect();
          const text = document.createTreeWalker(signature, NodeFilter.SHOW_TEXT);
          const boxes = [];
          for (let node = text.nextNode(); node; node = text.nextNode()) {
            const range = document.createRange();
            range.selectNodeContents(node);
            boxes.push(...[...range.getClientRects()].filter(box => box.width > 0));
          }
          return {column: [column.left, column.right],
                  lines: boxes.map(box => [box.top, box.left, box.right])};
        }""",
    )
    left, right = lines["column"]
    tops = {round(top) for top, _, _ in lines["lines"]}
    assert len(tops) == 2, lines
    assert abs(max(end for _, _, end in lines["lines"]) - right) <= 1, lines
    assert min(start for _, start, _ in lines["lines"]) >= (left + right) / 2, lines


def test_notes_are_numbered_under_a_rule(tour: RenderedBook) -> None:
    """At the chapter's end each note shows its number first, and a rule drawn above the
    first note (a border on it or on a block around it, or a rule before it) sets the
    notes apart from the text."""
    page = tour.open(tour.documents("chapter")[0])
    notes = note_links(page)
    shown = [page.locator(f'[id="{note}"]').inner_text().strip() for note in notes]
    assert [text.split()[0].rstrip(".") for text in shown] == ["1", "2"], shown
    ruled = page.locator(f'[id="{notes[0]}"]').evaluate(
        """note => {
          for (let block = note; block !== document.body; block = block.parentElement) {
            const style = getComputedStyle(block);
            if (style.borderTopStyle !== "none" && parseFloat(style.borderTopWidth) > 0)
              return true;
            const before = block.previousElementSibling;
            if (before && before.localName === "hr") return true;
          }
          return false;
        }"""
    )
    assert ruled


def cover_page(book: RenderedBook) -> Page:
    [name] = book.documents("cover")
    return book.open(name)


def words(text: str) -> set[str]:
    return {word.lower() for word in re.findall(r"[^\W_]{2,}", text)}


def read_back(png: bytes) -> str:
    """What Tesseract reads in a picture."""
    if not shutil.which("tesseract"):
        if os.environ.get("CI"):
            pytest.fail("tesseract is required in CI (apt-get install tesseract-ocr)")
        pytest.skip("tesseract is not installed (apt-get install tesseract-ocr)")
    return subprocess.run(
        ["tesseract", "stdin", "stdout"], input=png, capture_output=True, check=True
    ).stdout.decode()


def cover_drawn(book: RenderedBook) -> dict[str, Any]:
    """Whether the cover page's picture is loaded and inside a phone's screen, and how much
    of the screen it fills the way it fills most."""
    return cover_page(book).eval_on_selector(
        "img",
        """img => {
          const box = img.getBoundingClientRect();
          return {loaded: img.complete && img.naturalWidth > 0,
                  inside: box.left >= 0 && box.top >= 0 && box.right <= innerWidth
                          && box.bottom <= innerHeight,
                  filled: Math.max(box.width / innerWidth, box.height / innerHeight)};
        }""",
    )


def cover_words(book: RenderedBook) -> tuple[set[str], set[str]]:
    """The words of the title and the creators, and those OCR reads on the cover page as a
    phone shows it."""
    expected = words(" ".join([book.metadata("title")[0], *book.metadata("creator")]))
    return expected, words(read_back(cover_page(book).screenshot()))


def test_cover_page_shows_the_whole_cover(tour: RenderedBook) -> None:
    drawn = cover_drawn(tour)
    assert drawn["loaded"] and drawn["inside"] and drawn["filled"] >= 0.9, drawn


def test_shipped_cover_page_shows_the_whole_cover(shipped_book: RenderedBook) -> None:
    drawn = cover_drawn(shipped_book)
    assert drawn["loaded"] and drawn["inside"] and drawn["filled"] >= 0.9, drawn


def test_cover_page_words_read_back(tour: RenderedBook) -> None:
    expected, read = cover_words(tour)
    assert expected <= read, sorted(expected - read)


def test_shipped_cover_page_words_read_back(shipped_book: RenderedBook) -> None:
    expected, read = cover_words(shipped_book)
    assert expected <= read, sorted(expected - read)


def matter_text(book: RenderedBook, epub_type: str) -> tuple[str, bool]:
    """The text a matter page shows, and whether all of it fits on the first screen."""
    pages = book.documents(epub_type)
    assert len(pages) == 1, f"{epub_type} pages: {pages}"
    page = book.open(pages[0])
    fits = page.evaluate(
        """() => {
          const range = document.createRange();
          range.selectNodeContents(document.body);
          return range.getBoundingClientRect().bottom <= innerHeight;
        }"""
    )
    return page.inner_text("body"), fits


def test_title_page_shows_the_book_on_one_screen(tour: RenderedBook) -> None:
    text, fits = matter_text(tour, "titlepage")
    for line in [*tour.metadata("title"), *tour.metadata("creator"), *tour.metadata("publisher")]:
        assert line in text
    assert fits


def test_imprint_shows_the_publisher_and_the_print_source(tour: RenderedBook) -> None:
    text, fits = matter_text(tour, "copyright-page")
    for line in [*tour.metadata("publisher"), *tour.metadata("source")]:
        assert line in text
    assert fits


def test_colophon_names_the_face_and_its_licence(tour: RenderedBook) -> None:
    text, fits = matter_text(tour, "colophon")
    assert tour.metadata("title")[0] in text
    assert FACE_NAME in text and FACE_LICENCE in text
    assert fits


# --- What issue 20's fonts branch brings ------------------------------------------------


def fonts_drawing(page: Page, selector: str) -> list[tuple[str, list[str]]]:
    """For each element `selector` picks, its markup's start and the fonts Chromium really
    drew its own text with (DevTools' `CSS.getPlatformFontsForNode`): a face the CSS names
    but could not load, or a glyph the face lacks, shows up as the fallback that drew it,
    and a face embedded in the book is marked `isCustomFont`."""
    session = page.context.new_cdp_session(page)
    try:
        session.send("DOM.enable")
        session.send("CSS.enable")
        root = session.send("DOM.getDocument")["root"]["nodeId"]
        nodes = session.send("DOM.querySelectorAll", {"nodeId": root, "selector": selector})
        drawn = []
        for node in nodes["nodeIds"]:
            fonts = session.send("CSS.getPlatformFontsForNode", {"nodeId": node})["fonts"]
            if fonts:
                markup = session.send("DOM.getOuterHTML", {"nodeId": node})["outerHTML"]
                names = [
                    f["familyName"] + ("" if f["isCustomFont"] else " (system)") for f in fonts
                ]
                drawn.append((markup[:60], names))
        return drawn
    finally:
        session.detach()


def test_text_is_drawn_in_the_embedded_face(tour: RenderedBook) -> None:
    """Every character of the chapters' text, headings, notes and table included, is drawn
    in the face the book embeds, loaded by the browser from the book itself: no glyph falls
    back to a face of the system."""
    drawn = []
    for page in chapters(tour):
        loaded = page.evaluate(
            "() => [...document.fonts].filter(f => f.status === 'loaded').map(f => f.family)"
        )
        assert FACE_NAME in {family.strip("\"'") for family in loaded}, loaded
        drawn += fonts_drawing(page, "body *")
    assert len(drawn) >= 20
    assert [(markup, fonts) for markup, fonts in drawn if set(fonts) != {FACE_NAME}] == []
