"""The book's stylesheet: its design's rules, then the `@font-face` rules of the book face.

The design's rules are the same in every format; the `@font-face` rules name where each
format keeps the fonts (a file beside the stylesheet in an EPUB, a resource record in a
Kindle book), so they are written per format and appended: `@font-face` may come anywhere
after `@namespace`, which must come first (CSS Namespaces § 3).
"""

from __future__ import annotations

from collections.abc import Callable

from ebook_builder.designs import stylesheet
from ebook_builder.fonts import EmbeddedFont, embedded_fonts, font_face_rules
from ebook_builder.model import ConvertedBook, Metadata, once_per_book


def design_css(meta: Metadata) -> str:
    """The rules of the book's design (`designs.stylesheet`)."""
    return stylesheet(meta.design).decode("utf-8")


@once_per_book
def book_fonts(converted: ConvertedBook) -> tuple[EmbeddedFont, ...]:
    """The fonts the book embeds, made once for every format that carries them."""
    return embedded_fonts(converted, design_css(converted.book.metadata))


def book_css(converted: ConvertedBook, font_url: Callable[[EmbeddedFont], str]) -> bytes:
    """The design's rules and the book face's `@font-face` rules, each font at `font_url`."""
    design = design_css(converted.book.metadata)
    faces = font_face_rules(book_fonts(converted), font_url)
    return f"{design}\n{faces}".encode()
