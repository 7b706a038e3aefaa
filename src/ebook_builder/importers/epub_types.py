"""An EPUB's `epub:type` semantics, carried through pandoc into the build's conventions.

Pandoc's EPUB reader keeps `epub:type` only on the elements it gives attributes to (a
`<div>` or `<span>` as classes), and drops it without a word from the rest: a
`<blockquote epub:type="epigraph">`, a `<p epub:type="z3998:signature">`, an `<i
epub:type="se:name.publication.book">`, a heading's `bridgehead`, a `<body>`'s
`backmatter`. So before pandoc reads the spine's documents, each value is carried or
reported (`carry_semantics`):

- on a block pandoc loses it from, by a `<div>` around the block; on a phrase, by a
  `<span>` around it; on a div, span, picture, figure or table, in place; on a heading,
  by a `<span>` around its text (`# [I]{epub:type="z3998:roman"}: Title`: the build
  moves a heading's own attributes onto its section); on a `<section>` or `<article>`
  that opens a chapter, on its heading, where the build reads a chapter's type; on one
  within a chapter, by a `<div>` in its place. The values ride in an attribute of
  their own (`_CARRIER`), which pandoc keeps as a key-value; `as_epub_types` makes it
  the `epub:type` of the Markdown.
- where the build has markup of its own for a value, that markup: an epigraph is
  `::: epigraph` (the build writes its `epub:type` and role), a signature `::: signature`.
- a `<body>`'s partition (`frontmatter`, `backmatter`) becomes a class of the chapter's
  heading, where it disagrees with what the sections' own types imply (SE's
  uncopyright: back matter, though a `copyright-page` alone is front matter), so the
  build files the chapter where the source did.
- every other value is dropped, one report line per value with a count: those `ebook
  check` would refuse or warn of (`semantics.epub_type_problem`, `epub_type_note`), a
  heading's `title` (a heading is its title), a division's type where the build would
  give it no ARIA role (Ace asks for one), and those on an element with no place for
  them (a list item, a `<footer>` holding a heading).

Containers pandoc keeps as raw HTML tags (`<aside>`, `<footer>`, `<article>`…) become
divs where they hold a heading (reported): the build's sections would cut across the
raw tags. Values other passes act on (note references and sections, page breaks, the
title and subtitle in an `<hgroup>`, links) are left as they are, and pages the import
drops (cover, title pages) are not read.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from lxml import etree

from ebook_builder.convert import EPUB_TYPE_ROLES
from ebook_builder.importers.tree import ATTR_AT, Node, attributed
from ebook_builder.markup.semantics import (
    BACK_MATTER,
    FRONT_MATTER,
    PARTITIONS,
    chapter_matter,
    epub_type_note,
    epub_type_problem,
)
from ebook_builder.markup.xhtml import EPUB_TYPE, HEADING_TAGS, XHTML_NS

# The attribute that carries the values through pandoc: its reader keeps a `data-`
# attribute as a key-value without the prefix, and makes an `epub:type` a class.
_CARRIER = "data-imported-epub-type"
_CARRIED_KEY = _CARRIER.removeprefix("data-")
# A property as EPUB 3 writes one (`z3998:poem`, `se:name.vessel.boat`, `epigraph`).
_PROPERTY = re.compile(r"([A-Za-z_][\w.-]*:)?[\w./-]+")
# Blocks pandoc gives no attributes: carried by a `<div>` around them.
_BLOCKS = frozenset(
    [
        "address",
        "aside",
        "blockquote",
        "details",
        "dl",
        "footer",
        "header",
        "hr",
        "main",
        "nav",
        "ol",
        "p",
        "pre",
        "ul",
    ]
)
# Phrases pandoc gives no attributes (an `<i>` is an `Emph`): carried by a `<span>`.
_PHRASES = frozenset(
    [
        "b",
        "bdi",
        "bdo",
        "cite",
        "code",
        "data",
        "del",
        "dfn",
        "em",
        "i",
        "ins",
        "kbd",
        "mark",
        "q",
        "s",
        "samp",
        "small",
        "strong",
        "sub",
        "sup",
        "time",
        "u",
        "var",
    ]
)
# Elements pandoc keeps (as a div, span, figure, picture or table), whose types stay on
# them.
_IN_PLACE = frozenset(["abbr", "div", "figure", "img", "span", "table"])
# Elements whose types other passes read from pandoc's classes (`<a>`'s `noteref`).
_LEFT = frozenset(["a"])
# Containers pandoc's EPUB reader keeps as raw HTML tags around their content.
_RAW = ("address", "article", "aside", "details", "footer", "nav")
# Sectioning elements, whose types belong to the heading they open with.
_SECTIONS = frozenset(["article", "section"])
# The title pages, which the import drops (the build writes its own from the metadata),
# and with the cover page, the pages whose semantics need no word.
TITLE_PAGES = frozenset(["halftitlepage", "titlepage"])
_DROPPED_PAGES = TITLE_PAGES | {"cover"}
# Values other passes act on, wherever they are.
_ACTED_ON = _DROPPED_PAGES | frozenset(
    [
        "backlink",
        "endnote",
        "endnotes",
        "footnote",
        "footnotes",
        "fulltitle",
        "landmarks",
        "noteref",
        "page-list",
        "pagebreak",
        "rearnote",
        "rearnotes",
        "toc",
    ]
)
# Where the build has markup of its own for a value: the classes it styles, and whether
# the `epub:type` is written too (not for an epigraph: the build writes it from the class).
_CONVENTIONS = {"epigraph": (["epigraph"], False), "z3998:signature": (["signature"], True)}
# The types that place a chapter in the front or back matter (`semantics.chapter_matter`).
MATTER = FRONT_MATTER | BACK_MATTER | set(PARTITIONS)


@dataclass
class _Tally:
    """What became of the values, counted for the report's one line per value: carried
    by a new element (by value and how), or dropped (by value and why)."""

    wrapped: Counter[tuple[str, str]] = field(default_factory=Counter)
    dropped: Counter[tuple[str, str]] = field(default_factory=Counter)
    opened: Counter[str] = field(default_factory=Counter)  # raw containers, by tag


def carry_semantics(pages: dict[str, Any], report: list[str]) -> bool:
    """Carry or report every `epub:type` value of the spine's documents (`pages`, parsed
    roots by name, less the navigation document), changing the roots; whether any value
    rides in the carrier, for `as_epub_types` to write back."""
    tally = _Tally()
    carried = False
    for name, root in pages.items():
        body = root.find(f"{{{XHTML_NS}}}body")
        if body is None or _dropped_page(body):
            continue
        _carry_partition(body, name, report)
        first = next(body.iter(*HEADING_TAGS), None)
        chapter_level = HEADING_TAGS[first.tag] if first is not None else None
        for element in list(body.iter()):
            if element.get(EPUB_TYPE) is not None:
                _carry(element, chapter_level, tally)
        _open_raw_containers(body, tally)
        carried = carried or body.find(f".//*[@{_CARRIER}]") is not None
    for (value, how), count in sorted(tally.wrapped.items()):
        report.append(f"epub:type `{value}` carried ({_places(count)}) by a {how}")
    for (value, why), count in sorted(tally.dropped.items()):
        report.append(f"epub:type `{value}` dropped ({_places(count)}): {why}")
    for tag, count in sorted(tally.opened.items()):
        report.append(
            f"a `<{tag}>` holding a heading made a div ({_places(count)}): as pandoc keeps"
            " it, raw HTML, the build's sections would cut across it"
        )
    return carried


def _open_raw_containers(body: Any, tally: _Tally) -> None:
    """The containers pandoc keeps as raw HTML tags around their content (`_RAW`) made
    divs where they hold a heading, whose types have been carried or reported: the
    build's sections, opened at each heading, would cut across the raw tags, so the
    chapter's XHTML would not be well-formed."""
    for element in list(body.iter(*(f"{{{XHTML_NS}}}{tag}" for tag in _RAW))):
        if _ACTED_ON.intersection(element.get(EPUB_TYPE, "").split()):
            continue
        if _holds_heading(element):
            tally.opened[etree.QName(element).localname] += 1
            element.tag = f"{{{XHTML_NS}}}div"
            element.attrib.pop(EPUB_TYPE, None)


