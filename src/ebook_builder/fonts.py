"""The book face every design sets its text in, subset for each book and embedded in it.

Source Serif Pro (Adobe, SIL Open Font License 1.1), from the PyPI package
`font-source-serif-pro`. Each book carries the styles its stylesheet sets some of its text
in (`face_use`), cut down by HarfBuzz's subsetter to the characters the book shows
(`book_characters`), with the layout features its stylesheet asks for; the EPUB and
Kindle writers share one subset per book (`stylesheet.book_fonts`).

What the licence asks, and what it does not:
- The OFL asks the copyright notice and the licence to travel with the font: each subset
  keeps the face's whole `name` table (copyright, licence and its address, trademark), and
  the EPUB carries the licence's text as well (`licence_text`).
- A subset made for one document is what the OFL-FAQ calls embedding, not a Modified
  Version put out on its own, so it keeps the face's name (the Reserved Font Name
  'Source').
- The OFL does not ask for obfuscation, and nothing else does: the fonts go in plain, as
  `font/ttf` (an EPUB 3.3 core media type), which every reading system reads, while the
  IDPF's and Adobe's obfuscation algorithms are read by some and not others.

A character the face lacks (a script it does not cover) is left out of the subset, and a
reading system shows it in a fallback face of its own.
"""

from __future__ import annotations

import string
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, fields, is_dataclass
from functools import lru_cache
from importlib.resources import as_file, files
from pathlib import Path

import tinycss2
import uharfbuzz as hb
from cssselect import ExpressionError, GenericTranslator, SelectorError, parse
from cssselect.parser import Element
from lxml import etree

from ebook_builder.markup.xhtml import EPUB_NS
from ebook_builder.model import ConvertedBook

FACE_NAME = "Source Serif Pro"
FACE_LICENCE = "SIL Open Font License 1.1"
FACE_FILES = {
    "regular": "SourceSerifPro-Regular.ttf",
    "italic": "SourceSerifPro-It.ttf",
    "bold": "SourceSerifPro-Bold.ttf",
    "bold-italic": "SourceSerifPro-BoldIt.ttf",
}
LICENCE_FILE = "LICENSE.txt"  # as the package ships it
FONT_MEDIA_TYPE = "font/ttf"
# Which style sets text that is italic (first) or bold (second).
STYLES = {
    (False, False): "regular",
    (True, False): "italic",
    (False, True): "bold",
    (True, True): "bold-italic",
}
# What HTML's own stylesheet sets in italic or bold (HTML, "Rendering" § 15.3.4 "Phrasing
# content", § 15.3.6 "Sections and headings", § 15.3.8 "Tables"), unless the design says
# otherwise for the element.
HTML_ITALIC = ("em", "i", "cite", "dfn", "var", "address")
HTML_BOLD = ("b", "strong", "th", "h1", "h2", "h3", "h4", "h5", "h6")
# Characters every book may show beyond its text and metadata: what the writers word
# themselves ("Contents", "Cover: …", page numbers), list numbers and typographic marks.
ALWAYS_SHOWN = string.printable.strip() + " \u00a0‘’“”–—…©•·§¶†‡"
# The `name` table's ids kept (every one the OpenType spec defines, 0-25): copyright,
# licence and its address among them.
NAME_IDS = 26


@dataclass(frozen=True)
class EmbeddedFont:
    """One style of the face, subset for a book: `data` is a TrueType font."""

    style: str
    data: bytes

    @property
    def file_name(self) -> str:
        return FACE_FILES[self.style]

    @property
    def css_weight(self) -> str:
        return "bold" if "bold" in self.style else "normal"

    @property
    def css_style(self) -> str:
        return "italic" if "italic" in self.style else "normal"


@dataclass(frozen=True)
class FaceUse:
    """The styles of the face a book's text is set in, and the OpenType features (beyond
    the subsetter's defaults: kerning, ligatures, marks) its stylesheet asks for."""

    styles: tuple[str, ...]
    features: tuple[str, ...]


