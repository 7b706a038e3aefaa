"""Which elements and attributes an EPUB 3 chapter may hold, and which values.

EPUBCheck validates a chapter's XHTML against the HTML schema (RSC-005): it refuses an
element HTML does not have (`<center>`, `<font>`, `<P>`: XHTML names are case-sensitive),
an attribute HTML defines but not on that element (`<span target>`, `<td width>`,
`<p align>`), and a value outside an attribute's grammar (`dir="sideways"`). It lets an
attribute name HTML does not define at all pass, as it lets `data-*`.

Markdown reaches these through raw HTML (old web pages and Project Gutenberg's HTML are full
of HTML 4's presentational markup) and through pandoc's attribute syntax, whose HTML writer
keeps any name HTML knows on any element (`[x]{target=_blank}`) and writes only unknown
names as `data-NAME`. The convert stage applies pandoc's own rule to every name the element
does not allow (`allowed`), which is valid on every element and keeps the value; what
cannot be kept validly, an element HTML does not have or a value its attribute refuses,
is a problem the validate stage reports (`element_problem`, `value_problem`).

The tables follow the HTML Living Standard's element index and attribute index
(https://html.spec.whatwg.org/multipage/indices.html), limited to what a chapter may hold:
the elements validate.py refuses whole (scripts, forms, frames, head elements) do not list
their attributes, nor does any element list `form`, which names a form. Where EPUBCheck 5.3
differs from the standard, the table follows EPUBCheck (`<th abbr>`, `<details name>` and
`<area referrerpolicy>` are refused; `<a rev>` too). Every element's attributes were checked
by running EPUBCheck on a chapter that uses them (tests/test_validate.py builds them).
"""

from __future__ import annotations

import re

# HTML's elements (the element index), and the two ruby elements HTML dropped that
# EPUBCheck's schema still accepts.
HTML_ELEMENTS = frozenset(
    [
        "a",
        "abbr",
        "address",
        "area",
        "article",
        "aside",
        "audio",
        "b",
        "base",
        "bdi",
        "bdo",
        "blockquote",
        "body",
        "br",
        "button",
        "canvas",
        "caption",
        "cite",
        "code",
        "col",
        "colgroup",
        "data",
        "datalist",
        "dd",
        "del",
        "details",
        "dfn",
        "dialog",
        "div",
        "dl",
        "dt",
        "em",
        "embed",
        "fieldset",
        "figcaption",
        "figure",
        "footer",
        "form",
        "h1",
        "h2",
        "h3",
        "h4",
        "h5",
        "h6",
        "head",
        "header",
        "hgroup",
        "hr",
        "html",
        "i",
        "iframe",
        "img",
        "input",
        "ins",
        "kbd",
        "label",
        "legend",
        "li",
        "link",
        "main",
        "map",
        "mark",
        "menu",
        "meta",
        "meter",
        "nav",
        "object",
        "ol",
        "optgroup",
        "option",
        "output",
        "p",
        "picture",
        "pre",
        "progress",
        "q",
        "rp",
        "rt",
        "ruby",
        "s",
        "samp",
        "script",
        "search",
        "section",
        "select",
        "slot",
        "small",
        "source",
        "span",
        "strong",
        "style",
        "sub",
        "summary",
        "sup",
        "table",
        "tbody",
        "td",
        "template",
        "textarea",
        "tfoot",
        "th",
        "thead",
        "time",
        "title",
        "tr",
        "track",
        "u",
        "ul",
        "var",
        "video",
        "wbr",
        "rb",
        "rtc",
    ]
)
# The global attributes, allowed on every element: HTML's, and the RDFa attributes
# EPUBCheck's schema adds (EPUB 3 allows RDFa in content documents).
GLOBAL_ATTRIBUTES = frozenset(
    [
        "accesskey",
        "autocapitalize",
        "autofocus",
        "class",
        "contenteditable",
        "dir",
        "draggable",
        "enterkeyhint",
        "hidden",
        "id",
        "inert",
        "inputmode",
        "is",
        "itemid",
        "itemprop",
        "itemref",
        "itemscope",
        "itemtype",
        "lang",
        "nonce",
        "popover",
        "slot",
        "spellcheck",
        "style",
        "tabindex",
        "title",
        "translate",
        "role",
        "about",
        "content",
        "datatype",
        "inlist",
        "prefix",
        "property",
        "rel",
        "resource",
        "rev",
        "typeof",
        "vocab",
    ]
)
GLOBAL_PREFIXES = ("data-", "aria-")
# The exception EPUBCheck makes: RDFa's `rev` is refused on a link, where it was HTML 4's
# own attribute, which HTML dropped.
NOT_GLOBAL_ON = {"a": frozenset({"rev"})}
_CELL = ("colspan", "rowspan", "headers")
_MEDIA = ("src", "crossorigin", "preload", "autoplay", "loop", "muted", "controls")
_LINK = ("href", "target", "download", "ping", "rel", "hreflang", "referrerpolicy")
# Each element's own attributes (HTML's attribute index, by element).
ELEMENT_ATTRIBUTES: dict[str, frozenset[str]] = {
    name: frozenset(attributes)
    for name, attributes in {
        "a": (*_LINK, "type"),
        "area": ("href", "target", "download", "ping", "rel", "hreflang", "alt", "coords", "shape"),
        "audio": _MEDIA,
        "video": (*_MEDIA, "poster", "playsinline", "width", "height"),
        "source": ("src", "type", "srcset", "sizes", "media", "width", "height"),
        "track": ("kind", "src", "srclang", "label", "default"),
        "img": [
            "alt",
            "src",
            "srcset",
            "sizes",
            "crossorigin",
            "usemap",
            "ismap",
            "width",
            "height",
            "referrerpolicy",
            "decoding",
            "loading",
            "fetchpriority",
        ],
        "canvas": ("width", "height"),
        "blockquote": ("cite",),
        "q": ("cite",),
        "del": ("cite", "datetime"),
        "ins": ("cite", "datetime"),
        "time": ("datetime",),
        "data": ("value",),
        "ol": ("reversed", "start", "type"),
        "li": ("value",),
        "td": _CELL,
        "th": (*_CELL, "scope"),
        "col": ("span",),
        "colgroup": ("span",),
        "map": ("name",),
        "details": ("open",),
        "dialog": ("open",),
        "meter": ("value", "min", "max", "low", "high", "optimum"),
        "progress": ("value", "max"),
        "label": ("for",),
        "output": ("for", "name"),
        "fieldset": ("disabled", "name"),
        "slot": ("name",),
    }.items()
}
# HTML: "If the href attribute is absent, then the target, download, ping, rel, hreflang,
# type, and referrerpolicy attributes must be omitted" (and, on <area>, alt).
ONLY_WITH_HREF = {
    "a": frozenset(ELEMENT_ATTRIBUTES["a"] - {"href"}),
    "area": frozenset(ELEMENT_ATTRIBUTES["area"] - {"href", "coords", "shape"}),
}
# HTML 4's `align` on a block or a cell set its text's alignment, which CSS's `text-align`
# now does: the convert stage writes it as that, which readers and the DOCX writer follow.
TEXT_ALIGNED = frozenset(
    ["p", "div", "h1", "h2", "h3", "h4", "h5", "h6", "td", "th", "tr", "thead", "tbody", "tfoot"]
)
TEXT_ALIGNMENTS = frozenset({"left", "right", "center", "justify"})

