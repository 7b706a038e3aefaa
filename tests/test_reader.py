"""The bundled in-browser reader (`src/ebook_builder/data/reader/`, foliate-js) opens the
books we write, in Debian's Chromium: the first chapter's text appears in every format,
the keys turn its pages, and its controls change what is shown (theme, text size, device
frame, contents and page list).

The reader's page and the built books are served over http://127.0.0.1 by a plain
http.server in a thread, as `ebook preview` will serve them: foliate-js is made of ES
modules and uses Web Crypto, which a browser refuses to a file:// page.
"""

from __future__ import annotations

import functools
import io
import re
import shutil
import threading
import time
from collections.abc import Iterator
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from importlib.resources import files
from pathlib import Path

import pytest
from PIL import Image
from playwright.sync_api import Browser, Page

from ebook_builder import api
from ebook_builder.browser import RENDER_TIMEOUT_S
from ebook_builder.formats import FORMATS
from tests.browser import frame_text, wait_for_text
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


# The reader's controls, seen in the book's own documents.

# The devices' screens in CSS pixels, as reader.js gives them (the issue: phone, 7" e-ink,
# tablet).
DEVICES = {"phone": (393, 852), "eink": (618, 824), "tablet": (820, 1180)}
# A window large enough for every device frame at its full size.
LARGE_WINDOW = {"width": 1000, "height": 1400}


def in_book(page: Page, script: str) -> list[object]:
    """`script`'s value in each book document the reader shows (foliate-js's iframes)."""
    return [
        frame.evaluate(script)
        for frame in page.frames
        if frame is not page.main_frame and frame_text(frame)
    ]


def eventually(page: Page, check: object) -> None:
    """Wait until `check()` holds, as a restyled or reopened book takes a moment."""
    deadline = time.monotonic() + RENDER_TIMEOUT_S
    while not check():
        assert time.monotonic() < deadline, "never came true"
        page.wait_for_timeout(50)


def brightness(colour: str) -> float:
    """A computed `rgb(r, g, b)` colour's mean channel, from 0 (black) to 1 (white)."""
    return sum(int(channel) for channel in re.findall(r"\d+", colour)[:3]) / 3 / 255


BODY_COLOURS = """(() => {
    const style = getComputedStyle(document.body)
    const link = document.querySelector('a:any-link')
    return [style.backgroundColor, style.color, link && getComputedStyle(link).color]
})()"""


def test_night_mode_darkens_the_page_and_lightens_its_text(site: str, page: Page) -> None:
    page.goto(f"{site}/index.html?book={book_file('epub')}")
    wait_for_text(page, FIRST_CHAPTER_TEXT)
    [(_, text, _)] = in_book(page, BODY_COLOURS)
    assert brightness(text) < 0.2  # the book's own black, over the reader's white
    page.get_by_label("Theme").select_option(label="Night")
    eventually(page, lambda: brightness(in_book(page, BODY_COLOURS)[0][1]) > 0.8)
    [(background, text, link)] = in_book(page, BODY_COLOURS)
    assert background.startswith("rgb(") and brightness(background) < 0.1  # opaque, dark
    assert link is not None and brightness(link) - brightness(background) > 0.5


def test_larger_text_grows_the_books_text(site: str, page: Page) -> None:
    page.goto(f"{site}/index.html?book={book_file('epub')}")
    wait_for_text(page, FIRST_CHAPTER_TEXT)
    size = "parseFloat(getComputedStyle(document.querySelector('p')).fontSize)"
    [before] = in_book(page, size)
    page.get_by_role("button", name="Larger text").click()
    eventually(page, lambda: in_book(page, size)[0] > before)
    assert page.locator("#font-size").text_content() == "115%"


def reading_area(page: Page) -> tuple[float, float]:
    box = page.locator("foliate-view").bounding_box()
    assert box is not None
    return box["width"], box["height"]


def colours_in(page: Page) -> set[tuple[int, int, int]]:
    """The colours of the reading area's pixels, as Chromium paints them."""
    shot = Image.open(io.BytesIO(page.locator("foliate-view").screenshot())).convert("RGB")
    return {colour for _, colour in shot.getcolors(maxcolors=1 << 20)}


def test_each_device_frame_sets_the_reading_areas_size(site: str, page: Page) -> None:
    page.set_viewport_size(LARGE_WINDOW)
    page.goto(f"{site}/index.html?book={book_file('epub')}")
    wait_for_text(page, FIRST_CHAPTER_TEXT)
    page.get_by_label("Theme").select_option(label="Sepia")
    for device, size in DEVICES.items():
        page.get_by_label("Device").select_option(value=device)
        eventually(page, lambda size=size: reading_area(page) == size)
        wait_for_text(page, FIRST_CHAPTER_TEXT)
        page.wait_for_timeout(TURN_LOCK_MS)  # the sepia page painted at its new size
        greys = all(red == green == blue for red, green, blue in colours_in(page))
        assert greys == (device == "eink"), device  # sepia is a colour, but not on e-ink
    page.set_viewport_size({"width": 800, "height": 600})
    width, height = DEVICES["tablet"]
    eventually(page, lambda: reading_area(page)[1] < 600)
    shown_width, shown_height = reading_area(page)
    assert shown_width / shown_height == pytest.approx(width / height, rel=0.01)
    wait_for_text(page, FIRST_CHAPTER_TEXT)


def test_the_contents_and_page_list_go_to_their_places(site: str, page: Page) -> None:
    page.goto(f"{site}/index.html?book={book_file('epub')}")
    wait_for_text(page, FIRST_CHAPTER_TEXT)
    page.get_by_role("button", name="Contents").click()
    contents = page.get_by_role("navigation", name="Table of contents")
    assert contents.get_by_role("button").all_text_contents() == [
        *("Opening", "Conclusion", "The Middle Part", "Conclusion", "A Deeper Section"),
        "Contact Us",
    ]
    pages = page.get_by_role("navigation", name="Page list")
    assert pages.get_by_role("button").all_text_contents() == ["1", "2", "3"]
    assert pages.get_by_role("button", name="1").get_attribute("aria-current") == "location"
    contents.get_by_role("button", name="The Middle Part").click()
    wait_for_text(page, "Text before the")
    # The current entry is the last heading on the page shown: the chapter's or one in it.
    middle = contents.locator("li").filter(has=page.get_by_text("The Middle Part", exact=True))
    eventually(page, lambda: middle.locator("[aria-current=location]").count() == 1)
    page.wait_for_timeout(TURN_LOCK_MS)
    pages.get_by_role("button", name="3").click()
    wait_for_text(page, "Write to")
    third = pages.get_by_role("button", name="3")
    eventually(page, lambda: third.get_attribute("aria-current") == "location")
