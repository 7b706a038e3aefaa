"""Covers: read `covers/<book-id>.jpg|.png`, or draw a typographic one from the metadata.

A file in `covers/` always wins; without one, `layout.render_cover` draws the cover of the
book's design in its colours (`palette`), its title's lines balanced (`lines`).
"""

from __future__ import annotations

import io
import warnings
from pathlib import Path

from PIL import Image, UnidentifiedImageError

from ebook_builder.cover.layout import render_cover
from ebook_builder.errors import BookError
from ebook_builder.model import CoverImage, Metadata
from ebook_builder.sources import PICTURE_LIMIT, read_input

COVER_TYPES = {".jpg": "image/jpeg", ".jpeg": "image/jpeg", ".png": "image/png"}
PIL_FORMATS = {"image/jpeg": "JPEG", "image/png": "PNG"}


def cover_path(covers_dir: Path, book_id: str) -> Path | None:
    """The book's cover file, if `covers/` has one (a folder or a FIFO too: reading says why)."""
    for suffix in COVER_TYPES:
        path = covers_dir / f"{book_id}{suffix}"
        if path.exists():
            return path
    return None


def load_cover(covers_dir: Path, book_id: str, metadata: Metadata) -> CoverImage:
    """The cover file checked as a real image of the type its name says, or a generated one."""
    path = cover_path(covers_dir, book_id)
    if path is None:
        return CoverImage(render_cover(metadata), "image/jpeg", generated=True)
    shown = Path(covers_dir.name) / path.name
    # `inside`: as for chapters and pictures, nothing outside the project ships
    data = read_input(path, PICTURE_LIMIT, shown, inside=covers_dir.parent)
    media_type = COVER_TYPES[path.suffix.lower()]
    problem = image_problem(data, media_type)
    if problem:
        raise BookError(problem, path=shown)
    return CoverImage(data, media_type, generated=False)


def image_problem(data: bytes, media_type: str) -> str | None:
    """Why `data` is not a whole image of `media_type`, or None when it is.

    Pillow refuses images far beyond its pixel limit before decoding them, so a tiny file
    claiming 20,000 × 20,000 pixels ends here instead of exhausting memory.
    """
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data)) as image:
                found = image.format
                image.verify()
            with Image.open(io.BytesIO(data)) as image:
                # A JPEG decoded at an eighth of its size still reads every byte of it; a
                # side of fewer than 8 pixels asks for 1, not 0 (a division by zero).
                image.draft(image.mode, (max(1, image.width // 8), max(1, image.height // 8)))
                image.load()
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        return "image is too large to decode safely (a decompression bomb?)"
    except UnidentifiedImageError:
        return "not a readable image"
    except (OSError, SyntaxError, ValueError) as exc:
        return f"not a readable image ({exc})"
    if PIL_FORMATS.get(media_type) not in (None, found):
        return f"file is {found}, but its name says {media_type}"
    return None