def _dropped_page(body: Any) -> bool:
    """A cover or title page, which `epub._documents` drops: the build writes its own."""
    return any(
        _DROPPED_PAGES.intersection(element.get(EPUB_TYPE, "").split()) for element in body.iter()
    )


def as_epub_types(blocks: list[Node]) -> None:
    """The carried values (`_CARRIER`, a key-value in pandoc's tree) made the `epub:type`
    of their element, as the build's Markdown writes it."""
    for node in attributed(blocks):
        for pair in node["c"][ATTR_AT[node["t"]]][2]:
            if pair[0] == _CARRIED_KEY:
                pair[0] = "epub:type"


def _places(count: int) -> str:
    return "1 place" if count == 1 else f"{count} places"


def _carry(element: Any, chapter_level: int | None, tally: _Tally) -> None:
    """Carry or count as dropped the types of one element.
    `chapter_level` is that of the page's first heading (a heading as high opens a
    chapter), None on a page without one."""
    if not isinstance(element.tag, str):
        return
    name = etree.QName(element).localname
    values = element.get(EPUB_TYPE, "").split()
    if name in _LEFT or _ACTED_ON.intersection(values):
        return
    if _hgroup_line(element):
        return
    if name in _SECTIONS:
        _carry_section(element, name, chapter_level, tally)
        return
    if name == "body":
        values = [value for value in values if value not in PARTITIONS]
    kept: list[str] = []
    for value in values:
        why = _refusal(value) or _misplaced(value, element, name)
        if why is None and not _placeable(element, name):
            why = _no_place(name)
        if why is None:
            kept.append(value)
        else:
            tally.dropped[(value, why)] += 1
    if name == "body":  # its partition is `_carry_partition`'s
        return
    _set_carried(element, kept, name, tally)


