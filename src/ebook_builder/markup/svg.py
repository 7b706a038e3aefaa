"""SVG pictures: what the validate stage refuses in them, and their raster fallback.

The EPUB and the KEPUB carry an SVG picture as it is. Kindles (MOBI 6 cannot draw SVG at
all, and KF8 readers differ in what they draw of it) and Word (which reads SVG only since
Office 2016, and LibreOffice's DOCX import not everywhere) get a PNG drawn from it instead.

The renderer is resvg, through `resvg-py` (MIT; resvg itself Apache-2.0 or MIT). resvg is
the most complete static SVG renderer there is (it passes nearly all of its own suite of
some 1,600 SVG tests, filters, masks and text included, where MuPDF's SVG reader leaves
much out); its wheels bundle the whole Rust renderer with no system library (cairosvg
needs libcairo from the system), are about 1.4 MB (PyMuPDF's are 69 MB) and exist for
Linux, macOS and Windows, so `pip install .` is all a new user needs. Text in a picture is
drawn with the system's fonts, which is what a browser does too.

A picture is checked before any of that (`svg_problem`): an SVG is XML that can carry
scripts, event handlers, `javascript:` links and references to other files or the
network. In an EPUB any of these makes the book "scripted" or "remote-resources" (or
broken, for a file the package lacks), and stores and readers refuse such books.
"""

from __future__ import annotations

import hashlib
import io
import math
import re
from functools import lru_cache

import resvg_py
from lxml import etree
from PIL import Image

from ebook_builder.markup.references import EMBEDDED_IMAGE, browser_url, css_problem, is_active
from ebook_builder.markup.xhtml import safe_parser

SVG_NS = "http://www.w3.org/2000/svg"
SVG = f"{{{SVG_NS}}}svg"
XLINK_HREF = "{http://www.w3.org/1999/xlink}href"
# Elements that run code or embed a document the renderers cannot draw: a Kindle or Word
# would lose what a <foreignObject> holds, without a word.
ACTIVE_ELEMENTS = {"script", "foreignObject", "iframe", "object", "embed", "handler", "listener"}
LINK_SCHEMES = ("http://", "https://", "mailto:")

# The raster fallback. A Kindle screen is 1,072 × 1,448 pixels at 300 ppi (Paperwhite,
# Oasis): a picture is drawn at three times its CSS size (96 px to the inch), the density
# of that screen, and never larger than the screen.
# A document type declaration with an internal subset, where entities are declared. One
# without (Adobe Illustrator writes SVG 1.1's) is harmless: the parser reads no DTD, and
# EPUBCheck accepts it.
INTERNAL_SUBSET = re.compile(rb"<!DOCTYPE[^>\[]*\[", re.IGNORECASE)
KINDLE_SCREEN = (1072, 1448)
RASTER_SCALE = 3.0
CSS_DPI = 96
UNITS = {"": 1.0, "px": 1.0, "pt": 4 / 3, "pc": 16.0, "mm": 96 / 25.4, "cm": 96 / 2.54, "in": 96}
LENGTH = re.compile(r"\s*([0-9]*\.?[0-9]+(?:[eE][-+]?[0-9]+)?)\s*([a-z]*)\s*$")
DEFAULT_SIZE = (300.0, 150.0)  # CSS's size for a replaced element that states none


def svg_problem(data: bytes) -> str | None:
    """Why the SVG picture `data` cannot go into a book, or None when it can."""
    try:
        root = etree.fromstring(data, safe_parser(keep_pis=True))
    except etree.XMLSyntaxError as exc:
        return f"is not well-formed XML ({exc})"
    if INTERNAL_SUBSET.search(data):
        return "declares entities or elements in its DOCTYPE, which a book may not read"
    if root.tag != f"{{{SVG_NS}}}svg":
        return f"is not an SVG picture: its root element is <{etree.QName(root).localname}>"
    if root.xpath("//processing-instruction('xml-stylesheet')"):
        return "names a stylesheet (<?xml-stylesheet?>): a picture must hold all it shows"
    for element in root.iter():
        if not isinstance(element.tag, str):
            continue
        name = etree.QName(element).localname
        if name in ACTIVE_ELEMENTS:
            return f"holds a <{name}> element, which is not allowed in a book"
        if element.get("attributeName", "").endswith("href"):
            return f"animates a link (<{name} attributeName=…href>), which is not allowed"
        for attribute, value in element.attrib.items():
            problem = _attribute_problem(name, etree.QName(attribute).localname, value)
            if problem:
                return problem
        if name == "style" and element.text and (problem := css_problem(element.text)):
            return f"{problem}: a picture must hold all it shows"
    try:
        raster_png(data)
    except ValueError as exc:  # what resvg cannot draw, no Kindle or Word would show
        return f"cannot be drawn ({exc})"
    return None


