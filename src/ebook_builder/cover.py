"""Covers: read `covers/<book-id>.jpg|.png`, or draw a typographic one from the metadata.

Stores ask for a 1600×2560 JPEG (a 1:1.6 ratio); the generated cover uses Pillow's bundled
font so that it comes out the same on every machine.
"""

from __future__ import annotations

import io
import warnings
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont, UnidentifiedImageError

from ebook_builder.errors import BookError
from ebook_builder.model import CoverImage, Metadata
from ebook_builder.sources import PICTURE_LIMIT, read_input

COVER_SIZE = (1600, 2560)
BACKGROUND = (122, 28, 30)
INK = (246, 239, 226)
MARGIN = 160
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


def render_cover(metadata: Metadata) -> bytes:
    """Draw title, subtitle and creators on a plain field, as a 1600×2560 JPEG."""
    image = Image.new("RGB", COVER_SIZE, BACKGROUND)
    draw = ImageDraw.Draw(image)
    width = COVER_SIZE[0] - 2 * MARGIN
    y = _draw_block(draw, metadata.title, 180, width, MARGIN + 260)
    y += 70
    draw.rectangle((MARGIN, y, MARGIN + 360, y + 10), fill=INK)
    y += 110
    if metadata.subtitle:
        _draw_block(draw, metadata.subtitle, 80, width, y)
    authors = " · ".join(metadata.creator_names)
    _draw_block(draw, authors, 64, width, COVER_SIZE[1] - MARGIN - 300)
    out = io.BytesIO()
    image.save(out, "JPEG", quality=90, optimize=True)
    return out.getvalue()


def _draw_block(draw: ImageDraw.ImageDraw, text: str, size: int, width: int, top: int) -> int:
    """Draw `text` wrapped to `width`, shrinking the font until it fits in eight lines."""
    while True:
        font = ImageFont.load_default(size=size)
        lines = _wrap(draw, text, font, width)
        if len(lines) <= 8 or size <= 32:
            break
        size = int(size * 0.85)
    y = top
    for line in lines:
        draw.text((MARGIN, y), line, font=font, fill=INK)
        y += int(size * 1.2)
    return y


def _wrap(
    draw: ImageDraw.ImageDraw, text: str, font: ImageFont.FreeTypeFont, width: int
) -> list[str]:
    lines: list[str] = []
    for word in text.split():
        candidate = f"{lines[-1]} {word}" if lines else word
        if lines and draw.textlength(candidate, font=font) <= width:
            lines[-1] = candidate
        else:
            lines.append(word)
    return lines
