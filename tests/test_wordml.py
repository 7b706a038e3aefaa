"""The Python DOCX writer (`wordml`) against pandoc's: the same tree, the same document.

Both archives are brought to a normal form in which what no reader sees is gone: the
numbers that only tie one place to another (bookmark, footnote, relationship, drawing and
list ids, media file names), whitespace between elements, attribute order and namespace
prefixes. Everything else must agree, and a failure names the part and the paragraph.
"""

from __future__ import annotations

import base64
import copy
import hashlib
import io
import posixpath
import re
import shutil
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from functools import cache
from html import escape
from importlib.resources import files
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from lxml import etree
from PIL import Image

from ebook_builder import api
from ebook_builder.formats import docx, wordml
from ebook_builder.formats.docx_reference import pandoc_docx_parts
from ebook_builder.formats.docx_tree import document_tree
from ebook_builder.xhtml import parse_fragment
from tests.conftest import REPO, SHIPPED_BOOKS
from tests.test_docx_tree import BEYOND_THE_FIXTURE

W_NS = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
R_NS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
WP_NS = "http://schemas.openxmlformats.org/drawingml/2006/wordprocessingDrawing"
PIC_NS = "http://schemas.openxmlformats.org/drawingml/2006/picture"
TYPES_NS = "http://schemas.openxmlformats.org/package/2006/content-types"
RELS_NS = "http://schemas.openxmlformats.org/package/2006/relationships"
PREFIXES = {
    W_NS: "w",
    R_NS: "r",
    WP_NS: "wp",
    PIC_NS: "pic",
    "http://schemas.openxmlformats.org/drawingml/2006/main": "a",
    "http://schemas.openxmlformats.org/officeDocument/2006/math": "m",
    "http://schemas.openxmlformats.org/markup-compatibility/2006": "mc",
    "urn:schemas-microsoft-com:office:office": "o",
    "urn:schemas-microsoft-com:vml": "v",
    "urn:schemas-microsoft-com:office:word": "w10",
    "http://www.w3.org/XML/1998/namespace": "xml",
    "http://schemas.openxmlformats.org/package/2006/metadata/core-properties": "cp",
    "http://purl.org/dc/elements/1.1/": "dc",
    "http://purl.org/dc/terms/": "dcterms",
    "http://www.w3.org/2001/XMLSchema-instance": "xsi",
    "http://schemas.openxmlformats.org/officeDocument/2006/docPropsVTypes": "vt",
}
TEXT_ELEMENTS = {"t", "instrText", "delText", "delInstrText"}  # where whitespace is text
MEDIA = "word/media/"
SPACES = re.compile(r"[ \t\n\r]{2,}")
INVISIBLE = re.compile(r"[^\S ]")  # whitespace but the space, shown as a character reference
PARTS_AS_BYTES = (
    "word/theme/theme1.xml",
    "word/fontTable.xml",
    "word/webSettings.xml",
    "word/footer1.xml",
    "docProps/app.xml",
    "_rels/.rels",
    "word/comments.xml",
)
LINKS_AND_IMAGES = {f"{R_NS}/hyperlink", f"{R_NS}/image"}  # compared where they are used
FIXTURES = REPO / "tests" / "fixtures"
REFERENCE = files("ebook_builder").joinpath("data/reference.docx").read_bytes()
TOUR = "feature-tour"

Canonical = dict[str, str | list[str]]


def w(name: str) -> str:
    return f"{{{W_NS}}}{name}"


# --- pandoc's DOCX, as docx.py writes it ----------------------------------------------


def pandoc_parts(tree: dict[str, Any]) -> dict[str, bytes]:
    """The archive pandoc writes for `tree` with the reference document, by part name."""
    return pandoc_docx_parts(tree, REFERENCE)


# --- the normal form ---------------------------------------------------------------------


