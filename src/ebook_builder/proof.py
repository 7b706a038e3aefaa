"""`ebook proof`: pictures of a built book to look at before it ships, and what on them a
proofreader should look at.

Not a stage: it builds the book (`api.build`) and draws what was built, as a buyer meets it.
- The cover at 60, 160 and 400 px wide (a store's search list, its product page, a
  reader's library) and the Kindle library thumbnail (the very picture the Kindle writer
  makes, `thumbnail_jpeg`): Pillow, no browser.
- The EPUB's and the AZW3's pages in the bundled reader, in Debian's Chromium
  (`proof_pages`), with the flags measured there.
- The DOCX's first pages as LibreOffice prints them, when it is installed: Word users see
  the book in a word processor, not a reader. LibreOffice starts slowly, so it converts
  while the browser draws.
- One PDF that gathers every sheet in that order, so that a proof is read or sent as one
  file, and `flags.txt`.

Without Playwright or Chromium, the sheets that need no browser are still written (a
proof of the cover and the DOCX is worth having), then `UsageError` says what to install:
the exit code is not 0, so no script mistakes a proof without pages for a whole one.
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from io import BytesIO
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont

from ebook_builder import api, browser
from ebook_builder.errors import OutputError, UsageError
from ebook_builder.formats import FORMATS
from ebook_builder.formats.kindle.resources import THUMBNAIL_HEIGHT, thumbnail_jpeg
from ebook_builder.load import Project, chosen_book, load_book
from ebook_builder.proof_pages import BLANK_SHARE, PAGE_FORMATS, Flag, Sheet, reader_pages

COVER_WIDTHS = (60, 160, 400)
DEFAULT_PROOF_OUT = Path("dist") / "proof"
# The DOCX's pages drawn: the title page, the contents and the first chapter's opening.
DOCX_PAGES = 4
DOCX_DPI = 60
# Seconds LibreOffice may take to print the DOCX (its first start makes a profile).
SOFFICE_TIMEOUT_S = 120
# The height of the line naming each sheet in the PDF, in pixels.
PDF_LABEL_SIZE = 14
# The sheets a proof writes, removed before it writes them again: a book that lost a
# chapter or an element kind leaves no old sheet behind.
SHEET_PATTERNS = [f"{name}-*.png" for name in (*PAGE_FORMATS, "docx")]


@dataclass(frozen=True)
class Proof:
    """What `proof` wrote: the folder, every sheet in the PDF's order, the flags, the PDF."""

    folder: Path
    sheets: list[Sheet]
    flags: list[Flag]
    pdf: Path


def proof(
    root: Path,
    book_id: str | None,
    out: Path | None = None,
    progress: Callable[[str], None] = lambda line: None,
) -> Proof:
    """Build the book (the one named, or the project's only one) and write its proof
    sheets into `out`, by default `dist/proof/<book-id>/`; `progress` hears one line per
    group of sheets."""
    chosen = chosen_book(Project(root), book_id, "proof")
    folder = out if out is not None else root / DEFAULT_PROOF_OUT / chosen
    try:
        return _write_proof(root, chosen, folder, progress)
    except OSError as exc:  # the folder cannot be written (read-only, a file, a full disk)
        raise OutputError(f"cannot write ({exc.strerror or exc})", path=folder) from None


def _write_proof(root: Path, chosen: str, folder: Path, progress: Callable[[str], None]) -> Proof:
    folder.mkdir(parents=True, exist_ok=True)
    for pattern in SHEET_PATTERNS:
        for old in folder.glob(pattern):
            old.unlink()
    soffice, pdftoppm = shutil.which("soffice"), shutil.which("pdftoppm")
    docx_wanted = soffice is not None and pdftoppm is not None
    api.build(root, [chosen], [*PAGE_FORMATS, *(["docx"] if docx_wanted else [])])
    outputs = root / api.DEFAULT_OUT
    sheets = _cover_sheets(load_book(Project(root), chosen).cover.data, folder, progress)
    flags: list[Flag] = []
    to_install = browser.missing()
    with tempfile.TemporaryDirectory(prefix="ebook-proof-") as work:
        printing = None
        if soffice is not None and pdftoppm is not None:
            docx = outputs / f"{chosen}{FORMATS['docx'].suffix}"
            printing = DocxPrinting(soffice, pdftoppm, docx, Path(work))
        try:
            if to_install is None:
                # Playwright's sync API refuses a thread whose asyncio loop runs (a notebook,
                # a caller with a Playwright of its own open): the pages get a thread.
                with ThreadPoolExecutor(max_workers=1) as pool:
                    drawing = pool.submit(_draw_pages, chosen, outputs, folder, progress)
                    pages, flags = drawing.result()
                sheets += pages
            if printing is not None:
                sheets += printing.sheets(folder, progress)
            else:
                progress("DOCX pages skipped: they need LibreOffice (soffice) and pdftoppm")
        finally:
            if printing is not None:
                printing.stop()
    flags += [Flag(*_where(sheet), "blank page") for sheet in sheets if _blank(sheet.path)]
    (folder / "flags.txt").write_text("".join(f"{flag}\n" for flag in flags), encoding="utf-8")
    pdf = folder / f"{chosen}-proof.pdf"
    _write_pdf(sheets, pdf)
    progress(f"PDF of every sheet, {len(sheets)} pages")
    if to_install is not None:
        raise UsageError(
            f"the book's pages need Chromium driven by Playwright: {to_install} "
            f"(wrote the sheets that need no browser into {folder})"
        )
    return Proof(folder, sheets, flags, pdf)