def _carry_section(element: Any, name: str, chapter_level: int | None, tally: _Tally) -> None:
    """A section's (or an article's) types, by where its heading puts it.

    One that opens a chapter: onto its heading as `epub:type`, since the build moves a
    heading's attributes onto the section it opens. A page's section without a heading
    (a dedication), which `epub._documents` heads with the page's `<title>`: on a div
    around its content. Either way less a `<section>`'s matter types, which
    `epub._open_sections` moves onto the heading as classes; a `chapter` alone the build
    writes itself. A section within a chapter: a div in its place, which pandoc keeps (a
    `<section>` is opened into plain headings, which would leave its type to the heading
    and all that follows it)."""
    kept = []
    # Pandoc keeps an `<article>` as raw HTML, attributes and all: its types go, carried
    # or reported, whatever becomes of them.
    values = element.attrib.pop(EPUB_TYPE) if name == "article" else element.get(EPUB_TYPE)
    for value in values.split():
        why = _refusal(value)
        if why is None:
            kept.append(value)
        else:
            tally.dropped[(value, why)] += 1
    heading = _opening_heading(element)
    opens_chapter = heading is not None and HEADING_TAGS[heading.tag] <= (chapter_level or 0)
    opens_page = (
        chapter_level is None
        and element.getparent() is not None
        and (etree.QName(element.getparent()).localname == "body")
    )
    if opens_chapter or opens_page:
        if name == "section":
            kept = [value for value in kept if value.removeprefix("z3998:") not in MATTER]
        if not set(kept) - {"chapter"}:
            return
        if heading is not None:
            heading.set(_CARRIER, " ".join([*heading.get(_CARRIER, "").split(), *kept]))
        else:
            inner = etree.SubElement(element, f"{{{XHTML_NS}}}div")
            inner.text, element.text = element.text, None
            inner.extend([child for child in element if child is not inner])
            inner.set(_CARRIER, " ".join(kept))
        return
    if chapter_level is not None and any(
        HEADING_TAGS[h.tag] <= chapter_level for h in element.iter(*HEADING_TAGS)
    ):
        for value in kept:
            why = f"on a `<{name}>` holding a chapter's heading after other content"
            tally.dropped[(value, why)] += 1
        return
    if not kept:
        return
    element.tag = f"{{{XHTML_NS}}}div"
    element.attrib.pop(EPUB_TYPE, None)
    _mark(element, kept)
    for value in kept:
        tally.wrapped[(value, f"div in place of its <{name}>, which pandoc keeps")] += 1


