"""Resource records: the images of a Kindle book, its cover, the cover's thumbnail and
the book face's fonts.

Each image is one record, stored as the file's own bytes (MobileRead wiki, "MOBI" › "Image
Records"); readers recognise JPEG, PNG and GIF by their signatures. The text refers to an
image by its place among the resource records: `kindle:embed:0001` (KF8, 1-based, base 32)
or `recindex="00001"` (MOBI 6, 1-based, decimal). EXTH 201 and 202 give the cover's and
the thumbnail's places, counted from 0.

Kindles cannot show WebP, so WebP pictures are re-encoded as PNG. SVG pictures are drawn
as PNG too (`svg.raster_png`), for both halves of a .mobi and for the .azw3: MOBI 6 cannot
draw SVG at all, and KF8 could hold one as a flow of the text (as KindleGen does) but then
the two halves would need different pictures, and what a KF8 reader draws of an SVG
differs from one Kindle to the next. A picture keeps its alternative text either way.
Formulas, which Kindles do not draw from MathML, and SVG written into the text are PNG
pictures too (`mathml.picture`, `svg.inline_png`), one record per distinct drawing; the
text layers put an `<img>` in their place (`as_pictures`).

A font is a FONT record (MobileRead wiki, "KF8" › "FONT records"): the magic `FONT`, then
five big-endian 32-bit numbers: the font's size unpacked, flags (1: zlib-compressed, 2: the
first 1040 bytes XOR-ed with a key), where the font's data starts, the key's length and
where the key starts; then the data. Ours are compressed and not obfuscated (the OFL does
not ask it: see `fonts`), so no key. KF8's CSS finds a font as it finds an image, by its
place among the resources; MOBI 6 has no fonts, and its readers pass the records by.
"""

from __future__ import annotations

import copy
import io
import struct
import zlib
from dataclasses import dataclass
from functools import lru_cache

from lxml import etree
from PIL import Image

from ebook_builder.markup.mathml import formulas, picture, picture_href, tex_source
from ebook_builder.markup.svg import inline_pictures, inline_png, raster_png
from ebook_builder.markup.xhtml import tag
from ebook_builder.model import ConvertedBook, once_per_book
from ebook_builder.stylesheet import book_fonts

THUMBNAIL_HEIGHT = 330  # the height of the Kindle library's cover thumbnails
# A cover wider than twice its height (a strip) is scaled to that width instead: scaled to
# 330 pixels high, a 10,000 × 1 cover would be a thumbnail of a billion pixels.
THUMBNAIL_WIDTH = 2 * THUMBNAIL_HEIGHT


@dataclass
class Resources:
    """The resource records in order, and where each picture went."""

    records: list[bytes]
    by_href: dict[str, tuple[int, str]]  # image href -> (resource number, media type)
    cover: int
    thumbnail: int
    fonts: dict[str, int]  # style of the book face -> resource number


@once_per_book
def collect(converted: ConvertedBook) -> Resources:
    """The cover first, then the chapters' images and formulas, then the thumbnail."""
    cover = converted.book.cover
    records = [cover.data]
    by_href: dict[str, tuple[int, str]] = {}
    for image in converted.images:
        data = image.source.read_bytes()
        media_type = image.media_type
        if media_type == "image/svg+xml":
            data, media_type = raster_png(data), "image/png"
        elif media_type == "image/webp":
            data, media_type = _as_png(data), "image/png"
        by_href[image.href] = (len(records), media_type)
        records.append(data)
    for chapter in converted.chapters:
        for math in formulas(chapter.body):
            href = picture_href(math)
            if href not in by_href:
                by_href[href] = (len(records), "image/png")
                records.append(picture(math)[0])
        for svg in inline_pictures(chapter.body):
            href, png, _ = inline_png(svg)
            if href not in by_href:
                by_href[href] = (len(records), "image/png")
                records.append(png)
    records.append(thumbnail_jpeg(cover.data))
    thumbnail = len(records) - 1
    fonts = {}
    for font in book_fonts(converted):
        fonts[font.style] = len(records)
        records.append(font_record(font.data))
    return Resources(records, by_href, 0, thumbnail, fonts)


FONT_HEADER = struct.Struct(">4sIIIII")
FONT_ZLIB = 1


def font_record(font: bytes) -> bytes:
    """A FONT record holding `font`, zlib-compressed (at zlib's default level, a fixed one:
    the same bytes on every build)."""
    packed = zlib.compress(font)
    header = FONT_HEADER.pack(b"FONT", len(font), FONT_ZLIB, FONT_HEADER.size, 0, 0)
    return header + packed


def as_pictures(body: etree._Element) -> etree._Element:
    """A copy of `body` with each formula and each inline SVG as an `<img>` of its picture
    (see `collect`). A formula keeps its TeX as alternative text and is sized in ems, so
    that it scales with the reader's font."""
    copied = copy.deepcopy(body)
    for math in formulas(copied):
        _, height = picture(math)
        image = etree.Element(tag("img"), src=picture_href(math), alt=tex_source(math))
        image.set("class", "math-" + ("display" if math.get("display") == "block" else "inline"))
        image.set("style", f"height: {height:.2f}em; vertical-align: middle")
        _replace(math, image)
    for svg in inline_pictures(copied):
        href, _, label = inline_png(svg)
        _replace(svg, etree.Element(tag("img"), src=href, alt=label))
    return copied


def _replace(element: etree._Element, image: etree._Element) -> None:
    image.tail = element.tail
    element.getparent().replace(element, image)


@lru_cache(maxsize=16)
def thumbnail_jpeg(cover: bytes) -> bytes:
    """The cover scaled to `THUMBNAIL_HEIGHT` pixels high (at most `THUMBNAIL_WIDTH`
    wide), as a baseline JPEG (made once per cover: the .azw3, the .mobi and the file
    beside them all carry it).

    The JPEG decoder's draft mode decodes at a reduced scale first, which makes this fast;
    the output depends only on the input bytes, so rebuilds are identical.
    """
    with Image.open(io.BytesIO(cover)) as picture:
        scale = min(THUMBNAIL_HEIGHT / picture.height, THUMBNAIL_WIDTH / picture.width)
        width = max(1, round(picture.width * scale))
        height = max(1, round(picture.height * scale))
        picture.draft("RGB", (width, height))
        if "A" in picture.getbands() or "transparency" in picture.info:
            # JPEG has no transparency: lay the picture on white, as a page shows it.
            rgba = picture.convert("RGBA")
            rgb = Image.new("RGB", rgba.size, "white")
            rgb.paste(rgba, mask=rgba.getchannel("A"))
        else:
            rgb = picture.convert("RGB")
        small = rgb.resize((width, height), Image.Resampling.LANCZOS)
    out = io.BytesIO()
    small.save(out, "JPEG", quality=85, optimize=False, progressive=False)
    return out.getvalue()


def _as_png(data: bytes) -> bytes:
    with Image.open(io.BytesIO(data)) as picture:
        out = io.BytesIO()
        picture.save(out, "PNG")
    return out.getvalue()