def canonical(parts: dict[str, bytes]) -> Canonical:
    """What a reader of the archive sees, by part: two archives that mean the same agree.

    Paragraphs, footnotes, lists and styles are items of lists, so that a difference is
    shown where it is. Bookmark and drawing ids count up in order of appearance in each
    part; footnotes and lists are numbered in order of first use and listed in that order
    (lists with their definition); a relationship id is what it points to: a link's
    target, a picture's content hash and type. Pandoc copies an image's data URI into its
    description, which `docx.finish` empties: it counts as empty here.
    """
    package = _Package(parts)
    document = etree.fromstring(parts["word/document.xml"])
    body = document.find(w("body"))
    _normalize(body, package, "word/document.xml")
    notes = _footnotes(parts, package)
    document.remove(body)
    result: Canonical = {
        "word/document.xml": [_xml(document), *(_xml(child) for child in body)],
        "word/footnotes.xml": notes,
        "word/numbering.xml": package.lists(),
    }
    result["word/styles.xml"] = list(_items(parts.get("word/styles.xml")))
    for name in ("word/settings.xml", "docProps/core.xml", "docProps/custom.xml"):
        result[name] = _whole(parts.get(name))
    result["docProps/core.xml"] = re.sub(  # the time of writing
        r"(<dcterms:(?:created|modified) [^>]*>)[^<]*",
        r"\1(time)",
        str(result["docProps/core.xml"]),
    )
    result["[Content_Types].xml"] = [
        f"{name}: {package.content_type(name)}" for name in sorted(parts) if _in_archive(name)
    ]
    for name in sorted(n for n in parts if n.endswith(".rels") and n != "_rels/.rels"):
        result[name] = package.other_relationships(name)
    result["parts"] = sorted(name for name in parts if not name.startswith(MEDIA))
    result["media"] = sorted({package.media(name) for name in parts if name.startswith(MEDIA)})
    for name in PARTS_AS_BYTES:
        result[name] = parts[name].decode("utf-8") if name in parts else "(missing)"
    for name in sorted(parts):
        if name not in result and not name.startswith(MEDIA) and not name.endswith(".rels"):
            result[name] = _whole(parts[name])
    return result


def assert_same(ours: Canonical, theirs: Canonical) -> None:
    """Equal normal forms, or the first part and item where they differ."""
    for key in dict.fromkeys([*theirs, *ours]):
        mine, pandocs = ours.get(key, "(missing)"), theirs.get(key, "(missing)")
        if isinstance(mine, list) and isinstance(pandocs, list):
            for index, (item, expected) in enumerate(zip(mine, pandocs, strict=False)):
                assert item == expected, f"{key}, item {index} (left: wordml, right: pandoc)"
            extra = mine[len(pandocs) :] or pandocs[len(mine) :]
            assert len(mine) == len(pandocs), (
                f"{key}: {len(mine)} vs pandoc's {len(pandocs)}: {extra}"
            )
        assert mine == pandocs, key


def assert_writes_as_pandoc(tree: dict[str, Any]) -> None:
    assert_same(canonical(wordml.word_parts(tree)), canonical(pandoc_parts(tree)))


class _Renumbering:
    """Labels in order of first appearance: 1, 2, … whatever the numbers were."""

    def __init__(self) -> None:
        self.labels: dict[str, str] = {}

    def __call__(self, value: str) -> str:
        return self.labels.setdefault(value, str(len(self.labels) + 1))


class _Package:
    """The package-wide lookups: content types, relationships, lists, footnote order."""

    def __init__(self, parts: dict[str, bytes]) -> None:
        self.parts = parts
        types = _parse(parts.get("[Content_Types].xml"))
        self.defaults = {
            d.get("Extension", "").lower(): d.get("ContentType")
            for d in types.iter(f"{{{TYPES_NS}}}Default")
        }
        self.overrides = {
            o.get("PartName", "").lstrip("/"): o.get("ContentType")
            for o in types.iter(f"{{{TYPES_NS}}}Override")
        }
        numbering = _parse(parts.get("word/numbering.xml"))
        self.nums = {n.get(w("numId")): n for n in numbering.iter(w("num"))}
        self.abstracts = {a.get(w("abstractNumId")): a for a in numbering.iter(w("abstractNum"))}
        self.list_order = _Renumbering()
        self.note_order = _Renumbering()

    def content_type(self, name: str) -> str:
        extension = posixpath.splitext(name)[1].lstrip(".").lower()
        return self.overrides.get(name) or self.defaults.get(extension) or "(no content type)"

    def media(self, name: str) -> str:
        digest = hashlib.sha256(self.parts[name]).hexdigest()[:16]
        return f"sha256:{digest} {self.content_type(name)}"

    def relationships(self, source: str) -> list[etree._Element]:
        folder, name = posixpath.split(source)
        rels = self.parts.get(posixpath.join(folder, "_rels", f"{name}.rels"))
        return list(_parse(rels).iter(f"{{{RELS_NS}}}Relationship"))

    def target(self, source: str, relationship: etree._Element) -> str:
        """The part a relationship of `source` points to, or its external address."""
        target = relationship.get("Target", "")
        if relationship.get("TargetMode") == "External":
            return f"{target} (External)"
        if target.startswith("/"):
            return target.lstrip("/")
        return posixpath.normpath(posixpath.join(posixpath.dirname(source), target))

    def resolver(self, source: str) -> Callable[[str], str]:
        """A relationship id of `source` -> the kind and what it points to."""
        found = {}
        for relationship in self.relationships(source):
            kind = relationship.get("Type", "").rsplit("/", 1)[-1]
            target = self.target(source, relationship)
            if target.startswith(MEDIA) and target in self.parts:
                target = self.media(target)
            found[relationship.get("Id")] = f"{kind}: {target}"
        return lambda rid: found.get(rid, f"(no relationship {rid})")

    def other_relationships(self, rels: str) -> list[str]:
        """The relationships nothing refers to by id (styles, numbering…), as a set."""
        folder, name = posixpath.split(rels)
        source = posixpath.join(posixpath.dirname(folder), name.removesuffix(".rels"))
        return sorted(
            f"{r.get('Type')} -> {self.target(source, r)}"
            for r in self.relationships(source)
            if r.get("Type") not in LINKS_AND_IMAGES
        )

    def list_label(self, num_id: str) -> str:
        return num_id if num_id == "0" else f"list {self.list_order(num_id)}"

    def lists(self) -> list[str]:
        """Each list used, in order of first use: its levels and its overrides."""
        definitions = []
        for num_id in self.list_order.labels:
            num = self.nums.get(num_id)
            if num is None:
                definitions.append("(undefined)")
                continue
            abstract_id = num.find(w("abstractNumId"))
            key = abstract_id.get(w("val")) if abstract_id is not None else None
            abstract = copy.deepcopy(self.abstracts.get(key, etree.Element(w("abstractNum"))))
            abstract.attrib.pop(w("abstractNumId"), None)
            for nsid in abstract.findall(w("nsid")):
                abstract.remove(nsid)
            overrides = [_whole(etree.tostring(o)) for o in num.findall(w("lvlOverride"))]
            definitions.append("\n".join([_whole(etree.tostring(abstract)), *overrides]))
        return definitions


