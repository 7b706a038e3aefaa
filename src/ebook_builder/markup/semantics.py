"""Semantic markup: which `epub:type` and `role` values a book may carry, and which part of
the book (front, body or back matter) a chapter is.

EPUBCheck checks both attributes, so the validate stage checks them first, with the
Markdown line (the tables below are what EPUBCheck 5.3 accepts, found by running it):

- an `epub:type` prefix must be declared (OPF-028, an error). Reading systems know the
  prefixes in `xhtml.TYPE_PREFIXES`, which `xhtml.document` declares where a chapter uses
  them; `msv:` and `prism:` are reserved for content documents and must not be declared
  again (OPF-007). Any other prefix would need a vocabulary nobody reads: refused.
- an unprefixed value outside the EPUB Structural Semantics Vocabulary means nothing to a
  reading system (OPF-088); it is usually a misspelling, so it is refused.
- a `role` must be one ARIA or DPUB-ARIA role that HTML allows on that element (RSC-005,
  from the HTML schema EPUBCheck validates against); `doc-endnote` and `doc-biblioentry`
  are deprecated (RSC-017, a warning).
"""

from __future__ import annotations

from lxml import etree

from ebook_builder.markup.xhtml import EPUB_TYPE, HEADING_TAGS, TYPE_PREFIXES, XHTML_NS

