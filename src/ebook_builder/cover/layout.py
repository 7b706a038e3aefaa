"""Drawing a cover from the metadata: the book face, a layout per design, the book's colours.

Stores ask for a 1600×2560 JPEG (a 1:1.6 ratio) and show it as small as 160×256 in their
lists, so every word is set large enough to read there: the title above all, then the
creators. Text is set in the book face (`fonts.face_file`, installed with the package and
drawn by the FreeType that Pillow bundles), so a cover comes out the same bytes on every
machine with the same versions. Each design of `model.DESIGNS` has its own layout:

- classic: centred type inside a ruled frame, a short rule between title and creators;
- modern: big bold type set flush left, and a band of the ink colour at the foot that
  carries the creators in the field colour.
"""

from __future__ import annotations

import io
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache

from PIL import Image, ImageDraw, ImageFont

from ebook_builder.cover.lines import Measure, balanced_lines, breaks_words
from ebook_builder.cover.palette import RGB, Scheme, scheme
from ebook_builder.fonts import face_file
from ebook_builder.model import Metadata

COVER_SIZE = (1600, 2560)
# Each step down tried when text does not fit its box: about a tenth smaller.
SHRINK = 0.92
# The smallest size any text is drawn at, however long: type this small is already
# unreadable in a thumbnail, and smaller would be unreadable at full size too.
SMALLEST = 12


@dataclass(frozen=True)
class TextStyle:
    """How one element is set: a style of the face, its largest size, and the size below
    which it may take more than `max_lines` lines rather than shrink further."""

    face: str
    largest: int
    readable: int
    max_lines: int
    leading: float = 1.15


@dataclass(frozen=True)
class Setting:
    """Text set to fit a box: its lines, the font and the distance between baselines."""

    lines: tuple[str, ...]
    font: ImageFont.FreeTypeFont
    pitch: int

    @property
    def height(self) -> int:
        if not self.lines:
            return 0
        ascent, descent = self.font.getmetrics()
        return ascent + descent + self.pitch * (len(self.lines) - 1)


@dataclass(frozen=True)
class Canvas:
    """The picture being drawn and the book's colours."""

    draw: ImageDraw.ImageDraw
    colours: Scheme


def render_cover(metadata: Metadata) -> bytes:
    """The cover of `metadata.design`, in the book's colours, as a 1600×2560 JPEG."""
    colours = scheme(metadata.identifier, metadata.cover_color)
    image = Image.new("RGB", COVER_SIZE, colours.field)
    LAYOUTS[metadata.design](Canvas(ImageDraw.Draw(image), colours), metadata)
    out = io.BytesIO()
    image.save(out, "JPEG", quality=90, optimize=True)
    return out.getvalue()


def fit(paragraphs: list[str], style: TextStyle, width: int, height: int) -> Setting:
    """`paragraphs` (each begins a line) at the largest size that fits `width` × `height`.

    A size fits when its lines fit the box, break no word and number at most
    `style.max_lines`; below `style.readable` only the box counts, down to `SMALLEST`.
    A smaller size never fits worse, so the sizes, each about a tenth smaller than the
    last, are searched by halves: a 5,000-character title takes a few settings, not thirty.
    """
    sizes = [style.largest]
    while sizes[-1] > SMALLEST:
        sizes.append(max(SMALLEST, int(sizes[-1] * SHRINK)))
    # Most text fits at its largest size; else the smallest is taken even if it does not fit.
    low, high = 0, len(sizes) - 1
    if _fits(paragraphs, style, sizes[0], width, height):
        high = 0
    while low < high:
        middle = (low + high) // 2
        if _fits(paragraphs, style, sizes[middle], width, height):
            high = middle
        else:
            low = middle + 1
    return _set(paragraphs, style, sizes[low], width)


def _fits(paragraphs: list[str], style: TextStyle, size: int, width: int, height: int) -> bool:
    measure = _measure(style.face, size)
    if any(breaks_words(text, measure, width) for text in paragraphs):
        return False
    setting = _set(paragraphs, style, size, width)
    return setting.height <= height and (
        len(setting.lines) <= style.max_lines or size <= style.readable
    )