def _set_carried(element: Any, kept: list[str], name: str, tally: _Tally) -> None:
    """`kept` as the build's markup on `element`, or on a div or span around it."""
    del element.attrib[EPUB_TYPE]
    if name in _IN_PLACE:
        holder = element
    elif not kept:
        return
    elif element.tag in HEADING_TAGS:  # not on the heading: the build moves a heading's
        holder = _wrap_content(element)  # attributes onto its section, retyping that
        for value in kept:
            tally.wrapped[(value, f"span within its <{name}>, as the heading's text")] += 1
    else:
        holder = _wrap(element, "div" if name in _BLOCKS else "span")
        for value in kept:
            how = f"{holder.tag.rpartition('}')[2]} around its <{name}>, which pandoc keeps"
            tally.wrapped[(value, how)] += 1
    _mark(holder, kept)


def _mark(holder: Any, kept: list[str]) -> None:
    """`kept` on `holder` as the build writes them: the classes of its own markup
    (`_CONVENTIONS`), the other values carried as its `epub:type`."""
    classes: list[str] = []
    types: list[str] = []
    for value in kept:
        convention, typed = _CONVENTIONS.get(value, ([], True))
        classes += convention
        types += [value] if typed else []
    if classes:
        present = holder.get("class", "").split()
        holder.set("class", " ".join(dict.fromkeys([*present, *classes])))
    if types:
        holder.set(_CARRIER, " ".join(types))


def _wrap(element: Any, name: str) -> Any:
    """A new `<name>` in `element`'s place, holding it."""
    holder = etree.Element(f"{{{XHTML_NS}}}{name}")
    holder.tail, element.tail = element.tail, None
    element.addprevious(holder)
    holder.append(element)
    return holder


def _wrap_content(element: Any) -> Any:
    """A new `<span>` holding all `element` holds."""
    holder = etree.Element(f"{{{XHTML_NS}}}span")
    holder.text, element.text = element.text, None
    holder.extend(list(element))
    element.append(holder)
    return holder


def _refusal(value: str) -> str | None:
    """Why `ebook check` would refuse or warn of `value`, shortened for the report; or
    why it is no property name at all (one that Markdown's attribute syntax could not
    hold as written)."""
    if not _PROPERTY.fullmatch(value):
        return "not a property name (prefix:name)"
    if epub_type_problem(value) is not None:
        return "`ebook check` refuses its prefix"
    if epub_type_note(value) is not None:
        return "not in the EPUB Structural Semantics Vocabulary, so reading systems ignore it"
    return None


def _placeable(element: Any, name: str) -> bool:
    """Whether the element's types have a place to go: a block or phrase to wrap (not
    one holding a heading, which the chapter split opens), a div, span or heading."""
    if element.tag in HEADING_TAGS or name in _PHRASES:
        return True
    return (name in _IN_PLACE or name in _BLOCKS) and not _holds_heading(element)