def _draw_pages(
    book_id: str, outputs: Path, folder: Path, progress: Callable[[str], None]
) -> tuple[list[Sheet], list[Flag]]:
    with browser.chromium() as chromium:
        return reader_pages(chromium, book_id, outputs, folder, progress)


def _cover_sheets(cover_data: bytes, folder: Path, progress: Callable[[str], None]) -> list[Sheet]:
    """The cover the build packaged (the book's file, or the one drawn from its metadata)
    at each width, and the Kindle thumbnail."""
    cover = Image.open(BytesIO(cover_data)).convert("RGB")
    sheets = []
    for width in COVER_WIDTHS:
        path = folder / f"cover-{width}.png"
        height = round(cover.height * width / cover.width)
        cover.resize((width, height), Image.Resampling.LANCZOS).save(path)
        sheets.append(Sheet(path, f"cover {width} px wide"))
    progress(f"cover at {', '.join(str(width) for width in COVER_WIDTHS)} px wide")
    thumbnail = folder / "kindle-thumbnail.png"
    Image.open(BytesIO(thumbnail_jpeg(cover_data))).save(thumbnail)
    sheets.append(Sheet(thumbnail, "Kindle thumbnail"))
    progress(f"Kindle thumbnail, {THUMBNAIL_HEIGHT} px high")
    return sheets


class DocxPrinting:
    """LibreOffice printing the DOCX to PDF in `work`, started at once so that it runs
    while the browser draws, then the PDF's first pages as PNGs (poppler's pdftoppm).

    LibreOffice gets a profile of its own in `work`: with the user's profile, a LibreOffice
    the user has open would take the job and this one would return at once, printing nothing.
    """

    def __init__(self, soffice: str, pdftoppm: str, docx: Path, work: Path) -> None:
        self.pdftoppm = pdftoppm
        self.work = work
        self.printed = work / f"{docx.stem}.pdf"
        profile = f"-env:UserInstallation={(work / 'profile').as_uri()}"
        print_to_pdf = ["--headless", "--convert-to", "pdf", "--outdir", str(work)]
        self.process = subprocess.Popen(
            [soffice, profile, *print_to_pdf, str(docx)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )

    def sheets(self, folder: Path, progress: Callable[[str], None]) -> list[Sheet]:
        try:
            self.process.wait(timeout=SOFFICE_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            self.stop()
        if not self.printed.is_file():
            progress("DOCX pages skipped: LibreOffice could not print the DOCX")
            return []
        first_pages = ["-png", "-r", str(DOCX_DPI), "-f", "1", "-l", str(DOCX_PAGES)]
        subprocess.run(
            [self.pdftoppm, *first_pages, self.printed, self.work / "docx"],
            check=True,
            capture_output=True,
        )
        sheets = []
        # pdftoppm numbers its pages docx-1.png, or docx-01.png in a PDF of 10 pages or more.
        for page in sorted(self.work.glob("docx-*.png"), key=_page_number):
            path = folder / f"docx-page-{_page_number(page)}.png"
            shutil.move(page, path)
            sheets.append(Sheet(path, f"DOCX page {_page_number(page)}"))
        progress(f"DOCX pages through LibreOffice: {len(sheets)} sheets")
        return sheets

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait()


def _page_number(page: Path) -> int:
    return int(page.stem.rsplit("-", 1)[1])


def _where(sheet: Sheet) -> tuple[str, str]:
    """A sheet as a flag names it: its format and the sheet's file."""
    kind = sheet.path.name.split("-")[0]
    return ("cover" if kind in ("cover", "kindle") else kind), sheet.path.name


def _blank(path: Path) -> bool:
    """Whether a sheet is nearly one colour: a page the reader shows empty."""
    with Image.open(path) as sheet:
        grey = sheet.convert("L")
    counts = grey.histogram()
    return 1 - max(counts) / sum(counts) < BLANK_SHARE


def _write_pdf(sheets: list[Sheet], target: Path) -> None:
    """One page per sheet, in order, under a line naming it (Pillow writes multi-page
    PDFs itself): a page of the PDF read alone still says which format and place it is."""
    font = ImageFont.load_default(size=PDF_LABEL_SIZE)
    pages = []
    for sheet in sheets:
        with Image.open(sheet.path) as picture:
            label = Image.new(
                "RGB", (max(picture.width, 300), picture.height + 2 * PDF_LABEL_SIZE), "white"
            )
            label.paste(picture.convert("RGB"), (0, 2 * PDF_LABEL_SIZE))
        ImageDraw.Draw(label).text((4, PDF_LABEL_SIZE // 3), sheet.label, fill="black", font=font)
        pages.append(label)
    pages[0].save(target, save_all=True, append_images=pages[1:])