def _normalize(root: etree._Element, package: _Package, part: str) -> None:
    """Ids as labels, in place: bookmarks and drawings per part, notes and lists package-wide."""
    bookmarks, drawings, pictures = _Renumbering(), _Renumbering(), _Renumbering()
    resolve = package.resolver(part)
    for element in root.iter(etree.Element):
        tag = element.tag
        if tag in (w("bookmarkStart"), w("bookmarkEnd")):
            element.set(w("id"), bookmarks(element.get(w("id"), "")))
        elif tag == w("footnoteReference"):
            element.set(w("id"), package.note_order(element.get(w("id"), "")))
        elif tag == w("numId"):
            element.set(w("val"), package.list_label(element.get(w("val"), "")))
        elif tag == f"{{{WP_NS}}}docPr":
            element.set("id", drawings(element.get("id", "")))
        elif tag == f"{{{PIC_NS}}}cNvPr":
            element.set("id", pictures(element.get("id", "")))
            if element.get("descr", "").startswith("data:"):
                element.set("descr", "")
        for name, value in element.attrib.items():
            if name.startswith(f"{{{R_NS}}}"):
                element.set(name, resolve(value))


def _footnotes(parts: dict[str, bytes], package: _Package) -> list[str]:
    """The real footnotes (not the separators) in order of first reference, ids as labels."""
    if "word/footnotes.xml" not in parts:
        return []
    root = etree.fromstring(parts["word/footnotes.xml"])
    notes = [n for n in root if n.tag == w("footnote") and n.get(w("type"), "normal") == "normal"]
    order = package.note_order.labels
    referenced = sorted(
        (n for n in notes if n.get(w("id")) in order), key=lambda n: int(order[n.get(w("id"))])
    )
    unreferenced = [n for n in notes if n.get(w("id")) not in order]
    for note in referenced:
        note.set(w("id"), order[note.get(w("id"))])
    for note in unreferenced:
        note.set(w("id"), "(unreferenced)")
    holder = etree.Element(w("footnotes"))
    holder.extend(referenced + unreferenced)
    _normalize(holder, package, "word/footnotes.xml")
    return [_xml(note) for note in holder]


def _parse(data: bytes | None) -> etree._Element:
    return etree.fromstring(data) if data is not None else etree.Element("missing")


@cache
def _whole(data: bytes | None) -> str:
    """A part (or an element's bytes) in canonical form: parts repeat from test to test."""
    return _xml(_parse(data))


@cache
def _items(data: bytes | None) -> tuple[str, ...]:
    """The part's root element alone, then each of its children, in canonical form."""
    root = _parse(data)
    return (_xml(etree.Element(root.tag, dict(root.attrib))), *(_xml(child) for child in root))


def _in_archive(name: str) -> bool:
    return not name.startswith(MEDIA) and name != "[Content_Types].xml"


@cache
def _name(clark: str) -> str:
    if not clark.startswith("{"):
        return clark
    uri, local = clark[1:].split("}")
    return f"{PREFIXES[uri]}:{local}" if uri in PREFIXES else clark


def _escaped(text: str) -> str:
    """Markup characters, and any whitespace but the space, made visible."""
    return INVISIBLE.sub(lambda m: f"&#x{ord(m[0]):X};", escape(text, quote=True))