# The values an attribute may take, where HTML restricts them to a few keywords (which
# HTML reads in any case, but EPUBCheck's schema only as written here).
KEYWORDS: dict[str, frozenset[str]] = {
    name: frozenset(values.split(","))
    for name, values in {
        "dir": "ltr,rtl,auto",
        "translate": ",yes,no",
        "contenteditable": ",true,false,plaintext-only",
        "draggable": "true,false",
        "spellcheck": ",true,false",
        "hidden": ",hidden,until-found",
        "popover": ",auto,manual",
        "scope": "row,col,rowgroup,colgroup",
    }.items()
}
# Boolean attributes: present or absent, written as `""` or as their own name.
BOOLEAN_ATTRIBUTES = frozenset(
    [
        "autofocus",
        "inert",
        "itemscope",
        "reversed",
        "open",
        "ismap",
        "autoplay",
        "loop",
        "muted",
        "controls",
        "default",
        "playsinline",
        "disabled",
    ]
)
# HTML's grammars for the other values EPUBCheck checks: a language tag (its schema takes
# RFC 3066's shape, or ""), an integer, a non-negative integer (a picture's size in CSS
# pixels), an id (no whitespace) and a MIME type.
LANGUAGE_TAG = re.compile(r"(?:[A-Za-z]{1,8}(?:-[A-Za-z0-9]{1,8})*)?")
INTEGER = re.compile(r"[-+]?[0-9]+")
PIXELS = re.compile(r"[0-9]+")
ID = re.compile(r"[^ \t\n\f\r]+")
MIME_TOKEN = r"[A-Za-z0-9!#$&+\-^_.]+"
MIME_TYPE = re.compile(rf"{MIME_TOKEN}/{MIME_TOKEN}(?:[ \t]*;.*)?")
LIST_STYLES = frozenset({"1", "a", "A", "i", "I"})
# HTML's dates and times ("Dates and times") in the forms EPUBCheck's schema accepts: a
# <time>'s `datetime` is a year, a month, a date, a day of any year, a week, a time, a date
# with a time (and a time-zone offset) or a duration (ISO 8601's, or "1H 30M" with
# upper-case units); a <del>'s or an <ins>'s a date, or a date with a time and an offset.
_DATE = r"[0-9]{4,}-(?:0[1-9]|1[0-2])-(?:0[1-9]|[12][0-9]|3[01])"
_TIME = r"(?:[01][0-9]|2[0-3]):[0-5][0-9](?::[0-5][0-9](?:\.[0-9]{1,3})?)?"
_ZONE = r"(?:Z|[+-](?:[01][0-9]|2[0-3]):?[0-5][0-9])"
_SECONDS = r"[0-9]+(?:\.[0-9]{1,3})?S"
_CLOCK = rf"(?=[0-9])(?:[0-9]+H)?(?:[0-9]+M)?(?:{_SECONDS})?(?<=[HMS])"
_DURATION = (
    rf"P[0-9]+D|P(?:[0-9]+D)?T{_CLOCK}|(?: *(?:[0-9]+ *[WDHM]|[0-9]+(?:\.[0-9]{{1,3}})? *S) *)+"
)
DATE_WITH_TIME = re.compile(rf"{_DATE}(?:[T ]{_TIME}{_ZONE})?")
TIME_VALUE = re.compile(
    rf"[0-9]{{4}}|[0-9]{{4,}}-(?:0[1-9]|1[0-2])|{_DATE}(?:[T ]{_TIME}{_ZONE}?)?"
    rf"|(?:--)?(?:0[1-9]|1[0-2])-(?:0[1-9]|[12][0-9]|3[01])"
    rf"|[0-9]{{4,}}-W(?:0[1-9]|[1-4][0-9]|5[0-3])|{_TIME}|{_DURATION}"
)
PATTERNS: dict[str, tuple[re.Pattern[str], str]] = {
    "lang": (LANGUAGE_TAG, "a language tag such as 'en' or 'fr-CA'"),
    "hreflang": (LANGUAGE_TAG, "a language tag such as 'en' or 'fr-CA'"),
    "srclang": (LANGUAGE_TAG, "a language tag such as 'en' or 'fr-CA'"),
    "tabindex": (INTEGER, "an integer"),
    "id": (ID, "a name without spaces"),
}
SIZED = frozenset({"img", "video", "canvas", "source"})


