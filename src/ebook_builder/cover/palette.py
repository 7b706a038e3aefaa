"""The colours of a generated cover: a field colour per book, and inks that read on it.

A library grid shows covers as thumbnails side by side, so each book gets a field colour of
its own: the metadata's `cover_color`, else a hue derived from the book's identifier (stable:
the same book always gets the same colour). The inks are tints of the field's hue chosen so
that text and field reach WCAG's contrast ratio of 7:1 (success criterion 1.4.6, level AAA),
which keeps the words legible when a store shrinks the cover to a thumbnail.
"""

from __future__ import annotations

import colorsys
import hashlib
import re
from dataclasses import dataclass

RGB = tuple[int, int, int]
# WCAG 2.2, success criterion 1.4.6 (Contrast, Enhanced): 7:1 for text.
CONTRAST = 7.0
HEX_COLOR = re.compile(r"\A#[0-9a-fA-F]{6}\Z")
WHITE: RGB = (255, 255, 255)
BLACK: RGB = (0, 0, 0)
# A derived field: dark (HLS lightness), with enough colour to tell hues apart.
DERIVED_LIGHTNESS = 0.26
DERIVED_SATURATION = (0.35, 0.65)
# The inks first tried: a near-white and a near-black of the field's own hue, which look
# printed rather than pasted on; plain white or black where the tint falls short.
LIGHT_INK = (0.93, 0.45)
DARK_INK = (0.11, 0.45)


@dataclass(frozen=True)
class Scheme:
    """A cover's colours: `field` behind the text, `ink` for text on it; they reach 7:1."""

    field: RGB
    ink: RGB


def scheme(identifier: str, cover_color: str | None) -> Scheme:
    """The book's colours: `cover_color` (checked by `ink_for` at load) or the derived hue."""
    field = parse_hex(cover_color) if cover_color else derived_field(identifier)
    ink = ink_for(field)
    assert ink is not None, "load refuses a cover_color no ink reads on; derived fields are dark"
    return Scheme(field, ink)


def derived_field(identifier: str) -> RGB:
    """A dark field whose hue and saturation come from a hash of the identifier.

    SHA-256 rather than Python's `hash`, which is salted per process: the cover must be
    the same bytes at every build. Hues the eye sees as bright (yellow, green) are
    darkened further, until an ink reaches 7:1 on them.
    """
    digest = hashlib.sha256(identifier.encode("utf-8")).digest()
    hue = int.from_bytes(digest[:2], "big") / 65536
    low, high = DERIVED_SATURATION
    saturation = low + (high - low) * digest[2] / 255
    lightness = DERIVED_LIGHTNESS
    while ink_for(field := _from_hls(hue, lightness, saturation)) is None:
        lightness -= 0.01
    return field


def ink_for(field: RGB) -> RGB | None:
    """The ink for text on `field` that reaches `CONTRAST`, or None if no colour does.

    A field of middling luminance (between about 0.10 and 0.30) has less than 7:1 with
    white and with black alike, so nothing can be set on it legibly.
    """
    hue, _, saturation = colorsys.rgb_to_hls(*_unit(field))
    dark_field = contrast(field, WHITE) >= contrast(field, BLACK)
    tint = _from_hls(hue, *(LIGHT_INK if dark_field else DARK_INK)) if saturation else None
    for ink in (tint, WHITE if dark_field else BLACK):
        if ink is not None and contrast(field, ink) >= CONTRAST:
            return ink
    return None


def usable_neighbours(field: RGB) -> tuple[RGB, RGB]:
    """The nearest darker and lighter colours of the same hue that an ink reads on.

    What an error about an unusable `cover_color` suggests instead. Black and white, the
    ends of each search, always have an ink.
    """
    return _nearest_usable(field, -0.01), _nearest_usable(field, 0.01)


def _nearest_usable(field: RGB, step: float) -> RGB:
    hue, lightness, saturation = colorsys.rgb_to_hls(*_unit(field))
    while ink_for(field) is None:
        lightness = min(1.0, max(0.0, lightness + step))
        field = _from_hls(hue, lightness, saturation)
    return field


def contrast(first: RGB, second: RGB) -> float:
    """WCAG 2.2's contrast ratio of two colours, from 1 (equal) to 21 (black on white)."""
    lighter, darker = sorted((_luminance(first), _luminance(second)), reverse=True)
    return (lighter + 0.05) / (darker + 0.05)


def parse_hex(text: str) -> RGB:
    """`#rrggbb` as its three channels."""
    return (int(text[1:3], 16), int(text[3:5], 16), int(text[5:7], 16))


def hex_color(color: RGB) -> str:
    return "#{:02x}{:02x}{:02x}".format(*color)


def _luminance(color: RGB) -> float:
    """WCAG's relative luminance: sRGB channels made linear, weighted as the eye sees them."""
    linear = [c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in _unit(color)]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def _unit(color: RGB) -> tuple[float, float, float]:
    return (color[0] / 255, color[1] / 255, color[2] / 255)


def _from_hls(hue: float, lightness: float, saturation: float) -> RGB:
    red, green, blue = colorsys.hls_to_rgb(hue, lightness, saturation)
    return (round(red * 255), round(green * 255), round(blue * 255))
