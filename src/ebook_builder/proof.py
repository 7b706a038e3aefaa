"""`ebook proof`: pictures of a built book to look at before it ships.

First slice: the cover as the stores and readers show it (60, 160 and 400 px wide, the
sizes of a store's search list, its product page and a reader's library), the Kindle
library thumbnail (the very picture the Kindle writer makes, `thumbnail_jpeg`), and one PDF
that gathers every sheet, so a proof can be read or sent as a single file. Pillow draws
them all: no browser is needed for the cover sheets.
"""

from __future__ import annotations

from collections.abc import Callable
from io import BytesIO
from pathlib import Path

from PIL import Image

from ebook_builder import api
from ebook_builder.formats.kindle.resources import THUMBNAIL_HEIGHT, thumbnail_jpeg
from ebook_builder.load import Project, load_book

COVER_WIDTHS = (60, 160, 400)
DEFAULT_PROOF_OUT = Path("dist") / "proof"


def proof(
    root: Path, book_id: str, out: Path | None = None, progress: Callable[[str], None] = print
) -> Path:
    """Build `book_id` and write its proof sheets into `out`; return that folder."""
    folder = out if out is not None else root / DEFAULT_PROOF_OUT / book_id
    folder.mkdir(parents=True, exist_ok=True)
    api.build(root, [book_id], ["epub", "azw3"])
    # The cover the build packaged: the book's file, or the one drawn from its metadata.
    cover_data = load_book(Project(root), book_id).cover.data
    cover = Image.open(BytesIO(cover_data)).convert("RGB")
    sheets = [_write_cover(cover, width, folder) for width in COVER_WIDTHS]
    progress(f"cover at {', '.join(str(width) for width in COVER_WIDTHS)} px wide")
    thumbnail = folder / "kindle-thumbnail.png"
    Image.open(BytesIO(thumbnail_jpeg(cover_data))).save(thumbnail)
    sheets.append(thumbnail)
    progress(f"Kindle thumbnail, {THUMBNAIL_HEIGHT} px high")
    _write_pdf(sheets, folder / f"{book_id}-proof.pdf")
    progress("PDF of every sheet")
    return folder


def _write_cover(cover: Image.Image, width: int, folder: Path) -> Path:
    height = round(cover.height * width / cover.width)
    path = folder / f"cover-{width}.png"
    cover.resize((width, height), Image.Resampling.LANCZOS).save(path)
    return path


def _write_pdf(sheets: list[Path], target: Path) -> None:
    """One page per sheet, in order (Pillow writes multi-page PDFs itself)."""
    pages = [Image.open(sheet).convert("RGB") for sheet in sheets]
    pages[0].save(target, save_all=True, append_images=pages[1:])