def _attribute_problem(element: str, attribute: str, value: str) -> str | None:
    if attribute.lower().startswith("on"):
        return f"has an event handler attribute {attribute!r}, which is not allowed in a book"
    lowered = browser_url(value)
    if is_active(value):
        return f"has {attribute}={value[:40]!r}, which is not allowed in a book"
    if attribute == "href":
        if lowered.startswith("#") or EMBEDDED_IMAGE.match(lowered):
            return None
        if element == "a" and lowered.startswith(LINK_SCHEMES):
            return None  # a link the reader may follow, not a file fetched to draw
        return f"refers to {value[:60]!r}: a picture must hold all it shows (use a data: URI)"
    # Presentation attributes (`fill`, `filter`, `mask`…) take CSS values, `url(…)` too;
    # every reference is a function, so a value without "(" (path data) is not tokenised.
    if "(" in value and (problem := css_problem(value)):
        return f"{problem}: a picture must hold all it shows"
    return None


@lru_cache(maxsize=32)
def raster_png(data: bytes) -> bytes:
    """The checked SVG picture `data` drawn as a PNG on white, the same bytes every time.

    White, not transparent: a Kindle in dark mode shows a transparent picture's black
    lines on black. The PNG's resolution (pHYs) is the one it was drawn at, so that Word,
    which sizes a picture by it, shows it at the SVG's own size.
    """
    root = etree.fromstring(data, safe_parser())
    width, height = intrinsic_size(root)
    scale = min(RASTER_SCALE, KINDLE_SCREEN[0] / width, KINDLE_SCREEN[1] / height)
    box = (max(1, round(width * scale)), max(1, round(height * scale)))
    # resvg fits the drawing into the box, keeping its proportions.
    drawn = resvg_py.svg_to_bytes(
        svg_string=etree.tostring(root, encoding="unicode"),
        width=box[0],
        height=box[1],
        dpi=CSS_DPI,  # what an inch is in the picture's units (resvg-py's 0 breaks "in")
        background="white",
    )
    with Image.open(io.BytesIO(drawn)) as picture:
        opaque = picture.convert("RGB")
    out = io.BytesIO()
    dpi = round(CSS_DPI * scale)
    opaque.save(out, "PNG", dpi=(dpi, dpi))
    return out.getvalue()


def inline_pictures(body: etree._Element) -> list[etree._Element]:
    """The SVG pictures written into a chapter's markup (the outermost `<svg>`s), in order."""
    return [
        svg
        for svg in body.iter(SVG)
        if svg.getparent() is None or etree.QName(svg.getparent()).namespace != SVG_NS
    ]


def inline_png(svg: etree._Element) -> tuple[str, bytes, str]:
    """An inline SVG picture as a picture file: its name (from its markup: the same
    drawing, one file), its PNG and its text alternative (`aria-label`, else `<title>`).

    For the formats that cannot draw SVG written in the text: the MOBI 6 text, which
    shows no SVG at all, and Word; the Kindle's KF8 text follows, as for SVG pictures.
    """
    markup = etree.tostring(svg, with_tail=False)
    name = f"svg-{hashlib.sha256(markup).hexdigest()[:16]}.png"
    title = svg.find(f"{{{SVG_NS}}}title")
    label = svg.get("aria-label") or ("".join(title.itertext()) if title is not None else "")
    return name, raster_png(markup), " ".join(label.split())


def intrinsic_size(root: etree._Element) -> tuple[float, float]:
    """The picture's size in CSS pixels: its `width` and `height`, else its viewBox's.

    Read here rather than asked of the renderer, which would first draw the picture at
    that size, however large a hostile file declares it.
    """
    try:
        view_box = [float(n) for n in re.split(r"[\s,]+", root.get("viewBox", "").strip()) if n]
    except ValueError:
        view_box = []
    sizes = view_box[2:] if len(view_box) == 4 else []
    box = (sizes[0], sizes[1]) if sizes and all(0 < n < math.inf for n in sizes) else None
    width, height = _length(root.get("width")), _length(root.get("height"))
    size = box or DEFAULT_SIZE
    if width and height:
        size = (width, height)
    elif box and width:
        size = (width, width * box[1] / box[0])
    elif box and height:
        size = (height * box[0] / box[1], height)
    return size if all(0 < n < math.inf for n in size) else DEFAULT_SIZE


def _length(value: str | None) -> float | None:
    """An absolute SVG length in CSS pixels; None for a percentage, em, or nothing."""
    match = LENGTH.match(value or "")
    if not match or match.group(2) not in UNITS:
        return None
    length = float(match.group(1)) * UNITS[match.group(2)]
    return length if 0 < length < math.inf else None