RESERVED_PREFIXES = ("msv", "prism")
# The EPUB 3 Structural Semantics Vocabulary, as EPUBCheck knows it (deprecated terms too:
# EPUBCheck only notes them).
STRUCTURE_TYPES = frozenset(
    [
        "abstract",
        "acknowledgments",
        "afterword",
        "annoref",
        "annotation",
        "appendix",
        "aside",
        "assessment",
        "backlink",
        "backmatter",
        "biblioentry",
        "bibliography",
        "biblioref",
        "bodymatter",
        "bridgehead",
        "chapter",
        "colophon",
        "concluding-sentence",
        "conclusion",
        "contributors",
        "copyright-page",
        "cover",
        "covertitle",
        "credit",
        "credits",
        "dedication",
        "division",
        "endnote",
        "endnotes",
        "epigraph",
        "epilogue",
        "errata",
        "figure",
        "footnote",
        "footnotes",
        "foreword",
        "frontmatter",
        "fulltitle",
        "glossary",
        "glossdef",
        "glossref",
        "glossterm",
        "halftitle",
        "halftitlepage",
        "help",
        "imprimatur",
        "imprint",
        "index",
        "introduction",
        "keyword",
        "landmarks",
        "learning-objective",
        "learning-resource",
        "list",
        "list-item",
        "loa",
        "loi",
        "lot",
        "lov",
        "marginalia",
        "note",
        "noteref",
        "notice",
        "other-credits",
        "pagebreak",
        "page-list",
        "part",
        "preamble",
        "preface",
        "prologue",
        "pullquote",
        "qna",
        "rearnote",
        "rearnotes",
        "revision-history",
        "sidebar",
        "subchapter",
        "subtitle",
        "table",
        "table-cell",
        "table-row",
        "tip",
        "title",
        "titlepage",
        "toc",
        "topic-sentence",
        "volume",
        "warning",
    ]
)
ROLES = frozenset(
    [
        "alert",
        "alertdialog",
        "application",
        "article",
        "banner",
        "button",
        "cell",
        "checkbox",
        "columnheader",
        "combobox",
        "complementary",
        "contentinfo",
        "definition",
        "dialog",
        "directory",
        "doc-abstract",
        "doc-acknowledgments",
        "doc-afterword",
        "doc-appendix",
        "doc-backlink",
        "doc-bibliography",
        "doc-biblioref",
        "doc-chapter",
        "doc-colophon",
        "doc-conclusion",
        "doc-cover",
        "doc-credit",
        "doc-credits",
        "doc-dedication",
        "doc-endnotes",
        "doc-epigraph",
        "doc-epilogue",
        "doc-errata",
        "doc-example",
        "doc-footnote",
        "doc-foreword",
        "doc-glossary",
        "doc-glossref",
        "doc-index",
        "doc-introduction",
        "doc-noteref",
        "doc-notice",
        "doc-pagebreak",
        "doc-pagelist",
        "doc-part",
        "doc-preface",
        "doc-prologue",
        "doc-pullquote",
        "doc-qna",
        "doc-subtitle",
        "doc-tip",
        "doc-toc",
        "document",
        "feed",
        "figure",
        "form",
        "graphics-document",
        "graphics-object",
        "graphics-symbol",
        "grid",
        "gridcell",
        "group",
        "heading",
        "img",
        "link",
        "list",
        "listbox",
        "listitem",
        "log",
        "main",
        "marquee",
        "math",
        "menu",
        "menubar",
        "menuitem",
        "menuitemcheckbox",
        "menuitemradio",
        "navigation",
        "none",
        "note",
        "option",
        "presentation",
        "progressbar",
        "radio",
        "radiogroup",
        "region",
        "row",
        "rowgroup",
        "rowheader",
        "scrollbar",
        "search",
        "searchbox",
        "separator",
        "slider",
        "spinbutton",
        "status",
        "switch",
        "tab",
        "table",
        "tablist",
        "tabpanel",
        "term",
        "textbox",
        "timer",
        "toolbar",
        "tooltip",
        "tree",
        "treegrid",
        "treeitem",
    ]
)
_HEADING_ROLES = "doc-subtitle heading none presentation tab"
_LIST_ROLES = "directory group list listbox menu menubar none presentation radiogroup tablist"
# Elements that take only some roles (ARIA in HTML); the others take any role in ROLES.
# `a` is keyed by whether it has an `href`.
ELEMENT_ROLES = {
    name: frozenset(roles.split())
    for name, roles in {
        "a[href]": "button checkbox doc-backlink doc-biblioref doc-glossref doc-noteref link "
        "menuitem menuitemcheckbox menuitemradio option radio switch tab treeitem",
        "article": "application article document feed main none presentation region",
        "aside": "complementary doc-dedication doc-example doc-footnote doc-glossary "
        "doc-pullquote doc-tip feed none note presentation region search",
        "br": "none presentation",
        "caption": "",
        "dd": "definition",
        "details": "group",
        "dl": "group list none presentation",
        "dt": "listitem term",
        "figcaption": "group none presentation",
        "footer": "contentinfo doc-footnote group none presentation",
        "header": "banner doc-footnote group none presentation",
        **{f"h{level}": _HEADING_ROLES for level in range(1, 7)},
        "hr": "doc-pagebreak none presentation separator",
        "img": "button checkbox doc-cover img link math menuitem menuitemcheckbox "
        "menuitemradio none option presentation progressbar radio scrollbar separator slider "
        "switch tab treeitem",
        "li": "listitem menuitem menuitemcheckbox menuitemradio none option presentation radio "
        "separator tab treeitem",
        "main": "main",
        "nav": "doc-index doc-pagelist doc-toc menu menubar navigation none presentation tablist",
        "ol": _LIST_ROLES + " toolbar tree",
        "section": "alert alertdialog application banner complementary contentinfo dialog "
        "doc-abstract doc-acknowledgments doc-afterword doc-appendix doc-bibliography "
        "doc-chapter doc-colophon doc-conclusion doc-credit doc-credits doc-dedication "
        "doc-endnotes doc-epigraph doc-epilogue doc-errata doc-example doc-foreword "
        "doc-glossary doc-index doc-introduction doc-notice doc-pagelist doc-part doc-preface "
        "doc-prologue doc-pullquote doc-qna doc-toc document feed group log main marquee "
        "navigation none note presentation region search status tabpanel",
        "ul": _LIST_ROLES + " toolbar tree",
    }.items()
}
DEPRECATED_ROLES = {"doc-endnote": "doc-footnote", "doc-biblioentry": "listitem"}