@lru_cache(maxsize=len(FACE_FILES))
def face_file(style: str) -> Path:
    """The installed font file of one style of the face (a key of `FACE_FILES`)."""
    with as_file(files("font_source_serif_pro").joinpath("files", FACE_FILES[style])) as path:
        return path


def licence_text() -> bytes:
    """The face's copyright notice and the OFL's text, as the package ships them."""
    return files("font_source_serif_pro").joinpath("files", LICENCE_FILE).read_bytes()


def embedded_fonts(converted: ConvertedBook, css: str) -> tuple[EmbeddedFont, ...]:
    """The fonts a book set with `css` embeds: each style it uses, subset to what it shows."""
    use = face_use(css, text_bodies(converted))
    text = book_characters(converted, css)
    return tuple(EmbeddedFont(style, subset(style, text, use.features)) for style in use.styles)


def text_bodies(converted: ConvertedBook) -> list[etree._Element]:
    """The `<body>` of every document of the book's text: its chapters and the pages made
    from its metadata (title page, imprint, dedication, colophon)."""
    return [document.body for document in converted.documents]


def font_face_rules(fonts: Iterable[EmbeddedFont], url: Callable[[EmbeddedFont], str]) -> str:
    """An `@font-face` rule per font, all of one family, told apart by weight and style."""
    return "".join(
        f'@font-face {{\n  font-family: "{FACE_NAME}";\n'
        f"  font-weight: {font.css_weight};\n  font-style: {font.css_style};\n"
        f"  src: url({url(font)});\n}}\n"
        for font in fonts
    )


# Phase 1: which styles and features the stylesheet sets the book's text in.


def face_use(css: str, bodies: Iterable[etree._Element]) -> FaceUse:
    """The styles some text of `bodies` is set in, and the features asked of its elements.

    An element is italic or bold when a rule of `css` or of HTML's own stylesheet that
    sets it so matches the element or one of its ancestors: a rule that sets it back to
    normal is not weighed, so a style may be embedded that a reader, weighing the
    cascade, would not need, but never left out where it is needed. A selector that
    cannot be matched here (`:hover`) counts as matching.
    """
    rules = _face_rules(css)
    resets = _type_resets(css)
    italic = _compiled(
        [selector for selector, effects in rules if "italic" in effects]
        + [name for name in HTML_ITALIC if name not in resets["italic"]]
    )
    bold = _compiled(
        [selector for selector, effects in rules if "bold" in effects]
        + [name for name in HTML_BOLD if name not in resets["bold"]]
    )
    asked = {feature for _, effects in rules for feature in effects} - {"italic", "bold"}
    feature_rules = {
        feature: _compiled([selector for selector, effects in rules if feature in effects])
        for feature in asked
    }
    styles = {"regular"}
    features: set[str] = set()
    for body in bodies:
        styles |= _styles_of_text(body, _matches(body, italic), _matches(body, bold))
        features |= {feature for feature, paths in feature_rules.items() if _matches(body, paths)}
    return FaceUse(
        tuple(style for style in FACE_FILES if style in styles),
        tuple(sorted(features)),
    )


def _face_rules(css: str) -> list[tuple[str, set[str]]]:
    """Each selector of `css` (in `@media` blocks too) with what its rule sets: `italic`,
    `bold`, and the OpenType features it turns on (`smcp`, `c2sc`, `onum`...)."""
    found = []
    for selector, declarations in _sheet(css):
        effects: set[str] = set()
        for name, words in declarations:
            effects |= _declaration_effects(name, words)
        if effects:
            found += [(part.strip(), effects) for part in selector.split(",")]
    return found


@lru_cache(maxsize=8)
def _sheet(css: str) -> list[tuple[str, list[tuple[str, list[str]]]]]:
    """The style rules of `css`, parsed once for every book set with it."""
    return list(_style_rules(tinycss2.parse_stylesheet(css, True, True)))


