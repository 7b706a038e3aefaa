"""XHTML helpers shared by the convert, validate and write stages.

One safe XML parser for everything the pipeline reads: it never loads a DTD, never expands
an entity, never touches the network, so a hostile chapter cannot read files or blow up
memory through XML (XXE, billion laughs).
"""

from __future__ import annotations

import copy
import re

from lxml import etree

from ebook_builder.model import Heading

XHTML_NS = "http://www.w3.org/1999/xhtml"
EPUB_NS = "http://www.idpf.org/2007/ops"
XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"
EPUB_TYPE = f"{{{EPUB_NS}}}type"
EPUB_PREFIX = f"{{{EPUB_NS}}}prefix"
# The `epub:type` vocabularies of other productions that a content document may use once it
# declares them (`epub:prefix`): the DAISY structural semantics, and Standard Ebooks' own.
TYPE_PREFIXES = {
    "z3998": "http://www.daisy.org/z3998/2012/vocab/structure/",
    "se": "https://standardebooks.org/vocab/1.0",
}
# What a heading holds that is not its title: a note's number, a print page's marker.
NOT_TITLE = {"noteref", "pagebreak"}
NSMAP = {None: XHTML_NS, "epub": EPUB_NS}
MATH = "{http://www.w3.org/1998/Math/MathML}math"
HEADING_TAGS = {f"{{{XHTML_NS}}}h{n}": n for n in range(1, 7)}
HTML_SPACE = re.compile(r"[ \t\n\r\f]+")  # HTML's whitespace; U+00A0 and U+202F are text
_SPACE_RUN = re.compile(" {2,}")
# HTML's bounds of a table cell's spans ("Forming a table": a `colspan` above 1000 is
# 1000, a `rowspan` above 65534 is 65534); writers that lay out the cells count them out.
# HTML's void elements: no content, no end tag.
VOID_TAGS = frozenset(
    {
        "area",
        "base",
        "br",
        "col",
        "embed",
        "hr",
        "img",
        "input",
        "link",
        "meta",
        "source",
        "track",
        "wbr",
    }
)
HTML_MAX_SPAN = {"colspan": 1000, "rowspan": 65534}
HTML_INTEGER = re.compile(r"[ \t\n\f\r]*([-+]?)([0-9]+)")


def safe_parser(keep_pis: bool = False) -> etree.XMLParser:
    """A parser that reads only what it is given.

    `keep_pis`: for a file shipped as it is, whose processing instructions
    (`<?xml-stylesheet?>`) a reader would follow.
    """
    return etree.XMLParser(
        resolve_entities=False,
        load_dtd=False,
        no_network=True,
        dtd_validation=False,
        huge_tree=False,
        remove_comments=True,
        remove_pis=not keep_pis,
    )


def parse_fragment(html: str) -> etree._Element:
    """Parse pandoc's HTML5 body fragment as XHTML and return a namespaced `<body>`.

    Raises `etree.XMLSyntaxError` when the fragment is not well-formed. Being wrapped in
    `<body>`, it cannot carry a DOCTYPE, so no entity beyond XML's five can be declared.
    """
    wrapped = f'<body xmlns="{XHTML_NS}" xmlns:epub="{EPUB_NS}">{html}</body>'
    return etree.fromstring(wrapped.encode("utf-8"), safe_parser())


def tag(name: str) -> str:
    """The Clark name of an XHTML element."""
    return f"{{{XHTML_NS}}}{name}"


def text_of(element: etree._Element) -> str:
    """The element's text with HTML's whitespace folded, as a reader would hear it.

    No-break spaces are text, not whitespace: French puts them inside « » and before ? !
    A formula is heard as its `alttext` (its TeX), not as its tokens and annotation run
    together.
    """
    if next(element.iter(MATH), None) is not None:
        element = copy.deepcopy(element)
        for math in list(element.iter(MATH)):
            stand_in = etree.Element("span")
            stand_in.text, stand_in.tail = math.get("alttext", ""), math.tail
            math.getparent().replace(math, stand_in)
    return fold_space("".join(element.itertext())).strip(" ")