def _xml(element: etree._Element) -> str:
    """The element in a fixed spelling: one element a line, attributes sorted."""
    lines: list[str] = []
    _write(element, 0, lines)
    return "\n".join(lines)


def _write(element: etree._Element, depth: int, lines: list[str]) -> None:
    pad = "  " * depth
    name = _name(element.tag)
    # Pandoc indents a line break in an attribute (a caption's code): spaces there are
    # not text anyone reads, so a run of them counts as one.
    attributes = sorted((_name(k), SPACES.sub(" ", v)) for k, v in element.attrib.items())
    start = pad + "<" + name + "".join(f' {key}="{_escaped(v)}"' for key, v in attributes)
    keep_space = etree.QName(element).localname in TEXT_ELEMENTS
    text = _text(element.text, keep_space)
    children = list(element)
    if not children:
        lines.append(f"{start}>{text}</{name}>" if text else f"{start}/>")
        return
    lines.append(f"{start}>{text}")
    for child in children:
        if isinstance(child.tag, str):
            _write(child, depth + 1, lines)
        tail = _text(child.tail, keep_space)
        if tail:
            lines.append(f"{pad}  {tail}")
    lines.append(f"{pad}</{name}>")


def _text(text: str | None, keep_space: bool) -> str:
    if not text or (not keep_space and not text.strip()):
        return ""
    return _escaped(text)


# --- the books ---------------------------------------------------------------------------


def book_tree(root: Path, book_id: str) -> dict[str, Any]:
    """The tree `docx.render_docx` gives pandoc for the book."""
    (converted,) = api.check(root, [book_id])
    return document_tree(
        docx.pandoc_input(converted),
        converted.book.metadata.language,
        docx._image_data(converted),
    )


@pytest.fixture(scope="module")
def typography_project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("typography") / "project"
    shutil.copytree(FIXTURES / "typography", root)
    return root


@pytest.mark.parametrize("book_id", [*SHIPPED_BOOKS, TOUR])
def test_the_books_are_written_as_pandoc_writes_them(fixture_project: Path, book_id: str):
    root = fixture_project if book_id == TOUR else REPO
    assert_writes_as_pandoc(book_tree(root, book_id))


@pytest.mark.parametrize("book_id", ["typography-fr", "typography-de"])
def test_the_language_goes_where_pandoc_puts_it(typography_project: Path, book_id: str):
    """The document's language sets the default run language in styles.xml; spans in
    another language (the French book has English) get their own."""
    assert_writes_as_pandoc(book_tree(typography_project, book_id))


# --- markup, by theme --------------------------------------------------------------------


def _picture(size: tuple[int, int], color: str, kind: str, **options: Any) -> str:
    out = io.BytesIO()
    Image.new("RGB", size, color).save(out, kind, **options)
    return _data(out.getvalue(), f"image/{kind.lower()}")


def _data(data: bytes, media_type: str) -> str:
    return f"data:{media_type};base64,{base64.b64encode(data).decode('ascii')}"


IMAGES = {"x.png": _picture((3, 2), "red", "PNG"), "y.jpg": _picture((2, 4), "blue", "JPEG")}
NOTE_REF = '<a href="#{0}" epub:type="noteref"><sup>{1}</sup></a>'
NOTE = '<aside id="{0}" epub:type="footnote">{1}</aside>'
BACK_LINK = '<a href="#r{0}" role="doc-backlink">↩</a>'