# The part of the book each division belongs to: reading systems open the book at the first
# body-matter chapter (the "Start" landmark, Kindle's start reading location).
PARTITIONS = ("frontmatter", "bodymatter", "backmatter")
FRONT_MATTER = frozenset(
    [
        "abstract",
        "acknowledgments",
        "contributors",
        "copyright-page",
        "dedication",
        "epigraph",
        "errata",
        "foreword",
        "halftitlepage",
        "imprimatur",
        "imprint",
        "introduction",
        "other-credits",
        "preamble",
        "preface",
        "revision-history",
        "titlepage",
        "toc",
    ]
)
BACK_MATTER = frozenset(
    [
        "afterword",
        "appendix",
        "bibliography",
        "colophon",
        "credits",
        "endnotes",
        "footnotes",
        "glossary",
        "index",
        "loa",
        "loi",
        "lot",
        "lov",
        "rearnotes",
    ]
)


def epub_type_problem(value: str) -> str | None:
    """Why EPUBCheck would fail the book over the `epub:type` token `value`, or None.

    An unprefixed term outside the vocabulary EPUBCheck only notes (OPF-088, "usage"): it
    is a warning (`epub_type_note`), so that a production's own terms do not stop a build.
    """
    prefix, colon, _ = value.partition(":")
    if not colon:
        return None
    known = (*TYPE_PREFIXES, *RESERVED_PREFIXES)
    if prefix in known:
        return None
    listed = ", ".join(f"'{p}:'" for p in known)
    return f"epub:type {value!r} has an unknown prefix: use {listed} or no prefix"


def epub_type_note(value: str) -> str | None:
    """A warning for an unprefixed `epub:type` token outside the vocabulary, or None:
    reading systems ignore it, and it is most often a misspelling."""
    if ":" in value or value in STRUCTURE_TYPES:
        return None
    return (
        f"epub:type {value!r} is not in the EPUB Structural Semantics Vocabulary: reading "
        "systems ignore it; check its spelling, or give it a prefix such as 'z3998:'"
    )


def role_problem(element: etree._Element, value: str) -> str | None:
    """Why EPUBCheck would fault `role=value` on `element`, or None."""
    name = etree.QName(element).localname
    if name == "a" and element.get("href") is not None:
        name = "a[href]"
    roles = value.split()
    if len(roles) != 1:
        return f"role {value!r} must be a single role"
    (role,) = roles
    if role in DEPRECATED_ROLES:
        return f"role {role!r} is deprecated: use {DEPRECATED_ROLES[role]!r}"
    if role not in ROLES:
        return f"role {role!r} is not an ARIA or DPUB-ARIA role"
    if role not in ELEMENT_ROLES.get(name, ROLES):
        return f"role {role!r} is not allowed on <{etree.QName(element).localname}>"
    return None


def chapter_matter(body: etree._Element) -> str:
    """Front, body or back matter: what the chapter's first heading, or a division around
    it, says by class or `epub:type`.

    Markup from other productions wraps the heading (`<section epub:type="colophon">`,
    `::: backmatter`), so the wrappers count, the nearest first; a partition said outright
    wins over one implied by a division's type (`appendix` is back matter).
    """
    heading = next(body.iter(*HEADING_TAGS), None)
    if heading is None:
        return "bodymatter"
    implied = None
    for element in (heading, *heading.iterancestors()):
        if element is body:
            break
        if etree.QName(element).namespace != XHTML_NS:
            continue
        words = [*element.get("class", "").split(), *element.get(EPUB_TYPE, "").split()]
        for word in (w.removeprefix("z3998:") for w in words):
            if word in PARTITIONS:
                return word
            if implied is None and word in FRONT_MATTER:
                implied = "frontmatter"
            elif implied is None and word in BACK_MATTER:
                implied = "backmatter"
    return implied or "bodymatter"