def heading_text(heading: etree._Element) -> str:
    """A heading's title, as contents lists, `<title>` and ids take it: `text_of`, without
    the note references and page-break markers in it ("The Waste Land", not "...Land1")."""
    parts = []

    def visit(element: etree._Element) -> None:
        if element.tag == MATH:  # heard as its TeX, as in `text_of`
            parts.append(element.get("alttext", ""))
            return
        if element.text:
            parts.append(element.text)
        for child in element:
            if isinstance(child.tag, str) and NOT_TITLE.isdisjoint(
                child.get(EPUB_TYPE, "").split()
            ):
                visit(child)
            if child.tail:
                parts.append(child.tail)

    visit(heading)
    return fold_space("".join(parts)).strip(" ")


def fold_space(text: str) -> str:
    """Each run of HTML's whitespace as one space, as `HTML_SPACE` finds them.

    Ten times faster than that expression on pandoc's HTML: pandoc wraps its lines, so most
    text has line breaks to replace but no run of spaces for a regular expression to find.
    """
    text = text.replace("\n", " ").replace("\t", " ").replace("\r", " ").replace("\f", " ")
    return _SPACE_RUN.sub(" ", text) if "  " in text else text


def page_breaks(body: etree._Element) -> list[etree._Element]:
    """The print edition's page-break markers (made by the convert stage), in order."""
    return [e for e in body.iter() if e.get(EPUB_TYPE) == "pagebreak"]


def opened_section(heading: etree._Element) -> etree._Element | None:
    """The `<section>` the heading opens (pandoc's, whose first element it is), if any.

    A heading of raw HTML further down the section (`<h2>` written in a chapter) opens
    none: given the section's id, every such heading would send the contents list to the
    chapter's start (EPUBCheck: RSC-005 "different playOrder values ... same target").
    """
    parent = heading.getparent()
    if parent is None or parent.tag != tag("section"):
        return None
    first = next((child for child in parent if isinstance(child.tag, str)), None)
    return parent if first is heading else None


def heading_entries(body: etree._Element) -> list[Heading]:
    """Headings in document order, each with the id of the section it opens."""
    entries = []
    for element in body.iter(*HEADING_TAGS):
        section = opened_section(element)
        section_id = section.get("id") if section is not None else None
        anchor = element.get("id") or section_id or ""
        entries.append(Heading(HEADING_TAGS[element.tag], heading_text(element), anchor))
    return entries


def document(title: str, language: str, body: etree._Element, stylesheet: str | None) -> bytes:
    """A complete XHTML content document around `body` (which is not modified).

    The `epub:type` prefixes the body uses are declared on `<html>`, where EPUB 3 content
    documents declare them (EPUBCheck: OPF-028 otherwise; the package's `prefix` does not
    serve content documents).
    """
    html = etree.Element(tag("html"), nsmap=NSMAP)
    used = {
        word.partition(":")[0]
        for element in body.iter()
        if isinstance(element.tag, str)
        for word in element.get(EPUB_TYPE, "").split()
    }
    declared = [f"{prefix}: {uri}" for prefix, uri in TYPE_PREFIXES.items() if prefix in used]
    if declared:
        html.set(EPUB_PREFIX, " ".join(declared))
    html.set("lang", language)
    html.set(XML_LANG, language)
    head = etree.SubElement(html, tag("head"))
    etree.SubElement(head, tag("meta"), charset="utf-8")
    etree.SubElement(head, tag("title")).text = title
    if stylesheet:
        etree.SubElement(head, tag("link"), rel="stylesheet", type="text/css", href=stylesheet)
    html.append(copy.deepcopy(body))
    return etree.tostring(html, xml_declaration=True, encoding="utf-8", doctype="<!DOCTYPE html>")


def html_integer(value: str | None, default: int, most: int) -> int:
    """`value` read by HTML's rules for parsing integers (leading whitespace, a sign, ASCII
    digits, anything after them ignored), at most `most`; `default` when it holds none.

    The bound comes first: Python refuses `int()` of more than 4,300 digits.
    """
    match = HTML_INTEGER.match(value or "")
    if match is None:
        return default
    digits = match.group(2).lstrip("0") or "0"
    number = most if len(digits) > len(str(most)) else min(int(digits), most)
    return -number if match.group(1) == "-" else number