def _set(paragraphs: list[str], style: TextStyle, size: int, width: int) -> Setting:
    measure = _measure(style.face, size)
    lines = (line for text in paragraphs for line in balanced_lines(text, measure, width))
    return Setting(tuple(lines), _font(style.face, size), round(size * style.leading))


def draw_lines(
    canvas: Canvas, setting: Setting, x: int, top: int, fill: RGB, centred: bool = False
) -> None:
    """Draw `setting` from `top`: flush left at `x`, or `centred` on it."""
    anchor = "ms" if centred else "ls"
    baseline = top + setting.font.getmetrics()[0]
    for line in setting.lines:
        canvas.draw.text((x, baseline), line, font=setting.font, fill=fill, anchor=anchor)
        baseline += setting.pitch


def series_label(metadata: Metadata) -> str | None:
    """The series as a cover shows it: its name, then its position if it has one."""
    if metadata.series is None:
        return None
    position = metadata.series.position
    return f"{metadata.series.name} · {position}" if position else metadata.series.name


def creators_text(metadata: Metadata, style: TextStyle) -> list[str]:
    """The creators, a line each where they fit that style's lines, else one run of names."""
    names = list(metadata.creator_names)
    return names if len(names) <= style.max_lines else [" · ".join(names)]


@dataclass(frozen=True)
class Heading:
    """The title and the subtitle under it, set to share one box; `gap` between them."""

    title: Setting
    subtitle: Setting
    gap: int

    @property
    def height(self) -> int:
        return self.title.height + self.gap + self.subtitle.height

    def draw(self, canvas: Canvas, x: int, top: int, centred: bool) -> None:
        ink = canvas.colours.ink
        draw_lines(canvas, self.title, x, top, ink, centred)
        draw_lines(canvas, self.subtitle, x, top + self.title.height + self.gap, ink, centred)


def set_heading(
    metadata: Metadata, styles: tuple[TextStyle, TextStyle], width: int, height: int
) -> Heading:
    """Title and subtitle in `width` × `height`: the subtitle takes at most a third."""
    title_style, subtitle_style = styles
    subtitle = fit(
        [metadata.subtitle] if metadata.subtitle else [], subtitle_style, width, height // 3
    )
    gap = round(subtitle_style.largest * 0.7) if subtitle.lines else 0
    title = fit([metadata.title], title_style, width, height - subtitle.height - gap)
    return Heading(title, subtitle, gap)


# Phase 1: the classic design — centred, framed, a rule between title and creators.
CLASSIC_FRAME = ((64, 8), (96, 3))  # the two rules' inset from the edge and thickness
CLASSIC_TEXT = (200, 1400)  # the text's left and right edges, inside the frame
CLASSIC_TOP = 250  # where the series, else the title's box, begins
CLASSIC_HEADING_END = 1700  # the title's box ends here; the rule and creators follow
CLASSIC_CREATORS_END = 2240  # where the creators' last line ends
CLASSIC_RULE = (300, 6)  # the rule under the title: width, thickness
CLASSIC_SERIES = TextStyle("italic", 72, 56, 2)
CLASSIC_TITLE = TextStyle("regular", 210, 120, 4, leading=1.1)
CLASSIC_SUBTITLE = TextStyle("italic", 88, 60, 3)
CLASSIC_CREATORS = TextStyle("regular", 120, 84, 4, leading=1.2)