def allowed(element: str, attribute: str, linked: bool = True) -> bool:
    """Whether HTML allows the attribute (lower-case, without a namespace) on the element;
    `linked`: whether the element has an `href`."""
    if attribute in NOT_GLOBAL_ON.get(element, ()):
        return False
    if not linked and attribute in ONLY_WITH_HREF.get(element, ()):
        return False
    return (
        attribute in GLOBAL_ATTRIBUTES
        or attribute.startswith(GLOBAL_PREFIXES)
        or attribute in ELEMENT_ATTRIBUTES.get(element, ())
    )


def element_problem(name: str) -> str | None:
    """Why an element of the XHTML namespace cannot be in a book, if it cannot."""
    if name in HTML_ELEMENTS:
        return None
    if name.lower() in HTML_ELEMENTS:
        return f"<{name}> is not an element of XHTML, whose names are lower case: <{name.lower()}>"
    return (
        f"<{name}> is not an element of HTML (an obsolete or unknown tag): "
        "write its text in a <span> or <div> with a class, and style the class"
    )


def value_problem(element: str, attribute: str, value: str) -> str | None:
    """Why HTML refuses the value of an attribute it allows on the element, if it does."""
    shown = f"{attribute}={value[:40]!r} on <{element}>"
    if attribute in KEYWORDS and value not in KEYWORDS[attribute]:
        choices = ", ".join(repr(v) for v in sorted(KEYWORDS[attribute]) if v)
        return f"{shown} is not valid HTML: the value must be one of {choices}"
    if attribute in BOOLEAN_ATTRIBUTES and value not in ("", attribute):
        return f'{shown} is not valid HTML: write {attribute}="{attribute}" or leave it out'
    if attribute in PATTERNS:
        pattern, wanted = PATTERNS[attribute]
        if not pattern.fullmatch(value):
            return f"{shown} is not valid HTML: the value must be {wanted}"
    if attribute in ("width", "height") and element in SIZED and not PIXELS.fullmatch(value):
        return f"{shown} is not valid HTML: the value must be a number of pixels (or use CSS)"
    if attribute == "type" and element == "ol" and value not in LIST_STYLES:
        return f"{shown} is not valid HTML: the value must be one of 1, a, A, i, I"
    if attribute == "type" and element in ("a", "source") and not MIME_TYPE.fullmatch(value):
        return f"{shown} is not valid HTML: the value must be a media type such as 'text/html'"
    if attribute == "datetime":
        pattern = TIME_VALUE if element == "time" else DATE_WITH_TIME
        if not pattern.fullmatch(value):
            return (
                f"{shown} is not valid HTML: the value must be a date or time such as '2024-05-17'"
            )
    if attribute == "cite" and value.lower().startswith("http:"):
        return f"{shown}: EPUBCheck asks for an https:// address for a source (RSC-031)"
    return None