def _no_place(name: str) -> str:
    if name == "hgroup":
        return "an `<hgroup>` becomes one heading (`epub._hgroups`)"
    if name == "body":
        return "the build types each chapter's `<body>` by its partition alone"
    if name in _BLOCKS or name in _IN_PLACE:
        return f"on a `<{name}>` holding a heading, which the chapter split opens"
    return f"pandoc keeps nothing of a `<{name}>`'s attributes"


def _holds_heading(element: Any) -> bool:
    return next(element.iter(*HEADING_TAGS), None) is not None


def _hgroup_line(element: Any) -> bool:
    """A line of an `<hgroup>` that is no heading (its title, its subtitle), which
    `epub._hgroups` makes part of the heading's text."""
    parent = element.getparent()
    return (
        element.tag not in HEADING_TAGS
        and parent is not None
        and etree.QName(parent).localname == "hgroup"
    )


def _misplaced(value: str, element: Any, name: str) -> str | None:
    """Why `value` has no place where it would be carried, or None: a heading's `title`
    says nothing, a `subtitle`'s role (`doc-subtitle`) only a heading takes, and a
    division's type on anything but a div (a phrase, a picture; a heading, whose types a
    span carries) would lack the role Ace asks for: the build gives one to a div only."""
    if element.tag in HEADING_TAGS and value == "title":
        return "a heading is its title"
    if value == "subtitle":
        return "its role, `doc-subtitle`, is a heading's: it belongs in the heading's text"
    division = name == "div" or (name in _BLOCKS and element.tag not in HEADING_TAGS)
    if value in EPUB_TYPE_ROLES and not division:  # a block's are carried by a div
        return f"a division's semantic on a `<{name}>`, where the build gives it no role"
    return None


def _opening_heading(section: Any) -> Any:
    """The heading a section opens with (perhaps in a `<header>` or `<hgroup>`), or None."""
    heading = next(section.iter(*HEADING_TAGS), None)
    if heading is None:
        return None
    around = {section, *heading.iterancestors()}
    first = next(e for e in section.iter() if isinstance(e.tag, str) and e not in around)
    return heading if first is heading else None


def _carry_partition(body: Any, name: str, report: list[str]) -> None:
    """A `<body>`'s partition, where its sections do not imply the same, as a class of the
    chapter's heading, as the build's Markdown marks one (`# Contact {.backmatter}`); on
    a page without a heading, as a type of a section put around its content,
    which `epub._documents` heads and `epub._open_sections` opens, moving the type onto
    the heading as a class. Not on the page's own section: pandoc drops a section typed
    `chapter`, with its types."""
    stated = [v for v in body.get(EPUB_TYPE, "").split() if v in PARTITIONS]
    implied = _implied_partition(body)
    if not stated or stated[0] == implied:
        return
    partition = stated[0]
    heading = next(body.iter(*HEADING_TAGS), None)
    if heading is not None:
        heading.set("class", " ".join([*heading.get("class", "").split(), partition]))
    else:
        section = etree.Element(f"{{{XHTML_NS}}}section")
        section.text, body.text = body.text, None
        section.extend(list(body))
        body.append(section)
        section.set(EPUB_TYPE, partition)
    report.append(
        f"{name} is {partition.removesuffix('matter')} matter, as its <body> says"
        f" (its sections alone would make it {implied.removesuffix('matter')} matter)"
    )


def _implied_partition(body: Any) -> str:
    """The partition the build will give the chapter from its sections' types alone. A
    page without a heading gets one at the start of the section it opens with, from its
    `<title>` (`epub._documents`), so the types around that place count."""
    first = next((e for e in body if isinstance(e.tag, str)), None)
    if _holds_heading(body) or first is None or etree.QName(first).localname != "section":
        return chapter_matter(body)
    probe = etree.Element(f"{{{XHTML_NS}}}h1")
    first.insert(0, probe)
    implied = chapter_matter(body)
    first.remove(probe)
    return implied
