"""What a chapter or a picture may refer to: no address that runs code, no CSS that reaches
outside the book.

Both are judged as a reading system reads them, not as they are written. A browser reads
`  JaVa&#9;script:` as `javascript:` (the URL standard strips leading and trailing control
characters and spaces and removes tabs and line breaks anywhere; the XML parser has already
replaced the character references), and CSS as tokens: `u\\72l(` is `url(`, a comment may
sit anywhere between tokens, and `@import "x.css"` and `image-set("x.png" 1x)` name files
in plain strings. So CSS is read with tinycss2 (BSD, pure Python, WeasyPrint's
implementation of CSS Syntax Level 3), which tokenises exactly as a browser does; a regular
expression over the text cannot see what the reader will fetch.

An EPUB carries only the files it lists: a stylesheet, a font or a background a chapter's
CSS names is not among them (pictures enter the book through `![…](…)`), so EPUBCheck
fails the book ("remote-resources", or a missing file) and a reader would reach the network
or the reader's own disk. The same holds for every attribute a reader loads a file from
(`LOADED_ATTRIBUTES`) but the one the build packages, `<img src>`.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator

import tinycss2
from tinycss2.ast import Node

ACTIVE_SCHEMES = ("javascript:", "vbscript:", "data:text/html")
# A picture may hold raster images as data URIs: they need no other file.
EMBEDDED_IMAGE = re.compile(r"data:image/(?:png|jpeg|gif|webp)[;,]", re.IGNORECASE)
# The URL standard's "C0 control or space", stripped at both ends, and its "ASCII tab or
# newline", removed everywhere, before the scheme is read.
_EDGES = "".join(chr(c) for c in range(0x21))
_TAB_OR_NEWLINE = re.compile("[\t\n\r]")
# CSS functions whose string arguments are addresses (CSS Images 3 and 4, CSS Fonts 4).
_URL_FUNCTIONS = {"url", "src", "image", "image-set", "-webkit-image-set", "cross-fade"}
# Attributes whose address a reading system loads, by local name, and why a chapter may
# not use them: HTML's (the attributes of its index that take a URL a browser fetches to
# show the page: `<img srcset>`, `<source src srcset>`, `<video src poster>`, `<audio src>`,
# `<track src>`, `<object data>`, `<embed src>`, `<iframe src>`; `ping`, fetched when a
# link is followed; the obsolete `background`, `lowsrc` and `dynsrc`, which browsers still
# load), MathML's (`<math altimg>`, `<mglyph src>`). SVG's `href` is `svg_problem`'s.
# EPUB 3.3 ("Publication resources") wants every file a page loads in the package; audio
# and video alone may stay remote, when the package declares `remote-resources`, which the
# build never writes. The build packages one file per picture, the `src` of `<img>` (what
# `![…](…)` writes), and no sound or video: any other is refused by name, wherever it lies,
# as EPUBCheck would refuse it (a file the package lacks, RSC-007; a remote one, RSC-006).
_PICTURES_ONLY = "a book carries only the pictures of ![…](…) and <img src>"
LOADED_ATTRIBUTES = {
    **dict.fromkeys(
        ("src", "poster", "data", "altimg", "background", "lowsrc", "dynsrc"), _PICTURES_ONLY
    ),
    "srcset": "a picture is one file, given by ![…](…) or <img src>",
    "ping": "a reader would send a request to it when the link is followed",
}


def browser_url(value: str) -> str:
    """`value` as a browser's URL parser sees it before reading the scheme, lower-cased."""
    return _TAB_OR_NEWLINE.sub("", value.strip(_EDGES)).lower()


def is_active(value: str) -> bool:
    """Whether following or loading the address `value` would run code."""
    return browser_url(value).startswith(ACTIVE_SCHEMES)


def css_problem(css: str) -> str | None:
    """What in `css` refers outside the element it styles, or None.

    Only a fragment (`url(#gradient)`, an element of the same document) and an embedded
    raster image (`data:image/png;…`) need no other file; `@import` always does.
    """
    for token in _tokens(tinycss2.parse_component_value_list(css)):
        if token.type == "at-keyword" and token.lower_value == "import":
            return "imports a stylesheet (@import)"
        for target in _addresses(token):
            reference = browser_url(target)
            if not (reference.startswith("#") or EMBEDDED_IMAGE.match(reference)):
                return f"refers to url({target[:60]})"
    return None


def _tokens(nodes: Iterable[Node]) -> Iterator[Node]:
    """Every token, those inside blocks and function arguments too."""
    for node in nodes:
        yield node
        inner = getattr(node, "content", None) or getattr(node, "arguments", None)
        if inner:
            yield from _tokens(inner)


def _addresses(token: Node) -> list[str]:
    """The addresses one token names: a `url(…)` token's, or a URL function's strings."""
    if token.type == "url":
        return [token.value]
    if token.type == "function" and token.lower_name in _URL_FUNCTIONS:
        return [argument.value for argument in token.arguments if argument.type == "string"]
    return []