def _style_rules(rules: list) -> Iterator[tuple[str, list[tuple[str, list[str]]]]]:
    """(selector list, [(property, its words)]) for each style rule, `@media` opened."""
    for rule in rules:
        if rule.type == "at-rule" and rule.lower_at_keyword in {"media", "supports"}:
            if rule.content is not None:
                yield from _style_rules(tinycss2.parse_rule_list(rule.content, True, True))
        elif rule.type == "qualified-rule":
            declarations = [
                (item.lower_name, _words(item.value))
                for item in tinycss2.parse_declaration_list(rule.content, True, True)
                if item.type == "declaration"
            ]
            yield tinycss2.serialize(rule.prelude).strip(), declarations


def _words(tokens: list) -> list[str]:
    """The identifiers, numbers and strings of a value, in lower case."""
    return [
        str(token.value).lower()
        for token in tokens
        if token.type in {"ident", "string", "number"}
        and not (token.type == "number" and not token.is_integer)
    ]


def _declaration_effects(name: str, words: list[str]) -> set[str]:
    """What one declaration sets: `italic`, `bold`, OpenType features."""
    effects = set()
    if name in {"font-style", "font"} and {"italic", "oblique"} & set(words):
        effects.add("italic")
    if name in {"font-weight", "font"} and any(_is_bold(word) for word in words):
        effects.add("bold")
    if name in {"font-variant", "font-variant-caps", "font"}:
        if "small-caps" in words:
            effects.add("smcp")
        if "all-small-caps" in words:
            effects |= {"smcp", "c2sc"}
    if name in {"font-variant", "font-variant-numeric"} and "oldstyle-nums" in words:
        effects.add("onum")
    if name == "font-feature-settings":
        effects |= {word for word in words if len(word) == 4 and word.isalnum()}
    return effects


def _is_bold(word: str) -> bool:
    """CSS Fonts § 5.2: `bold`, `bolder` and weights of 600 and more take the bold face."""
    return word in {"bold", "bolder"} or (word.isdigit() and int(word) >= 600)


def _type_resets(css: str) -> dict[str, set[str]]:
    """The elements whose italic or bold from HTML's stylesheet a bare type selector of the
    design sets back to normal (`h1 { font-weight: normal }`)."""
    resets: dict[str, set[str]] = {"italic": set(), "bold": set()}
    for selector, declarations in _sheet(css):
        for name, words in declarations:
            for part in selector.split(","):
                element = part.strip().lower()
                if not element.isalnum():
                    continue
                if name == "font-style" and words[:1] == ["normal"]:
                    resets["italic"].add(element)
                if name == "font-weight" and words[:1] and not _is_bold(words[0]):
                    resets["bold"].add(element)
    return resets


class _AnyNamespace(GenericTranslator):
    """Selectors as a reading system matches them in an XHTML document: a type selector
    without a prefix matches the element in any namespace (CSS Namespaces § 5: the
    stylesheet declares no default namespace), and `epub|` is the EPUB namespace."""

    def xpath_element(self, selector: Element):  # type: ignore[no-untyped-def]
        if selector.namespace is None and selector.element:
            selector = Element("*", selector.element)
        return super().xpath_element(selector)


_TRANSLATOR = _AnyNamespace()


def _compiled(selectors: list[str]) -> list[etree.XPath | None]:
    """Each selector as an XPath over a document; None for one that cannot be matched here.

    An element's pseudo-element (`p::first-line`) is set in the element's font, so it
    counts as the element.
    """
    paths: list[etree.XPath | None] = []
    for text in selectors:
        try:
            for selector in parse(text):
                selector.pseudo_element = None
                path = _TRANSLATOR.selector_to_xpath(selector)
                paths.append(etree.XPath(path, namespaces={"epub": EPUB_NS}))
        except (SelectorError, ExpressionError, etree.XPathError):
            paths.append(None)
    return paths