MARKUP = {
    "beyond the fixture": BEYOND_THE_FIXTURE,
    "inline": (
        "<p> Leading space, <em>em <strong>strong <code>code</code></strong></em>,"
        ' <code>a  b</code>, <span lang="fr">en français</span>,'
        ' <span xml:lang="de">auf Deutsch</span>, <span dir="rtl">שלום</span>,'
        " <i>i</i> <b>b</b> <del>del</del> <ins>ins</ins> <mark>mark</mark>"
        " <cite>cite</cite> <var>v</var> <samp>samp</samp>, no\u00a0break, trailing </p>"
        "<p>x<sup>a<sub>b</sub></sup> <q>outer <q>inner</q></q> <br/>after</p>"
    ),
    "blocks": (
        "<hr/><p></p><p>   </p><p>after empties</p>"
        "<blockquote><h2>Header in a quote</h2><p>quoted</p><hr/>"
        "<blockquote><p>nested</p></blockquote></blockquote>"
        '<pre class="python"><code class="python">print("x")\n\n  indented</code></pre>'
        '<div lang="fr" dir="rtl"><p>Une division.</p></div>'
        '<div xml:lang="de"><p>Deutsch.</p></div>'
        '<div data-custom-style="Signature"><p>One</p><p>Two</p></div>'
        '<div class="line-block">  first <em>line</em><br/>second<br/><br/>fourth</div>'
        "<h3>Three</h3><h4>Four</h4><h5>Five</h5><h6>Six</h6>"
        "<dl><dt>One</dt><dd>plain</dd><dd><p>two</p><p>paragraphs</p></dd>"
        "<dt>Two</dt><dt>Three</dt><dd><ul><li>listed</li></ul></dd></dl>"
    ),
    "lists": (
        "<ul><li>outer<ol><li>middle<ul><li>inner</li><li>inner two</li></ul></li>"
        "<li>middle two</li></ol></li><li>outer two</li></ul>"
        "<ul><li><p>loose, first paragraph</p><p>second paragraph</p></li>"
        "<li><p>loose two</p></li></ul>"
        '<ol start="7" type="I"><li>seven</li><li>eight</li></ol>'
        '<ol type="i"><li>i</li></ol><ol type="A"><li>A</li></ol><ol type="1"><li>1</li></ol>'
        "<ol><li>a new list</li></ol><ol><li>and another</li></ol>"
        "<ul><li></li><li><blockquote><p>quoted in a list</p></blockquote></li></ul>"
    ),
    "tables": (
        "<table><thead><tr><th>H1</th><th>H2</th><th>H3</th></tr></thead>"
        '<tbody><tr><td rowspan="2">tall</td><td colspan="2">wide</td></tr>'
        '<tr><td>b</td><td style="text-align: left;">c</td></tr></tbody>'
        "<tfoot><tr><td>f1</td><td>f2</td><td>f3</td></tr></tfoot></table>"
        "<table><tr><td>no head</td><td><p>two</p><p>paras</p></td></tr>"
        "<tr><td><ul><li>listed</li></ul></td><td></td></tr></table>"
        '<table><caption><p>A <em>caption</em></p></caption><tbody><tr><td align="center">'
        "x</td></tr></tbody></table>"
    ),
    "images": (
        '<p><img src="x.png" alt="no size"/> and <img src="y.jpg" alt="sized"'
        ' width="120" height="60"/> <img src="x.png" alt="inches" width="1.5in"/>'
        ' <img src="x.png" alt="" title="titled" style="width: 50%"/></p>'
        '<figure id="fig"><img src="y.jpg" alt="figure"/><figcaption>The <em>caption'
        "</em></figcaption></figure>"
        '<figure><p><img src="x.png" alt="uncaptioned"/></p></figure>'
        '<p><a href="https://example.org/"><img src="x.png" alt="linked"/></a></p>'
    ),
    "links and bookmarks": (
        '<section id="sec"><h1 id="top">Top</h1>'
        '<p>A <a href="https://example.org/a?b=1&amp;c=2" title="A title">titled link</a>,'
        ' a <a href="mailto:me@example.org">mail</a>, the same <a href="https://example.org/">'
        'twice</a> <a href="https://example.org/">here</a>, <a href="#sec">back</a>,'
        ' <a href="#target">forward</a>, <a href="#missing">nowhere</a>,'
        ' <a href="#top"><em>emphasised</em></a>.</p>'
        '<div id="box"><p>In a <span id="target">span with an id</span>.</p></div>'
        '<h2 id="sub" class="backmatter">Sub</h2><p id="para">Para with an id.</p>'
        '<section id="inner"><h3>Inner</h3><p>text</p></section></section>'
    ),
    "notes": (
        "<p>One"
        + NOTE_REF.format("n1", 1)
        + " and two"
        + NOTE_REF.format("n2", 2)
        + ".</p><ul><li>In a list"
        + NOTE_REF.format("n3", 3)
        + "</li></ul><table><tr><td>In a table"
        + NOTE_REF.format("n4", 4)
        + "</td></tr></table>"
        + NOTE.format("n2", "<p>Second, <em>emphasised</em>. " + BACK_LINK.format(2) + "</p>")
        + NOTE.format(
            "n1",
            '<p>First, with <a href="https://example.org/note">a link</a>.</p>'
            "<ul><li>a list</li><li>in a note</li></ul><ol><li>numbered</li></ol>"
            "<blockquote><p>quoted</p></blockquote>" + BACK_LINK.format(1),
        )
        + NOTE.format("n3", "Bare text in a note " + BACK_LINK.format(3))
        + NOTE.format("n4", '<p>With a <a href="#n1">link</a> and <code>code</code>.</p>')
    ),
}


@pytest.mark.parametrize("theme", MARKUP)
def test_markup_is_written_as_pandoc_writes_it(theme: str):
    assert_writes_as_pandoc(document_tree([parse_fragment(MARKUP[theme])], "en", IMAGES))