def classic(canvas: Canvas, metadata: Metadata) -> None:
    """Centred type in a double-ruled frame: series, title, subtitle, a rule, creators."""
    ink = canvas.colours.ink
    width, height = COVER_SIZE
    for inset, thickness in CLASSIC_FRAME:
        box = (inset, inset, width - inset, height - inset)
        canvas.draw.rectangle(box, outline=ink, width=thickness)
    left, right = CLASSIC_TEXT
    centre, measure = width // 2, right - left
    top = CLASSIC_TOP
    if label := series_label(metadata):
        series = fit([label], CLASSIC_SERIES, measure, CLASSIC_SERIES.largest * 3)
        draw_lines(canvas, series, centre, top, ink, centred=True)
        top += series.height + CLASSIC_SERIES.largest
    box = CLASSIC_HEADING_END - top
    heading = set_heading(metadata, (CLASSIC_TITLE, CLASSIC_SUBTITLE), measure, box)
    heading_top = top + (box - heading.height) // 2
    heading.draw(canvas, centre, heading_top, centred=True)
    rule_width, rule_thickness = CLASSIC_RULE
    rule_top = heading_top + heading.height + 90
    rule = (centre - rule_width // 2, rule_top, centre + rule_width // 2, rule_top + rule_thickness)
    canvas.draw.rectangle(rule, fill=ink)
    creators_top = rule_top + 120
    text = creators_text(metadata, CLASSIC_CREATORS)
    creators = fit(text, CLASSIC_CREATORS, measure, CLASSIC_CREATORS_END - creators_top)
    top = max(creators_top, CLASSIC_CREATORS_END - creators.height)
    draw_lines(canvas, creators, centre, top, ink, centred=True)


# Phase 2: the modern design — flush left, big bold type, a band of colour at the foot.
MODERN_LEFT = 150
MODERN_MEASURE = 1300
MODERN_BAR = (150, 320, 30)  # the bar over the text: top, width, thickness
MODERN_SERIES_TOP = 240
MODERN_TITLE_TOP = 420  # the title's box begins here at the highest
MODERN_BAND_TOP = 1900  # the band of ink colour from here to the foot, with the creators
MODERN_BAND_PADDING = 100
MODERN_SERIES = TextStyle("regular", 76, 56, 2)
MODERN_TITLE = TextStyle("bold", 260, 130, 5, leading=1.05)
MODERN_SUBTITLE = TextStyle("italic", 92, 60, 3)
MODERN_CREATORS = TextStyle("bold", 132, 90, 3)


def modern(canvas: Canvas, metadata: Metadata) -> None:
    """Flush-left bold type standing on a band of the ink colour that holds the creators."""
    ink, field = canvas.colours.ink, canvas.colours.field
    width, height = COVER_SIZE
    bar_top, bar_width, bar_thickness = MODERN_BAR
    bar = (MODERN_LEFT, bar_top, MODERN_LEFT + bar_width, bar_top + bar_thickness)
    canvas.draw.rectangle(bar, fill=ink)
    top = MODERN_TITLE_TOP
    if label := series_label(metadata):
        series = fit([label], MODERN_SERIES, MODERN_MEASURE, MODERN_SERIES.largest * 3)
        draw_lines(canvas, series, MODERN_LEFT, MODERN_SERIES_TOP, ink)
        top = max(top, MODERN_SERIES_TOP + series.height + MODERN_SERIES.largest)
    bottom = MODERN_BAND_TOP - MODERN_BAND_PADDING
    heading = set_heading(metadata, (MODERN_TITLE, MODERN_SUBTITLE), MODERN_MEASURE, bottom - top)
    heading.draw(canvas, MODERN_LEFT, bottom - heading.height, centred=False)
    canvas.draw.rectangle((0, MODERN_BAND_TOP, width, height), fill=ink)
    band = height - MODERN_BAND_TOP - 2 * MODERN_BAND_PADDING
    text = creators_text(metadata, MODERN_CREATORS)
    creators = fit(text, MODERN_CREATORS, MODERN_MEASURE, band)
    top = MODERN_BAND_TOP + MODERN_BAND_PADDING + (band - creators.height) // 2
    draw_lines(canvas, creators, MODERN_LEFT, top, field)


LAYOUTS: dict[str, Callable[[Canvas, Metadata], None]] = {"classic": classic, "modern": modern}


@lru_cache(maxsize=128)
def _font(face: str, size: int) -> ImageFont.FreeTypeFont:
    """One style of the book face at one size; loaded once per process and size."""
    return ImageFont.truetype(str(face_file(face)), size)


@lru_cache(maxsize=128)
def _measure(face: str, size: int) -> Measure:
    """The advance width of a text in one style and size, each text measured once.

    FreeType lays out each call afresh (tens of microseconds), and setting a title tries
    the same words at several sizes and in several passes.
    """
    return lru_cache(maxsize=4096)(_font(face, size).getlength)
