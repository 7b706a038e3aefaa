"""Writes the reference screenshots the README shows, under `docs/screenshots/`: in each
design, the feature tour's title page, a chapter opening and a page with notes as a phone
shows them; the shipped books' covers at a store's thumbnail size; `ebook preview`'s
reader; and a proof sheet of the first book.

Not part of a build, nor of the package. After changing a design, run it from the project
folder in the project's environment with the test extras (Playwright, and Debian's
Chromium at /usr/bin/chromium), then look at the pictures and commit them:

    .venv/bin/python -m tools.screenshots

The pages are opened exactly as the rendering tests open them (`tests/browser.py`). Each
picture is reduced to a palette of grey and colour steps and optimised, so that it stays
well under 150 KB in the repository; a picture over that fails the run.
"""

from __future__ import annotations

import io
import sys
import tempfile
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont
from playwright.sync_api import Browser

from ebook_builder import api
from ebook_builder.browser import chromium
from ebook_builder.model import DESIGNS
from ebook_builder.preview import PreviewServer
from ebook_builder.proof import proof
from tests.browser import READER_MARGINS, RenderedBook, build_in_design, wait_for_text
from tests.helpers import REPO, SHIPPED_BOOKS, TOUR

OUT = REPO / "docs" / "screenshots"
TOUR_PROJECT = REPO / "tests" / "fixtures" / "project"
THUMBNAIL_WIDTH = 160  # a store's library grid, where a cover must still be read
MAX_BYTES = 150_000
COLOURS = 64  # antialiased text on a plain page needs no more; a cover at 160 px neither


def save(png: bytes, name: str) -> Path:
    """A screenshot as an optimised palette PNG under docs/screenshots/."""
    path = OUT / f"{name}.png"
    picture = Image.open(io.BytesIO(png)).convert("RGB").quantize(COLOURS)
    picture.save(path, optimize=True)
    size = path.stat().st_size
    if size > MAX_BYTES:
        sys.exit(f"{path}: {size} bytes, over {MAX_BYTES}: crop or scale it")
    print(f"wrote {path.relative_to(REPO)} ({size // 1000} KB)")
    return path


def design_pages(browser: Browser, design: str, work: Path) -> None:
    """The tour's title page, first chapter opening and a chapter's end with its notes, in
    one design."""
    epub = build_in_design(TOUR_PROJECT, TOUR, design, work)
    book = RenderedBook(browser, epub, margins=READER_MARGINS)
    try:
        title_pages = book.documents("titlepage")
        if title_pages:
            save(book.open(title_pages[0]).screenshot(), f"{design}-title-page")
        else:
            print(f"{design}: the book has no title page; none written")
        chapters = book.documents("chapter")
        save(book.open(chapters[0]).screenshot(), f"{design}-chapter-opening")
        # The end of the last chapter with notes: its last lines (a table and a signature,
        # in the tour), then the notes.
        [*_, noted] = [
            name for name in chapters if book.tree(name).xpath("//*[@role='doc-noteref']")
        ]
        page = book.open(noted)
        page.evaluate("window.scrollTo(0, document.documentElement.scrollHeight)")
        save(page.screenshot(), f"{design}-notes")
    finally:
        book.close()


def cover_thumbnails(browser: Browser, work: Path) -> None:
    """Each shipped book's cover page drawn THUMBNAIL_WIDTH wide, at the cover's shape."""
    for epub in api.build(REPO, list(SHIPPED_BOOKS), ["epub"], work / "dist"):
        book = RenderedBook(browser, epub)
        try:
            [cover] = book.documents("cover")
            width, height = book.open(cover).eval_on_selector(
                "img", "img => [img.naturalWidth, img.naturalHeight]"
            )
            book.viewport = {"width": THUMBNAIL_WIDTH, "height": THUMBNAIL_WIDTH * height // width}
            save(book.open(cover).screenshot(), f"cover-{epub.name.removesuffix('.epub')}")
        finally:
            book.close()


def preview_reader(browser: Browser, work: Path) -> None:
    """`ebook preview`'s reader on the first shipped book: the contents open, the first
    chapter on a 7" e-ink screen, as a laptop's window shows it."""
    book_id = SHIPPED_BOOKS[0]
    api.build(REPO, [book_id], ["epub"], work / "dist")
    server = PreviewServer(book_id, work / "dist")
    server.start()
    context = browser.new_context(viewport={"width": 1100, "height": 760})
    try:
        page = context.new_page()
        page.goto(server.reader_url("epub"))
        page.get_by_label("Device").select_option("eink")
        page.get_by_role("button", name="Contents").click()
        contents = page.get_by_role("navigation", name="Table of contents")
        contents.get_by_role("button").first.click()
        wait_for_text(page, "The 100th anniversary")
        page.wait_for_timeout(500)  # the page turn's animation
        save(page.screenshot(), "preview-reader")
    finally:
        context.close()
        server.close()


def proof_sheet(work: Path) -> None:
    """Four sheets of the first book's proof side by side, each under its name: the cover,
    the first chapter's opening in the EPUB and in the AZW3 as the reader shows them, and
    the DOCX's first page as LibreOffice prints it."""
    made = proof(REPO, SHIPPED_BOOKS[0], work / "proof")
    shown = {
        "cover-400.png": "cover",
        "epub-03-chapter-1.png": "EPUB, chapter 1",
        "azw3-03-chapter-1.png": "AZW3, chapter 1",
        "docx-page-1.png": "DOCX, page 1",
    }
    sheets = [sheet.path for name in shown for sheet in made.sheets if sheet.path.name == name]
    height, label, gap = 480, 28, 16
    pictures = []
    for sheet in sheets:
        with Image.open(sheet) as picture:
            width = round(picture.width * height / picture.height)
            pictures.append(
                picture.convert("RGB").resize((width, height), Image.Resampling.LANCZOS)
            )
    board = Image.new(
        "RGB",
        (sum(p.width for p in pictures) + gap * (len(pictures) + 1), height + label + gap),
        "white",
    )
    draw = ImageDraw.Draw(board)
    font = ImageFont.load_default(size=15)
    left = gap
    for sheet, picture in zip(sheets, pictures, strict=True):
        draw.text((left, 6), shown[sheet.name], fill="black", font=font)
        board.paste(picture, (left, label))
        draw.rectangle(
            (left - 1, label - 1, left + picture.width, label + height), outline="#999999"
        )
        left += picture.width + gap
    png = io.BytesIO()
    board.save(png, "PNG")
    save(png.getvalue(), "proof-sheet")


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as work, chromium() as browser:
        for design in DESIGNS:
            design_pages(browser, design, Path(work))
        cover_thumbnails(browser, Path(work))
        preview_reader(browser, Path(work))
    with tempfile.TemporaryDirectory() as work:
        proof_sheet(Path(work))


if __name__ == "__main__":
    main()