def test_bodies_and_languages_are_written_as_pandoc_writes_them():
    """Several bodies make one document; a region subtag is kept."""
    bodies = [parse_fragment(MARKUP["lists"]), parse_fragment(MARKUP["notes"])]
    assert_writes_as_pandoc(document_tree(bodies, "pt-BR", IMAGES))


# --- random documents --------------------------------------------------------------------

CHARACTERS = st.sampled_from(
    [
        *"abcXYZ019 ",
        *"  .,;:!?'\"()-–—…",
        *"éßøçÆ日本ФёשاΩ",
        "\u00a0",
        "\u202f",
        "\t",
        "\n",
        "&",
        "<",
    ]
)
TEXTS = st.text(CHARACTERS, max_size=14)
MAX_DEPTH = 3


@dataclass
class _Drawing:
    """What one document being drawn has given out: ids and notes."""

    draw: Callable[[st.SearchStrategy[Any]], Any]
    ids: int = 0
    notes: list[str] = field(default_factory=list)
    in_note: bool = False

    def pick(self, choices: Iterable[Any]) -> Any:
        return self.draw(st.sampled_from(list(choices)))

    def text(self) -> str:
        return escape(self.draw(TEXTS), quote=False)

    def id(self) -> str:
        if not self.draw(st.booleans()):
            return ""
        self.ids += 1
        return f' id="id{self.ids}"'

    def attributes(self) -> str:
        lang = self.pick(["", ' lang="fr"', ' xml:lang="de-CH"', ' lang="ar" dir="rtl"'])
        return self.id() + lang

    def inlines(self, depth: int) -> str:
        count = self.draw(st.integers(0, 4))
        return "".join(self.inline(depth) for _ in range(count)) + self.text()

    def inline(self, depth: int) -> str:
        kinds = ["text", "br", "code", "img"]
        if depth < MAX_DEPTH:
            kinds += ["em", "strong", "sub", "sup", "s", "u", "kbd", "abbr", "q", "span"]
            kinds += ["smallcaps", "link", "anchor"]
            if not self.in_note:
                kinds.append("note")
        kind = self.pick(kinds)
        if kind == "text":
            return self.text()
        if kind == "br":
            return "<br/>"
        if kind == "code":
            return f"<code>{self.text()}</code>"
        if kind == "img":
            size = self.pick(["", ' width="40" height="20"', ' width="2in"', ' height="30"'])
            return f'<img src="{self.pick(IMAGES)}" alt="{escape(self.draw(TEXTS))}"{size}/>'
        if kind == "note":
            return self.note()
        if kind == "span":
            start, end = f"<span{self.attributes()}>", "</span>"
        elif kind == "smallcaps":
            start, end = '<span class="smallcaps">', "</span>"
        elif kind == "link":
            title = self.pick(["", ' title="T"'])
            href = self.pick(["https://example.org/", "https://example.org/x", "mailto:a@b.c"])
            start, end = f'<a href="{href}"{title}>', "</a>"
        elif kind == "anchor":
            start, end = f'<a href="#id{self.draw(st.integers(1, 4))}">', "</a>"
        else:
            start, end = f"<{kind}>", f"</{kind}>"
        return start + self.inlines(depth + 1) + end

    def note(self) -> str:
        number = len(self.notes) + 1
        self.in_note = True
        content = self.blocks(MAX_DEPTH - 1) if self.draw(st.booleans()) else self.inlines(1)
        self.in_note = False
        self.notes.append(NOTE.format(f"n{number}", content + BACK_LINK.format(number)))
        return NOTE_REF.format(f"n{number}", number)

    def blocks(self, depth: int) -> str:
        count = self.draw(st.integers(1, 3))
        return "".join(self.block(depth) for _ in range(count))

    def block(self, depth: int) -> str:
        kinds = ["p", "p", "p", "h", "pre", "hr", "line-block", "empty"]
        if depth < MAX_DEPTH:
            kinds += ["blockquote", "ul", "ol", "dl", "div", "section", "table", "figure"]
        kind = self.pick(kinds)
        if kind == "p":
            return f"<p{self.id()}>{self.inlines(0)}</p>"
        if kind == "h":
            level = self.draw(st.integers(1, 6))
            return f"<h{level}{self.id()}>{self.inlines(1)}</h{level}>"
        if kind == "pre":
            language = self.pick(["", ' class="python"'])
            return f"<pre><code{language}>{self.text()}\n{self.text()}</code></pre>"
        if kind == "hr":
            return "<hr/>"
        if kind == "line-block":
            return f'<div class="line-block">{self.inlines(1)}<br/>{self.inlines(1)}</div>'
        if kind == "empty":
            return "<p></p>"
        if kind == "blockquote":
            return f"<blockquote>{self.blocks(depth + 1)}</blockquote>"
        if kind == "ul":
            return f"<ul>{self.items(depth)}</ul>"
        if kind == "ol":
            start = self.pick(["", ' start="4"', ' type="a"', ' type="I" start="2"'])
            return f"<ol{start}>{self.items(depth)}</ol>"
        if kind == "dl":
            return f"<dl><dt>{self.inlines(1)}</dt><dd>{self.blocks(depth + 1)}</dd></dl>"
        if kind == "div":
            style = self.pick(
                ["", ' data-custom-style="Epigraph"', ' data-custom-style="Signature"']
            )
            return f"<div{self.attributes()}{style}>{self.blocks(depth + 1)}</div>"
        if kind == "section":
            return f"<section{self.id()}>{self.blocks(depth + 1)}</section>"
        if kind == "table":
            return self.table(depth)
        caption = f"<figcaption>{self.inlines(1)}</figcaption>" if self.draw(st.booleans()) else ""
        return f'<figure{self.id()}><img src="{self.pick(IMAGES)}" alt="f"/>{caption}</figure>'

    def items(self, depth: int) -> str:
        """One to three list items, each of inline content (tight) or of blocks."""
        count = self.draw(st.integers(1, 3))
        return "".join(f"<li>{self.cell(depth)}</li>" for _ in range(count))

    def cell(self, depth: int) -> str:
        return self.inlines(1) if self.draw(st.booleans()) else self.blocks(depth + 1)

    def table(self, depth: int) -> str:
        """A table whose spans stay inside their section: pandoc's writer fails on others."""
        columns = self.draw(st.integers(1, 3))
        head = self.rows("th", 1, columns, depth) if self.draw(st.booleans()) else ""
        body = self.rows("td", self.draw(st.integers(1, 3)), columns, depth)
        foot = self.rows("td", 1, columns, depth) if self.draw(st.booleans()) else ""
        caption = f"<caption>{self.inlines(1)}</caption>" if self.draw(st.booleans()) else ""
        head, foot = head and f"<thead>{head}</thead>", foot and f"<tfoot>{foot}</tfoot>"
        return f"<table>{caption}{head}<tbody>{body}</tbody>{foot}</table>"

    def rows(self, cell: str, count: int, columns: int, depth: int) -> str:
        taken: set[tuple[int, int]] = set()
        rows = []
        for row in range(count):
            cells = []
            for column in range(columns):
                if (row, column) in taken:
                    continue
                free = column + 1 < columns and (row, column + 1) not in taken
                wide = self.pick([1, 1, 2]) if free else 1
                tall = self.pick([1, 1, 2]) if row + 1 < count else 1
                taken.update((row + r, column + c) for r in range(tall) for c in range(wide))
                spans = (f' colspan="{wide}"' if wide > 1 else "") + (
                    f' rowspan="{tall}"' if tall > 1 else ""
                )
                align = self.pick(["", ' style="text-align: right;"'])
                cells.append(f"<{cell}{spans}{align}>{self.cell(depth)}</{cell}>")
            rows.append(f"<tr>{''.join(cells)}</tr>")
        return "".join(rows)


