"""A built EPUB's pages in headless Chromium, as a reading system lays them out: what
tests/test_render.py checks and tools/screenshots.py photographs, opened one way for both.

The browser is launched as `ebook_builder.browser` launches it. A page is served from
the EPUB's zip itself, under an address that only the route below answers
(http://book.invalid/, a name that never resolves), with the media type the package
declares for each file, as a reading system serves it: the stylesheets and fonts of a
page then load from the same origin, as in a reader. The viewport is a phone's
(`browser.PHONE`).
"""

from __future__ import annotations

import mimetypes
import posixpath
import shutil
import time
import zipfile
from pathlib import Path

import yaml
from lxml import etree
from playwright.sync_api import Browser, BrowserContext, Frame, Page, Route
from playwright.sync_api import Error as PlaywrightError

from ebook_builder import api
from ebook_builder.browser import PHONE, RENDER_TIMEOUT_S

# The page margins a reading system sets around the text, for pictures of text pages: a
# book's stylesheet leaves them to the reader's own setting (ours sets none), so without
# them the text would touch the screen's edges as in no reader. Checks go without: they
# measure what the book asks for.
READER_MARGINS = "html { padding: 1.5em 1.2em; }"
ORIGIN = "http://book.invalid/"

OPF = "{http://www.idpf.org/2007/opf}"
CONTAINER = "{urn:oasis:names:tc:opendocument:xmlns:container}"
EPUB_TYPE = "{http://www.idpf.org/2007/ops}type"
XHTML = "{http://www.w3.org/1999/xhtml}"
DC = "{http://purl.org/dc/elements/1.1/}"


class RenderedBook:
    """One EPUB in a browser context of its own: its spine documents, found by name or by
    `epub:type`, opened as pages at a given viewport (a phone's unless told), within a
    reading system's page margins if given."""

    def __init__(
        self, browser: Browser, epub: Path, viewport: dict[str, int] = PHONE, margins: str = ""
    ) -> None:
        self.archive = zipfile.ZipFile(epub)
        container = etree.fromstring(self.archive.read("META-INF/container.xml"))
        opf_path = container.find(f".//{CONTAINER}rootfile").get("full-path")
        self.opf = etree.fromstring(self.archive.read(opf_path))
        self.root = posixpath.dirname(opf_path)  # the package folder, where hrefs start
        items = {item.get("id"): item for item in self.opf.iter(f"{OPF}item")}
        self.media_types = {
            posixpath.join(self.root, item.get("href")): item.get("media-type")
            for item in items.values()
        }
        self.spine = [items[ref.get("idref")].get("href") for ref in self.opf.iter(f"{OPF}itemref")]
        self.viewport = viewport
        self.margins = margins  # a reading system's page margins, as CSS
        self.context: BrowserContext = browser.new_context(viewport=viewport)
        self.context.route(f"{ORIGIN}**", self._serve)
        self.page = self.context.new_page()

    def metadata(self, element: str) -> list[str]:
        """The package's Dublin Core values of one element (`title`, `creator`...), in order."""
        return [found.text for found in self.opf.iter(f"{DC}{element}")]

    def _serve(self, route: Route) -> None:
        name = route.request.url.removeprefix(ORIGIN).split("#")[0]
        try:
            body = self.archive.read(name)
        except KeyError:
            route.fulfill(status=404)
            return
        media_type = self.media_types.get(name) or mimetypes.guess_type(name)[0]
        route.fulfill(body=body, content_type=media_type or "application/octet-stream")

    def documents(self, epub_type: str) -> list[str]:
        """The spine's documents whose body, or a section in it, has this `epub:type` (a
        title page, a chapter, a colophon); the navigation's landmarks name the same types
        on links, which do not count."""
        return [
            name
            for name in self.spine
            if any(
                epub_type in (element.get(EPUB_TYPE) or "").split()
                for element in self.tree(name).iter(f"{XHTML}body", f"{XHTML}section")
            )
        ]

    def tree(self, name: str) -> etree._Element:
        """A spine document's markup, as the package holds it."""
        return etree.fromstring(self.archive.read(posixpath.join(self.root, name)))

    def open(self, name: str) -> Page:
        """The book's page, showing a spine document at the book's viewport once its fonts
        and pictures have loaded. One page per book, taken to each document in turn: a new
        page costs more than the document it shows."""
        self.page.set_viewport_size(self.viewport)
        self.page.goto(f"{ORIGIN}{posixpath.join(self.root, name)}", wait_until="load")
        if self.margins:
            self.page.add_style_tag(content=self.margins)
        self.page.evaluate("document.fonts.ready.then(() => true)")
        return self.page

    def close(self) -> None:
        self.context.close()
        self.archive.close()


def build_in_design(project: Path, book_id: str, design: str, out: Path) -> Path:
    """A copy of a project's book built as EPUB in one of the designs, whatever design its
    metadata chose: each design is rendered from the same text."""
    copy = out / f"{book_id}-{design}"
    shutil.copytree(project, copy, ignore=shutil.ignore_patterns("dist", ".cache"))
    metadata_path = copy / "metadata" / f"{book_id}.yaml"
    metadata = yaml.safe_load(metadata_path.read_text(encoding="utf-8"))
    metadata_path.write_text(
        yaml.safe_dump({**metadata, "design": design}, sort_keys=False, allow_unicode=True),
        encoding="utf-8",
    )
    [epub] = api.build(copy, [book_id], ["epub"], copy / "dist")
    return epub


# The bundled reader (`data/reader/`, foliate-js), as `ebook preview` shows a book.


def frame_text(frame: Frame) -> str:
    """A frame's text, or none while it is between documents (foliate-js loads each book
    document into its frame in turn, and a navigation ends any script running there)."""
    try:
        return frame.evaluate("document.body ? document.body.innerText : ''")
    except PlaywrightError:
        return ""


def shown_text(page: Page) -> str:
    """The text of every book document the reader has laid out: foliate-js draws each one
    in an iframe inside its closed shadow roots, which the DOM cannot reach but the
    browser's frame tree can."""
    return "\n".join(frame_text(frame) for frame in page.frames if frame is not page.main_frame)


def wait_for_text(page: Page, text: str) -> None:
    """Wait until the reader has laid out a document holding this text."""
    deadline = time.monotonic() + RENDER_TIMEOUT_S
    while text not in shown_text(page):
        assert time.monotonic() < deadline, f"{text!r} never shown: {shown_text(page)[:500]!r}"
        page.wait_for_timeout(100)