def _matches(body: etree._Element, paths: list[etree.XPath | None]) -> set[etree._Element]:
    """The elements of `body` that any of `paths` matches; a selector that could not be
    compiled matches `body`, and so all its text."""
    matched: set[etree._Element] = set()
    for path in paths:
        matched.update([body] if path is None else path(body))
    return matched


def _styles_of_text(
    body: etree._Element, italic: set[etree._Element], bold: set[etree._Element]
) -> set[str]:
    """The styles of the text in `body`: each element's italic and bold are inherited by
    what it holds; the text after an element (its tail) is in its parent's."""
    styles: set[str] = set()

    def visit(element: etree._Element, in_italic: bool, in_bold: bool) -> None:
        in_italic = in_italic or element in italic
        in_bold = in_bold or element in bold
        if element.text and element.text.strip():
            styles.add(STYLES[in_italic, in_bold])
        for child in element:
            visit(child, in_italic, in_bold)
            if child.tail and child.tail.strip():
                styles.add(STYLES[in_italic, in_bold])

    visit(body, False, False)
    return styles


# Phase 2: the characters the book shows.


def book_characters(converted: ConvertedBook, css: str) -> str:
    """Every character the book may show, sorted: the text of its chapters and matter
    pages, every text of its metadata, what the writers and the stylesheet (`content`)
    add, and each letter's other case (for `text-transform` and small capitals)."""
    shown = set(ALWAYS_SHOWN)
    for body in text_bodies(converted):
        for text in body.itertext():
            shown.update(text)
    for text in _texts(converted.book.metadata):
        shown.update(text)
    for _, declarations in _sheet(css):
        for name, words in declarations:
            if name == "content":
                shown.update("".join(words))
    shown |= {other for char in shown for other in (char.upper(), char.lower()) if len(other) == 1}
    return "".join(sorted(char for char in shown if char.isprintable() or char == "\u00a0"))


def _texts(value: object) -> Iterator[str]:
    """Every string in a metadata value, its fields' and its items' included."""
    if isinstance(value, str):
        yield value
    elif is_dataclass(value) and not isinstance(value, type):
        for item in fields(value):
            yield from _texts(getattr(value, item.name))
    elif isinstance(value, tuple):
        for item in value:
            yield from _texts(item)


# Phase 3: the subset.


def subset(style: str, text: str, features: Iterable[str]) -> bytes:
    """One style of the face cut down to `text`'s characters, with HarfBuzz's default
    layout features (kerning, ligatures, marks) and `features`.

    HarfBuzz's subsetter (hb-subset, the one Chrome and Google Fonts use) makes the same
    tables as fontTools' subsetter, byte for byte in size, in a millisecond where
    fontTools takes 0.1-0.2 s a style reading the kerning table: on a first build that
    was three quarters of the build's time again. The `name` table is kept whole: it
    carries the face's copyright and licence, which the OFL asks to travel with the font.
    HarfBuzz keeps the face's `head` dates, so two builds give the same bytes.
    """
    request = hb.SubsetInput()
    request.unicode_set.update(map(ord, text))
    request.sets(hb.SubsetInputSets.NAME_ID).update(range(NAME_IDS))
    request.sets(hb.SubsetInputSets.LAYOUT_FEATURE_TAG).update(map(_tag, features))
    made = hb.subset(_face(style), request)
    if made is None:
        raise RuntimeError(f"HarfBuzz could not subset {FACE_FILES[style]}")
    return made.blob.data


@lru_cache(maxsize=len(FACE_FILES))
def _face(style: str) -> hb.Face:
    """One style of the face, read once per process."""
    return hb.Face(hb.Blob.from_file_path(str(face_file(style))))


def _tag(feature: str) -> int:
    """An OpenType feature tag (`smcp`) as the number HarfBuzz's sets hold."""
    return int.from_bytes(feature.encode("ascii").ljust(4), "big")