@st.composite
def xhtml_bodies(draw: Callable[[st.SearchStrategy[Any]], Any]) -> str:
    """A chapter body of the markup the convert stage makes, nested three deep, with notes."""
    drawing = _Drawing(draw)
    blocks = drawing.blocks(0)
    return blocks + "".join(drawing.notes)


@settings(
    max_examples=150,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(html=xhtml_bodies(), language=st.sampled_from(["en", "fr", "de-AT", "he"]))
def test_any_document_is_written_as_pandoc_writes_it(html: str, language: str):
    assert_writes_as_pandoc(document_tree([parse_fragment(html)], language, IMAGES))


CODE = """

## Code

```python
def f(x):  # a comment
    return "text" + str(0x1F) + 1.5e3


class A(object): pass
```

```haskell
main :: IO ()
main = putStrLn "hi" >> print [1..10]
```

```c
#include <stdio.h>
int main(void) { printf("%d\\n", 'c'); return 0; }
```

```html
<p class="x">A &amp; B</p>
```

```bash
for f in *.md; do echo "$f"	# tab
done
```

```
no language here
```

Inline `x = [1, 2]`{.python}, `plain`, and `a<b`{.c}.
"""


def test_highlighted_code_is_written_as_pandoc_writes_it(tmp_path: Path):
    """The tokens pandoc's highlighter gave the XHTML are the ones its DOCX writer finds."""
    root = tmp_path / "project"
    shutil.copytree(FIXTURES / "project", root)
    chapter = root / "book" / TOUR / "02-middle.md"
    chapter.write_text(chapter.read_text(encoding="utf-8") + CODE, encoding="utf-8")
    tree = book_tree(root, TOUR)
    assert any(block.get("t") == "CodeBlock" and "tokens" in block for block in _walk(tree))
    assert_writes_as_pandoc(tree)


def _walk(node: Any) -> Iterable[dict[str, Any]]:
    if isinstance(node, dict):
        yield node
        node = list(node.values())
    if isinstance(node, list):
        for item in node:
            yield from _walk(item)


SVG = b'<svg xmlns="http://www.w3.org/2000/svg" width="2in" height="100"><rect width="1"/></svg>'
BOXED_SVG = b'<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 300 150"/>'
EDGE_IMAGES = {
    **IMAGES,
    "z.gif": _picture((20, 10), "green", "GIF"),
    "s.svg": _data(SVG, "image/svg+xml"),
    "s2.svg": _data(BOXED_SVG, "image/svg+xml"),
    "big.png": _picture((2000, 7), "red", "PNG"),  # fitted, its height is not whole
    "dpi.png": _picture((600, 300), "red", "PNG", dpi=(300, 300)),
    "dpi.jpg": _picture((600, 300), "red", "JPEG", dpi=(150, 150)),
}
EDGES = (
    '<p id="1st">A digit first, <a href="#1st">a link to it</a>, <a href="#an-identifier-that-'
    'is-far-longer-than-forty-characters">long</a>, <a href="#été">accented</a>, <a href="#">'
    'empty</a>.</p><h2 id="an-identifier-that-is-far-longer-than-forty-characters">Long</h2>'
    '<p id="été">Soft\u00adhyphen\u00aded, two\u00ad\u00adin a row, trailing\u00ad and'
    " \u00adleading; 日本語のテキスト and 中文 amid Latin; <mark>marked</mark>"
    ' <mark id="m">with an id</mark>.</p>'
    '<div data-custom-style="Brand New Style"><p>A style the reference lacks.</p></div>'
    '<div data-custom-style="another new one"><p>Another.</p></div>'
    '<div id="refs"><h2>References</h2><p>Doe, J. A book.</p></div>'
    '<p><span data-custom-style="Brand Char">new</span> <span data-custom-style="Verbatim'
    ' Char">known</span></p>'
    '<p><img src="z.gif" alt="gif"/> <img src="s.svg" alt="svg"/> <img src="s2.svg" alt="box"/>'
    ' <img src="x.png" alt="cm" width="3cm"/> <img src="x.png" alt="pt" width="72pt"'
    ' height="1in"/> <img src="x.png" alt="pct" width="50%"/> <img src="y.jpg" alt="pct h"'
    ' height="10%"/> <img src="missing.png" alt="missing"/> <img src="big.png" alt="big"/>'
    ' <img src="dpi.png" alt="dpi"/> <img src="dpi.jpg" alt="dpi jpeg"/></p>'
    '<figure><img src="x.png" alt="one" width="40"/><img src="y.jpg" alt="two"/>'
    "<figcaption>Two images</figcaption></figure>"
    '<figure><p>Text in a figure</p><p><img src="x.png" alt="and" width="2in" height="1in"/>'
    "</p></figure>"
    "<p>A note with a note"
    + NOTE_REF.format("n1", 1)
    + "</p>"
    + NOTE.format("n1", "<p>Outer" + NOTE_REF.format("n2", 2) + "</p>")
    + NOTE.format("n2", "<p>Inner</p>")
    + '<div dir="rtl" lang="he"><p>שלום <span dir="ltr">ltr inside</span></p><table><tr>'
    '<td style="text-align: center;"><p>c</p><table><tr><td style="text-align: right;">nested'
    "</td></tr></table><p>after nested</p></td></tr></table><ul><li>item<table><tr><td>in a"
    " list</td></tr></table></li></ul></div>"
    '<ol type="a" start="27"><li>aa</li></ol><ol start="0"><li>zero</li></ol>'
    "<ul><li><ul><li><ul><li><ul><li>four deep</li></ul></li></ul></li></ul></li></ul>"
    '<table><colgroup><col style="width: 33.3%"/><col style="width: 33.3%"/>'
    '<col style="width: 33.4%"/></colgroup><tr><td>a</td><td>b</td><td>c</td></tr></table>'
    '<table><tr><td rowspan="3">past the end</td><td colspan="4">wide</td></tr>'
    "<tr><td>short</td></tr></table>"
    "<p>Before a rule.</p><hr/><p>After a rule.</p><blockquote><p>Q</p></blockquote><p>After.</p>"
)


def test_edge_cases_are_written_as_pandoc_writes_them():
    """Bookmark names Word would refuse, soft hyphens, CJK runs, styles the reference
    lacks, a bibliography, images of every kind and size, a note in a note (pandoc loses
    it), right-to-left text with nested tables, list markers, uneven tables."""
    assert_writes_as_pandoc(document_tree([parse_fragment(EDGES)], "he", EDGE_IMAGES))
