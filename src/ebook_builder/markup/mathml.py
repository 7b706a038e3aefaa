"""Formulas: the MathML that pandoc writes, and what each format makes of it.

Pandoc (`--mathml`) writes each TeX formula as a `<math>` element whose `<semantics>`
holds the presentation markup and an `<annotation encoding="application/x-tex">` with the
author's TeX. The EPUB and the KEPUB carry the MathML itself (EPUB 3 content documents
allow it, and the manifest marks those documents `mathml`); the DOCX turns the TeX into
Word equations through pandoc; the Kindle files, which old Kindles cannot draw MathML in,
get a picture of each formula with the TeX as its alternative text.
"""

from __future__ import annotations

import copy
import hashlib
from functools import lru_cache

from lxml import etree

from ebook_builder.markup.svg import intrinsic_size, raster_png
from ebook_builder.markup.xhtml import safe_parser

MATHML_NS = "http://www.w3.org/1998/Math/MathML"
MATH = f"{{{MATHML_NS}}}math"
TEX_ENCODING = "application/x-tex"
FONT_SIZE = 20  # CSS pixels per em of the formula pictures (drawn larger: `svg.raster_png`)


def formulas(body: etree._Element) -> list[etree._Element]:
    """The `<math>` elements of `body`, in document order."""
    return list(body.iter(MATH))


def tex_source(math: etree._Element) -> str:
    """The formula as the author wrote it: pandoc's TeX annotation, else its `alttext`,
    else the text of its tokens."""
    for annotation in math.iter(f"{{{MATHML_NS}}}annotation"):
        if annotation.get("encoding") == TEX_ENCODING and (annotation.text or "").strip():
            return annotation.text.strip()
    return (math.get("alttext") or "".join(math.itertext())).strip()


def add_alttext(body: etree._Element) -> None:
    """Give every formula an `alttext`: its TeX source.

    Screen readers that cannot voice MathML read `alttext` (DAISY Ace and the EPUB
    Accessibility Techniques ask for one); TeX is what the author wrote and what readers of
    mathematics know how to hear.
    """
    for math in formulas(body):
        if not math.get("alttext"):
            math.set("alttext", tex_source(math))


def _presentation(math: etree._Element) -> etree._Element:
    """The formula without its annotations: `<math>` around the presentation markup only."""
    bare = etree.Element(MATH, nsmap={None: MATHML_NS})
    if math.get("display"):
        bare.set("display", math.get("display"))
    semantics = math.find(f"{{{MATHML_NS}}}semantics")
    children = semantics[:1] if semantics is not None else list(math)
    bare.extend(copy.deepcopy(child) for child in children)
    return bare


def picture_href(math: etree._Element) -> str:
    """A name for the formula's picture, made from its markup: the same formula, one picture."""
    digest = hashlib.sha256(etree.tostring(_presentation(math))).hexdigest()[:16]
    return f"math-{digest}.png"


def picture(math: etree._Element) -> tuple[bytes, float]:
    """The formula drawn as a PNG, and its height in ems of the surrounding text."""
    return _render(etree.tostring(_presentation(math), encoding="unicode"))


@lru_cache(maxsize=1024)
def _render(markup: str) -> tuple[bytes, float]:
    """MathML -> SVG with ziamath (pure Python, with its own STIX Two Math font: the same
    picture on every machine), then drawn as SVG pictures are (`svg.raster_png`). Imported
    here: ziamath takes a sixth of a second to load, which a book without formulas never
    pays."""
    import ziamath

    drawing = ziamath.Math(markup, size=FONT_SIZE).svg().encode("utf-8")
    _, height = intrinsic_size(etree.fromstring(drawing, safe_parser()))
    return raster_png(drawing), height / FONT_SIZE
