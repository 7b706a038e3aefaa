"""`ebook proof`: pictures of a built book to look at before it ships.

First slice: the cover as the stores and readers show it (60, 160 and 400 px wide, the
sizes of a store's search list, its product page and a reader's library), the Kindle
library thumbnail (330 px high, `formats.kindle.resources.THUMBNAIL_HEIGHT`), and one PDF
that gathers every sheet, so a proof can be read or sent as a single file. Pillow draws
them all: no browser is needed for the cover sheets.
"""

from __future__ import annotations

import zipfile
from collections.abc import Callable
from io import BytesIO
from pathlib import Path, PurePosixPath

from lxml import etree
from PIL import Image

from ebook_builder import api
from ebook_builder.formats.kindle.resources import THUMBNAIL_HEIGHT

COVER_WIDTHS = (60, 160, 400)
DEFAULT_PROOF_OUT = Path("dist") / "proof"
_OPF = {
    "opf": "http://www.idpf.org/2007/opf",
    "c": "urn:oasis:names:tc:opendocument:xmlns:container",
}


def proof(
    root: Path, book_id: str, out: Path | None = None, progress: Callable[[str], None] = print
) -> Path:
    """Build `book_id` and write its proof sheets into `out`; return that folder."""
    folder = out if out is not None else root / DEFAULT_PROOF_OUT / book_id
    folder.mkdir(parents=True, exist_ok=True)
    built = api.build(root, [book_id], ["epub", "azw3"])
    epub = next(path for path in built if path.suffix == ".epub")
    cover = _epub_cover(epub)
    sheets = [_write_cover(cover, width, folder) for width in COVER_WIDTHS]
    progress(f"cover at {', '.join(str(width) for width in COVER_WIDTHS)} px wide")
    sheets.append(_write_thumbnail(cover, folder))
    progress(f"Kindle thumbnail, {THUMBNAIL_HEIGHT} px high")
    _write_pdf(sheets, folder / f"{book_id}-proof.pdf")
    progress("PDF of every sheet")
    return folder


def _epub_cover(epub: Path) -> Image.Image:
    """The EPUB's cover image: the manifest item with the EPUB 3 `cover-image` property."""
    with zipfile.ZipFile(epub) as archive:
        container = etree.fromstring(archive.read("META-INF/container.xml"))
        opf_name = container.xpath("//c:rootfile/@full-path", namespaces=_OPF)[0]
        opf = etree.fromstring(archive.read(opf_name))
        href = opf.xpath(
            "//opf:item[contains(concat(' ', @properties, ' '), ' cover-image ')]/@href",
            namespaces=_OPF,
        )[0]
        name = str(PurePosixPath(opf_name).parent / href).removeprefix("./")
        image = Image.open(BytesIO(archive.read(name)))
        image.load()
    return image.convert("RGB")


def _write_cover(cover: Image.Image, width: int, folder: Path) -> Path:
    height = round(cover.height * width / cover.width)
    path = folder / f"cover-{width}.png"
    cover.resize((width, height), Image.Resampling.LANCZOS).save(path)
    return path


def _write_thumbnail(cover: Image.Image, folder: Path) -> Path:
    width = round(cover.width * THUMBNAIL_HEIGHT / cover.height)
    path = folder / "kindle-thumbnail.png"
    cover.resize((width, THUMBNAIL_HEIGHT), Image.Resampling.LANCZOS).save(path)
    return path


def _write_pdf(sheets: list[Path], target: Path) -> None:
    """One page per sheet, in order (Pillow writes multi-page PDFs itself)."""
    pages = [Image.open(sheet).convert("RGB") for sheet in sheets]
    pages[0].save(target, save_all=True, append_images=pages[1:])
