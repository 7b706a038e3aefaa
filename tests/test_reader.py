"""The bundled in-browser reader (`src/ebook_builder/data/reader/`, foliate-js) opens the
books we write, in Debian's Chromium: the first chapter's text appears in every format,
and the keys turn its pages.

The reader's page and the built books are served over http://127.0.0.1 by a plain
http.server in a thread, as `ebook preview` will serve them: foliate-js is made of ES
modules and uses Web Crypto, which a browser refuses to a file:// page.
"""

from __future__ import annotations

import functools
import shutil
import threading
from collections.abc import Iterator
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from importlib.resources import files
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page

from ebook_builder import api
from ebook_builder.formats import FORMATS
from tests.browser import wait_for_text
from tests.helpers import TOUR

# The first chapter's first paragraph, as the build sets it (curly quotes).
FIRST_CHAPTER_TEXT = "This chapter has “straight quotes” that become curly"
# Every format we write that foliate-js reads (all but DOCX).
READ_FORMATS = ("epub", "kepub", "azw3", "mobi")
# foliate-js's paginator ignores a page turn for 100 ms after the last one (a debounce, so a
# held key does not race through the book): a test's next turn waits longer than that.
TURN_LOCK_MS = 300


class QuietHandler(SimpleHTTPRequestHandler):
    """A static file server that keeps its request log off the test output."""

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture(scope="module")
def site(fixture_project: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The packaged reader at `/`, the feature tour in every format under `/files/`, served
    on a free port of 127.0.0.1; yields the site's address."""
    root = tmp_path_factory.mktemp("site")
    shutil.copytree(Path(str(files("ebook_builder") / "data" / "reader")), root, dirs_exist_ok=True)
    api.build(fixture_project, [TOUR], list(READ_FORMATS), root / "files")
    server = ThreadingHTTPServer(
        ("127.0.0.1", 0), functools.partial(QuietHandler, directory=str(root))
    )
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    """A fresh page at a laptop window's size, where `ebook preview` opens."""
    context = browser.new_context(viewport={"width": 800, "height": 900})
    try:
        yield context.new_page()
    finally:
        context.close()


def book_file(book_format: str) -> str:
    """The site's address of the tour in one format."""
    return f"/files/{TOUR}{FORMATS[book_format].suffix}"


@pytest.mark.parametrize("book_format", READ_FORMATS)
def test_reader_opens_at_the_first_chapter(site: str, page: Page, book_format: str) -> None:
    page.goto(f"{site}/index.html?book={book_file(book_format)}")
    wait_for_text(page, FIRST_CHAPTER_TEXT)
    assert page.locator("#problem").count() == 0
    assert page.title() == "A Tour of Features · ebook preview"


def test_keys_and_buttons_turn_pages(site: str, page: Page) -> None:
    page.goto(f"{site}/index.html?book={book_file('epub')}")
    wait_for_text(page, FIRST_CHAPTER_TEXT)
    place = page.locator("#place")
    page.wait_for_function("document.getElementById('place').textContent !== ''")
    opening = place.text_content()
    page.keyboard.press("ArrowRight")
    page.wait_for_function(f"document.getElementById('place').textContent !== {opening!r}")
    page.wait_for_timeout(TURN_LOCK_MS)
    page.get_by_role("button", name="Previous page").click()
    page.wait_for_function(f"document.getElementById('place').textContent === {opening!r}")


def test_reader_says_when_a_book_cannot_be_opened(site: str, page: Page) -> None:
    page.goto(f"{site}/index.html?book=/files/missing.epub")
    assert "Cannot open /files/missing.epub: 404" in page.get_by_role("alert").text_content()
