"""Pandoc's document tree as WordprocessingML, written here the way pandoc 3.9 writes it.

Pandoc's DOCX writer costs 0.07-0.14 s before it writes a word (43 MB allocated for an
empty document), the largest part of a rebuild after one chapter changes. This module
writes what depends on the text (the document, its footnotes, lists, relationships and
content types, the language in the styles) and takes every other part from
`data/docx-skeleton.docx`: pandoc's own output for an empty document with our reference
(made by `docx_reference`). `tests/test_wordml.py` holds both writers to the same
document, part by part, on the books, on every construct and on random documents.

Only the constructs `docx_tree` makes are written; the rules (which paragraph is a first
paragraph, how ids are numbered, how images are sized) are pandoc's, so that a document
reads in Word exactly as it did when pandoc wrote it.
"""

from __future__ import annotations

import base64
import hashlib
import io
import re
import struct
import unicodedata
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, replace
from functools import cache
from importlib.resources import files
from math import floor
from typing import Any
from urllib.parse import unquote_to_bytes

from lxml import etree

Node = dict[str, Any]
W_NS = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
RELS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
NAMESPACES = (
    'xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"'
    ' xmlns:m="http://schemas.openxmlformats.org/officeDocument/2006/math"'
    f' xmlns:r="{RELS}"'
    ' xmlns:o="urn:schemas-microsoft-com:office:office"'
    ' xmlns:v="urn:schemas-microsoft-com:vml"'
    ' xmlns:w10="urn:schemas-microsoft-com:office:word"'
    ' xmlns:a="http://schemas.openxmlformats.org/drawingml/2006/main"'
    ' xmlns:pic="http://schemas.openxmlformats.org/drawingml/2006/picture"'
    ' xmlns:wp="http://schemas.openxmlformats.org/drawingml/2006/wordprocessingDrawing"'
)
DECLARATION = '<?xml version="1.0" encoding="UTF-8"?>\n'
BASE_LIST_ID = 1000  # the list of no marker; lists of the document count up from 1001
MAX_LIST_LEVEL = 8
TEXT_WIDTH_TWIPS = 7920  # pandoc sizes table columns for a 5.5 in text column
EMU_PER_POINT = 12700
DEFAULT_DPI = 96  # a length without a unit is in pixels at this resolution
# Run properties in the order the schema gives them (pandoc sorts by it).
RUN_PROPERTY_ORDER = {
    name: index
    for index, name in enumerate((
        "rStyle", "rFonts", "b", "bCs", "i", "iCs", "caps", "smallCaps", "strike", "dstrike",
        "outline", "shadow", "emboss", "imprint", "noProof", "snapToGrid", "vanish",
        "webHidden", "color", "spacing", "w", "kern", "position", "sz", "szCs", "highlight",
        "u", "effect", "bdr", "shd", "fitText", "vertAlign", "rtl", "cs", "em", "lang",
        "eastAsianLayout", "specVanish", "oMath",
    ))
}  # fmt: skip
INLINE_PROPERTIES = {
    "Strong": ("<w:b/>", "<w:bCs/>"),
    "Emph": ("<w:i/>", "<w:iCs/>"),
    "Underline": ('<w:u w:val="single"/>',),
    "Subscript": ('<w:vertAlign w:val="subscript"/>',),
    "Superscript": ('<w:vertAlign w:val="superscript"/>',),
    "SmallCaps": ("<w:smallCaps/>",),
    "Strikeout": ("<w:strike/>",),
}
NUMBER_STYLES = {  # style: (digit of the list id, format by level)
    "DefaultStyle": ("2", ("decimal", "lowerLetter", "lowerRoman")),
    "Example": ("3", ("decimal",)),
    "Decimal": ("4", ("decimal",)),
    "LowerRoman": ("5", ("lowerRoman",)),
    "UpperRoman": ("6", ("upperRoman",)),
    "LowerAlpha": ("7", ("lowerLetter",)),
    "UpperAlpha": ("8", ("upperLetter",)),
}
DELIMITERS = {"DefaultDelim": "0", "Period": "1", "OneParen": "2", "TwoParens": "3"}
BULLETS = (("\uf0b7", "Symbol"), ("o", "Courier New"), ("\uf0a7", "Wingdings"))
IMAGE_EXTENSIONS = {
    "image/png": "png", "image/jpeg": "jpg", "image/gif": "gif", "image/svg+xml": "svg",
    "image/webp": "webp", "image/tiff": "tiff", "image/bmp": "bmp",
}  # fmt: skip
# The units a length may take besides px and %; `_inches` converts each as pandoc does.
LENGTH_UNITS = frozenset(("cm", "mm", "in", "inch", "pt", "pc", "em"))
LENGTH = re.compile(r"([0-9]+(?:\.[0-9]+)?)(.*)", re.DOTALL)
# What XML 1.0 does not allow: written as itself, not as the negation of what it allows,
# it compiles in 1 ms instead of 8.
INVALID_CHARACTERS = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
# What pandoc counts as CJK (from U+4E00 up: it checks that first, leaving out kana).
CJK_RANGES = (
    (0x4E00, 0x9FFF), (0xA000, 0xA48F), (0xA490, 0xA4CF), (0xF900, 0xFAFF),
    (0xFE10, 0xFE1F), (0xFE30, 0xFE4F), (0xFE50, 0xFE6F), (0xFF00, 0xFFEE),
    (0x1B000, 0x1B0FF), (0x1B100, 0x1B12F), (0x1B130, 0x1B16F), (0x20000, 0x2A6DF),
    (0x2A700, 0x2B73F), (0x2B740, 0x2B81F), (0x2B820, 0x2CEAF), (0x2CEB0, 0x2EBEF),
    (0x2F800, 0x2FA1F), (0x30000, 0x3134F),
)  # fmt: skip
BEYOND_CJK_START = re.compile("[\u4e00-\U0010ffff]")  # one range: cheap to look for
CJK = re.compile("[" + "".join(f"{chr(low)}-{chr(high)}" for low, high in CJK_RANGES) + "]")
QUOTE_MARKS = {"DoubleQuote": ("“", "”"), "SingleQuote": ("‘", "’")}
BREAK = "<w:r><w:br/></w:r>"
HORIZONTAL_RULE = (
    '<w:p><w:r><w:pict><v:rect style="width:0;height:1.5pt" o:hralign="center"'
    ' o:hrstd="t" o:hr="t"/></w:pict></w:r></w:p>'
)
EMPTY_PARAGRAPH = "<w:p/>"


def warm_up() -> None:
    """Read the skeleton before the first document needs it."""
    _skeleton()


def word_parts(tree: Node) -> dict[str, bytes]:
    """The DOCX archive's parts for pandoc's document `tree`, by name."""
    skeleton = _skeleton()
    writer = _Writer(skeleton)
    body = writer.blocks(_sections(tree["blocks"]), _Env())
    language = _meta_text(tree["meta"].get("lang"))
    parts = dict(skeleton.parts)
    parts["word/document.xml"] = _document(skeleton, body)
    parts["word/footnotes.xml"] = _part(
        f"<w:footnotes {NAMESPACES}>{skeleton.separators}{''.join(writer.notes)}</w:footnotes>"
    )
    parts["word/numbering.xml"] = _part(_numbering(writer.lists))
    links = "".join(
        f'<Relationship Type="{RELS}/hyperlink" Id="{rid}" Target="{_attribute(target)}"'
        ' TargetMode="External"/>'
        for target, rid in sorted(writer.links.items())
    )
    images = [writer.images[source] for source in sorted(writer.images)]
    pictures = "".join(
        f'<Relationship Type="{RELS}/image" Id="{image.rid}" Target="{image.path}"/>'
        for image in images
    )
    parts["word/_rels/document.xml.rels"] = _with_children(
        skeleton.parts["word/_rels/document.xml.rels"], pictures + links
    )
    parts["word/_rels/footnotes.xml.rels"] = _part(
        '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
        f"{links}</Relationships>"
    )
    overrides = "".join(
        f'<Override PartName="/word/{image.path}" ContentType="{image.media_type}"/>'
        for image in images
    )
    parts["[Content_Types].xml"] = _with_children(skeleton.parts["[Content_Types].xml"], overrides)
    parts["word/styles.xml"] = skeleton.styles(language, writer.new_styles)
    parts["docProps/core.xml"] = _core_properties(language)
    parts["docProps/custom.xml"] = _part(
        '<Properties xmlns="http://schemas.openxmlformats.org/officeDocument/2006/custom-'
        'properties" xmlns:vt="http://schemas.openxmlformats.org/officeDocument/2006/'
        'docPropsVTypes"/>'
    )
    for image in images:
        parts[f"word/{image.path}"] = image.data
    return parts


# --- The skeleton: pandoc's parts that do not depend on the text ------------------------


@dataclass(frozen=True)
class _Skeleton:
    parts: dict[str, bytes]
    section: str  # the page (`w:sectPr`)
    separators: str  # the footnote separators
    print_width: int  # of the text column, in points
    paragraph_styles: dict[str, str]  # name, lower case -> style id
    character_styles: dict[str, str]

    def styles(self, language: str, new_styles: dict[str, set[str]]) -> bytes:
        """styles.xml with the document's language and the styles it invented."""
        root = etree.fromstring(self.parts["word/styles.xml"])
        lang = root.find(f"{{{W_NS}}}docDefaults/{{{W_NS}}}rPrDefault/{{{W_NS}}}rPr/{{{W_NS}}}lang")
        if language and lang is not None:
            primary = language.split("-")[0].lower()
            slot = "eastAsia" if primary in ("zh", "ja", "ko") else "val"
            slot = "bidi" if primary in ("he", "ar") else slot
            if lang.get(f"{{{W_NS}}}{slot}") is not None:
                lang.set(f"{{{W_NS}}}{slot}", language)
        first_added = next(
            (
                index
                for index, style in enumerate(root)
                if style.get(f"{{{W_NS}}}styleId") == "SourceCode"
            ),
            len(root),
        )
        added = [
            (kind, name)
            for kind in ("paragraph", "character")
            for name in sorted(new_styles[kind], key=str.lower)
        ]
        for offset, (kind, name) in enumerate(added):
            based_on, extra = (
                ("BodyText", "<w:qFormat/>") if kind == "paragraph" else ("BodyTextChar", "")
            )
            style = etree.fromstring(
                f'<w:style xmlns:w="{W_NS}" w:type="{kind}" w:customStyle="1"'
                f' w:styleId="{_attribute("".join(name.split()))}">'
                f'<w:name w:val="{_attribute(name)}"/><w:basedOn w:val="{based_on}"/>{extra}'
                "</w:style>"
            )
            root.insert(first_added + offset, style)
        return DECLARATION.encode() + etree.tostring(root, encoding="UTF-8")


@cache
def _skeleton() -> _Skeleton:
    data = files("ebook_builder").joinpath("data/docx-skeleton.docx").read_bytes()
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        parts = {name: archive.read(name) for name in archive.namelist()}
    document = etree.fromstring(parts["word/document.xml"])
    section = document.find(f"{{{W_NS}}}body/{{{W_NS}}}sectPr")
    size, margins = section.find(f"{{{W_NS}}}pgSz"), section.find(f"{{{W_NS}}}pgMar")
    width = int(size.get(f"{{{W_NS}}}w"))
    width -= int(margins.get(f"{{{W_NS}}}left")) + int(margins.get(f"{{{W_NS}}}right"))
    notes = etree.fromstring(parts["word/footnotes.xml"])
    styles: dict[str, dict[str, str]] = {"paragraph": {}, "character": {}}
    for style in etree.fromstring(parts["word/styles.xml"]).iter(f"{{{W_NS}}}style"):
        name = style.find(f"{{{W_NS}}}name")
        kind = styles.get(style.get(f"{{{W_NS}}}type", ""))
        if name is not None and kind is not None:
            kind.setdefault(name.get(f"{{{W_NS}}}val", "").lower(), style.get(f"{{{W_NS}}}styleId"))
    return _Skeleton(
        parts=parts,
        section=etree.tostring(section, encoding="unicode"),
        separators="".join(etree.tostring(note, encoding="unicode") for note in notes),
        print_width=width // 20,
        paragraph_styles=styles["paragraph"],
        character_styles=styles["character"],
    )


def _document(skeleton: _Skeleton, body: str) -> bytes:
    return _part(f"<w:document {NAMESPACES}><w:body>{body}{skeleton.section}</w:body></w:document>")


def _part(xml: str) -> bytes:
    return (DECLARATION + xml).encode("utf-8")


def _with_children(xml: bytes, children: str) -> bytes:
    """The part with `children` (markup in its default namespace) added at the end."""
    head, _, tail = xml.rpartition(b"</")
    return head + children.encode("utf-8") + b"</" + tail


def _core_properties(language: str) -> bytes:
    """Pandoc's core properties of a document without metadata (`finish` replaces them)."""
    language_element = f"<dc:language>{_text(language)}</dc:language>" if language else ""
    return _part(
        '<cp:coreProperties xmlns:cp="http://schemas.openxmlformats.org/package/2006/metadata/'
        'core-properties" xmlns:dc="http://purl.org/dc/elements/1.1/"'
        ' xmlns:dcterms="http://purl.org/dc/terms/" xmlns:dcmitype="http://purl.org/dc/dcmitype/"'
        ' xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"><dc:title></dc:title>'
        f"<dc:creator></dc:creator>{language_element}<cp:keywords></cp:keywords>"
        '<dcterms:created xsi:type="dcterms:W3CDTF">1970-01-01T00:00:00Z</dcterms:created>'
        '<dcterms:modified xsi:type="dcterms:W3CDTF">1970-01-01T00:00:00Z</dcterms:modified>'
        "</cp:coreProperties>"
    )


# --- Sections: pandoc wraps each heading and what follows it in a `section` Div ---------


def _sections(blocks: list[Node]) -> list[Node]:
    """The blocks with every heading's section made a Div carrying the heading's id.

    The heading gives the Div its id, classes and attributes (language, direction), so
    its bookmark spans the section. A Div that holds one section takes its attributes.
    """
    result: list[Node] = []
    index = 0
    while index < len(blocks):
        block = blocks[index]
        if block["t"] == "Header":
            level, (ident, classes, pairs), title = block["c"]
            end = index + 1
            while end < len(blocks) and not _heading_at_most(blocks[end], level):
                end += 1
            header = {"t": "Header", "c": [level, ["", classes, pairs], title]}
            contents = [header, *_sections(blocks[index + 1 : end])]
            result.append({"t": "Div", "c": [[ident, ["section", *classes], pairs], contents]})
            index = end
            continue
        if block["t"] == "Div":
            result.append(_section_div(block))
        else:
            result.append(block)
        index += 1
    return result


def _section_div(block: Node) -> Node:
    (ident, classes, pairs), contents = block["c"]
    first = contents[0] if contents else None
    if (
        first is not None
        and first["t"] == "Header"
        and all(b["t"] != "Header" or b["c"][0] > first["c"][0] for b in contents[1:])
        and not {"column", "columns", "fragment"} & set(classes)
    ):
        inner = _sections(contents)
        if len(inner) == 1 and inner[0]["t"] == "Div":
            (inner_id, inner_classes, inner_pairs), inner_contents = inner[0]["c"]
            if not ident or not inner_id or ident == inner_id:
                merged_classes = list(dict.fromkeys([*inner_classes, *classes]))
                keys = {key for key, _ in inner_pairs}
                merged_pairs = [*inner_pairs, *(p for p in pairs if p[0] not in keys)]
                attr = [inner_id or ident, merged_classes, merged_pairs]
                return {"t": "Div", "c": [attr, inner_contents]}
        return {"t": "Div", "c": [[ident, classes, pairs], inner]}
    return {"t": "Div", "c": [[ident, classes, pairs], _sections(contents)]}


def _heading_at_most(block: Node, level: int) -> bool:
    if block["t"] == "Header":
        return block["c"][0] <= level
    if block["t"] == "Div" and block["c"][1]:
        return _heading_at_most(block["c"][1][0], level)
    return False


# --- The writer ---------------------------------------------------------------------------


@dataclass(frozen=True)
class _Env:
    """What the enclosing blocks and inlines impose (pandoc's writer environment)."""

    paragraph_style: str = ""  # a style id
    paragraph_properties: tuple[str, ...] = ()  # newest first
    run_style: str = ""
    run_properties: tuple[tuple[int, str], ...] = ()  # (schema position, markup), newest first
    rtl: bool = False
    list_level: int = -1
    list_id: int = 1
    in_note: bool = False
    language: str = ""


@dataclass(frozen=True)
class _Image:
    rid: str
    path: str
    media_type: str
    data: bytes
    size: tuple[int, int, int, int]  # pixels across, down; dots per inch across, down


class _Writer:
    """One document's conversion; the fields are pandoc's writer state."""

    def __init__(self, skeleton: _Skeleton) -> None:
        self.skeleton = skeleton
        self.next_id = 9  # after the relationship ids of the skeleton
        self.first_paragraph = True
        self.list_id_used = False
        self.in_table = False
        self.in_list = False
        self.notes: list[str] = []
        self.links: dict[str, str] = {}
        self.images: dict[str, _Image] = {}
        self.lists: list[tuple[str, ...]] = [("none",)]
        # Styles a document names that the reference lacks: pandoc defines them.
        self.new_styles: dict[str, set[str]] = {"paragraph": set(), "character": set()}

    def unique_id(self) -> str:
        self.next_id += 1
        return str(self.next_id - 1)

    def paragraph_style(self, name: str) -> str:
        return self.skeleton.paragraph_styles.get(name.lower()) or "".join(name.split())

    def styled(self, env: _Env, name: str) -> _Env:
        """`env` with the paragraph style named `name` in place of the enclosing one."""
        return replace(env, paragraph_style=self.paragraph_style(name))

    def character_style(self, name: str) -> str:
        return self.skeleton.character_styles.get(name.lower()) or "".join(name.split())

    # --- blocks ---

    def blocks(self, blocks: list[Node], env: _Env) -> str:
        out = []
        previous = None
        for block in blocks:
            if block["t"] == "Table" and previous == "Table":
                out.append(EMPTY_PARAGRAPH)  # else Word joins the two tables
            out.append(self.block(block, env))
            previous = block["t"]
        return "".join(out)

    def block(self, block: Node, env: _Env) -> str:
        kind = block["t"]
        content = block.get("c")
        if kind == "Para":
            return self.para(content, env)
        if kind == "Plain":
            if self.in_table or self.in_list:
                env = self.styled(env, "Compact")
            return self.para(content, env)
        if kind == "Div":
            return self.div(content, env)
        if kind == "Header":
            return self.header(content, env)
        if kind == "BlockQuote":
            style = "Footnote Block Text" if env.in_note else "Block Text"
            out = self.blocks(content, self.styled(env, style))
            self.first_paragraph = True
            return out
        if kind == "CodeBlock":
            (ident, classes, _), text = content
            env = self.styled(env, "Source Code")
            code = {"t": "Code", "c": [["", classes, []], text], "tokens": block.get("tokens")}
            out = self.para([code], env)
            self.first_paragraph = True
            return self.bookmark(ident, out)
        if kind == "HorizontalRule":
            self.first_paragraph = True
            return HORIZONTAL_RULE
        if kind == "LineBlock":
            inlines: list[Node] = []
            for number, line in enumerate(content):
                inlines += [{"t": "LineBreak"}] * (number > 0) + line
            return self.para(inlines, env)
        if kind == "Table":
            return self.table(content, env)
        if kind in ("BulletList", "OrderedList"):
            return self.list(block, env)
        if kind == "DefinitionList":
            out = []
            for term, definitions in content:
                term_env = self.styled(env, "Definition Term")
                out.append(self.para(term, term_env))
                definition_env = self.styled(env, "Definition")
                out += [self.blocks(blocks, definition_env) for blocks in definitions]
            self.first_paragraph = True
            return "".join(out)
        if kind == "Figure":
            return self.figure(content, env)
        if kind == "RawBlock" and content[0] == "openxml":
            return content[1]
        return ""

    def para(self, inlines: list[Node], env: _Env) -> str:
        if not inlines:
            return ""
        properties = self.paragraph_properties(env)
        if not properties:
            name = "First Paragraph" if self.first_paragraph else "Body Text"
            properties = f'<w:pPr><w:pStyle w:val="{self.paragraph_style(name)}"/></w:pPr>'
        self.first_paragraph = False
        return f"<w:p>{properties}{self.inlines(inlines, env)}</w:p>"

    def paragraph_properties(self, env: _Env) -> str:
        """`w:pPr` of the next paragraph; the first in a list item takes the item's marker."""
        list_id = BASE_LIST_ID if self.list_id_used else env.list_id
        self.list_id_used = True
        properties = []
        if env.paragraph_style:
            properties.append(f'<w:pStyle w:val="{_attribute(env.paragraph_style)}"/>')
        if env.list_level >= 0:
            properties.append(
                f'<w:numPr><w:ilvl w:val="{env.list_level}"/><w:numId w:val="{list_id}"/></w:numPr>'
            )
        if env.rtl:
            properties.append("<w:bidi/>")
        properties += env.paragraph_properties
        return f"<w:pPr>{''.join(properties)}</w:pPr>" if properties else ""

    def div(self, content: list[Any], env: _Env) -> str:
        (ident, _, pairs), blocks = content
        attributes = dict(reversed(pairs))
        style = attributes.get("custom-style")
        env = self.directed(env, attributes)
        headers: list[Node] = []
        if ident == "refs":  # a bibliography: its heading stays a heading
            while blocks and blocks[0]["t"] == "Header":
                headers.append(blocks[0])
                blocks = blocks[1:]
            contents_env = self.styled(env, "Bibliography")
        else:
            contents_env = env
        if style is not None:
            if style.lower() not in self.skeleton.paragraph_styles:
                self.new_styles["paragraph"].add(style)
            env = self.styled(env, style)
            contents_env = replace(contents_env, paragraph_style=env.paragraph_style)
        if "lang" in attributes:
            contents_env = replace(contents_env, language=attributes["lang"])
        out = self.blocks(headers, env) + self.blocks(blocks, contents_env)
        return self.bookmark(ident, out)

    @staticmethod
    def directed(env: _Env, attributes: dict[str, str]) -> _Env:
        direction = attributes.get("dir")
        if direction in ("rtl", "ltr"):
            return replace(env, rtl=direction == "rtl")
        return env

    def header(self, content: list[Any], env: _Env) -> str:
        level, (ident, _, _), inlines = content
        self.first_paragraph = True
        heading = self.styled(env, f"Heading {level}")
        properties = self.paragraph_properties(heading)
        text = self.bookmark(ident, self.inlines(inlines, env))
        return f"<w:p>{properties}{text}</w:p>"

    def list(self, block: Node, env: _Env) -> str:
        if block["t"] == "BulletList":
            marker: tuple[str, ...] = ("bullet",)
            items = block["c"]
        else:
            (start, style, delimiter), items = block["c"]
            marker = ("number", style["t"], delimiter["t"], str(start))
        self.lists.append(marker)
        list_id = BASE_LIST_ID - 1 + len(self.lists)
        env = replace(env, list_level=env.list_level + 1, list_id=list_id)
        out = []
        for item in items:
            was_in_list = self.in_list
            self.in_list = True
            if item and item[0]["t"] in ("BulletList", "OrderedList"):
                item = [{"t": "Plain", "c": [{"t": "Str", "c": ""}]}, *item]
            self.list_id_used = False
            out.append(self.blocks(item, env))
            self.in_list = was_in_list
        self.first_paragraph = True
        return "".join(out)

    def figure(self, content: list[Any], env: _Env) -> str:
        (ident, _, _), (_, caption), body = content
        self.first_paragraph = True
        style = "Captioned Figure" if caption else "Figure"
        properties = self.paragraph_properties(self.styled(env, style))
        if len(body) == 1 and body[0]["t"] in ("Plain", "Para") and _single_image(body[0]):
            picture = f"<w:p>{properties}{self.inline(body[0]['c'][0], env)}</w:p>"
        else:
            picture = self.figure_table(body, env)
        if caption and caption[0]["t"] in ("Plain", "Para"):
            caption = [{"t": "Para", "c": caption[0]["c"]}, *caption[1:]]
        caption_env = self.styled(env, "Image Caption")
        return self.bookmark(ident, picture + self.blocks(caption, caption_env))

    def figure_table(self, blocks: list[Node], env: _Env) -> str:
        """A figure of several parts: a one-row table, a part a cell, images made to fit."""
        self.in_table = True
        share = 1 / len(blocks)
        width = floor(TEXT_WIDTH_TWIPS * share)
        grid = f'<w:gridCol w:w="{width}"/>' * len(blocks)
        cells = [
            _Cell("AlignCenter", 1, 1, [_scaled_images(block, share)], merged=False)
            for block in blocks
        ]
        row = self.row(cells, header=False, env=env)
        self.in_table = False
        return (
            '<w:tbl><w:tblPr><w:tblStyle w:val="FigureTable"/><w:tblW w:type="auto" w:w="0"/>'
            '<w:jc w:val="center"/><w:tblLook w:firstRow="0" w:lastRow="0" w:firstColumn="0"'
            f' w:lastColumn="0"/></w:tblPr><w:tblGrid>{grid}</w:tblGrid>{row}</w:tbl>'
        )

    def table(self, content: list[Any], env: _Env) -> str:
        attr, (_, caption), specs, (_, head), bodies, (_, foot) = content
        self.first_paragraph = True
        ident, _, pairs = attr
        caption_text = _stringify(caption)
        caption_xml = ""
        cell_env = replace(env, list_level=-1)  # no list indent in the cells, nor the caption
        if caption:
            caption_xml = self.blocks(caption, self.styled(cell_env, "Table Caption"))
        self.in_table = True
        columns = len(specs)
        aligns = [spec[0]["t"] for spec in specs]
        rows = self.part(head, aligns, True, cell_env)
        for body in bodies:
            rows += self.part(body[2] + body[3], aligns, False, cell_env)
        rows += self.part(foot, aligns, False, cell_env)
        widths = [spec[1]["c"] if spec[1]["t"] == "ColWidth" else 0 for spec in specs]
        if all(width == 0 for width in widths):
            grid = f'<w:gridCol w:w="{floor(TEXT_WIDTH_TWIPS * (1.0 / columns))}"/>' * columns
            table_width = '<w:tblW w:type="auto" w:w="0"/>'
        else:
            grid = "".join(f'<w:gridCol w:w="{floor(TEXT_WIDTH_TWIPS * w)}"/>' for w in widths)
            table_width = f'<w:tblW w:type="pct" w:w="{round(5000 * sum(widths))}"/>'
        indent = (env.list_level + 1) * 720
        style = dict(pairs).get("custom-style", "Table")
        properties = [f'<w:tblStyle w:val="{_attribute(style)}"/>', table_width]
        if indent > 0:
            properties.append(f'<w:jc w:val="left"/><w:tblInd w:w="{indent}" w:type="dxa"/>')
        if any(width != 0 for width in widths):
            properties.append('<w:tblLayout w:type="fixed"/>')
        first_row, last_row = "1" if head else "0", "1" if foot else "0"
        properties.append(
            f'<w:tblLook w:firstRow="{first_row}" w:lastRow="{last_row}" w:firstColumn="0"'
            f' w:lastColumn="0" w:noHBand="0" w:noVBand="0"'
            f' w:val="{"0020" if head else "0000"}"/>'
        )
        if caption_text:
            properties.append(f'<w:tblCaption w:val="{_attribute(caption_text)}"/>')
        self.in_table = False
        table = (
            f"<w:tbl><w:tblPr>{''.join(properties)}</w:tblPr><w:tblGrid>{grid}</w:tblGrid>"
            f"{rows}</w:tbl>"
        )
        return self.bookmark(ident, caption_xml + table)

    def part(self, rows: list[Any], aligns: list[str], header: bool, env: _Env) -> str:
        """A table part's rows: its cells placed on a grid, a cell spanning rows continued."""
        if not rows:
            return ""
        columns = sum(cell[3] for cell in rows[0][1])
        grid: list[list[Any]] = [[None] * columns for _ in rows]
        for r, (_, cells) in enumerate(rows):
            column = 0
            for _, align, rowspan, colspan, blocks in cells:
                while column < columns and grid[r][column] is not None:
                    column += 1
                if column >= columns:
                    break
                grid[r][column] = _Cell(align["t"], rowspan, colspan, blocks, merged=False)
                below = _Cell("", 1, colspan, [], merged=True)  # merged with the cell above
                for dr in range(rowspan):
                    for dc in range(colspan):
                        if (dr or dc) and r + dr < len(rows) and column + dc < columns:
                            grid[r + dr][column + dc] = below if dr and not dc else ""
        out = []
        for row in grid:
            cells = []
            for slot, column_align in zip(row, aligns, strict=False):
                if isinstance(slot, _Cell):
                    if slot.align == "AlignDefault":
                        slot = replace(slot, align=column_align)
                    cells.append(slot)
            out.append(self.row(cells, header, env))
        return "".join(out)

    def row(self, cells: list[_Cell], header: bool, env: _Env) -> str:
        if not cells:
            return ""
        properties = '<w:trPr><w:tblHeader w:val="on"/></w:trPr>' if header else ""
        return f"<w:tr>{properties}{''.join(self.cell(cell, env) for cell in cells)}</w:tr>"

    def cell(self, cell: _Cell, env: _Env) -> str:
        if cell.merged:
            return (
                f'<w:tc><w:tcPr><w:gridSpan w:val="{cell.colspan}"/><w:vMerge w:val="continue"/>'
                "</w:tcPr><w:p><w:pPr/></w:p></w:tc>"
            )
        properties = f'<w:gridSpan w:val="{cell.colspan}"/>' if cell.colspan > 1 else ""
        properties += '<w:vMerge w:val="restart"/>' if cell.rowspan > 1 else ""
        if not cell.blocks:
            compact = self.paragraph_style("Compact")
            content = f'<w:p><w:pPr><w:pStyle w:val="{compact}"/></w:pPr></w:p>'
        else:
            alignment = {"AlignLeft": "left", "AlignRight": "right", "AlignCenter": "center"}
            if cell.align in alignment:
                jc = f'<w:jc w:val="{alignment[cell.align]}"/>'
                env = replace(env, paragraph_properties=(jc, *env.paragraph_properties))
            content = self.blocks(cell.blocks, env)
            if not _ends_with_paragraph(content):
                content += EMPTY_PARAGRAPH
        return f"<w:tc><w:tcPr>{properties}</w:tcPr>{content}</w:tc>"

    def bookmark(self, ident: str, content: str) -> str:
        if not ident:
            return content
        number = self.unique_id()
        name = _attribute(_bookmark_name(ident))
        return (
            f'<w:bookmarkStart w:id="{number}" w:name="{name}"/>{content}'
            f'<w:bookmarkEnd w:id="{number}"/>'
        )

    # --- inlines ---

    def inlines(self, inlines: list[Node], env: _Env) -> str:
        return "".join(self.inline(inline, env) for inline in _merged_strings(inlines))

    def inline(self, inline: Node, env: _Env) -> str:
        kind = inline["t"]
        content = inline.get("c")
        if kind == "Str":
            return self.text(content, env)
        if kind in ("Space", "SoftBreak"):
            return self.text(" ", env)
        if kind in INLINE_PROPERTIES:
            added = tuple((_position(p), p) for p in reversed(INLINE_PROPERTIES[kind]))
            env = replace(env, run_properties=added + env.run_properties)
            return self.inlines(content, env)
        if kind == "LineBreak":
            return BREAK
        if kind == "Span":
            return self.span(content, env)
        if kind == "Quoted":
            opening, closing = QUOTE_MARKS[content[0]["t"]]
            quoted = [{"t": "Str", "c": opening}, *content[1], {"t": "Str", "c": closing}]
            return self.inlines(quoted, env)
        if kind == "Code":
            return self.code(inline, env)
        if kind == "Note":
            return self.note(content, env)
        if kind == "Link":
            return self.link(content, env)
        if kind == "Image":
            return self.image(content, env)
        if kind == "Cite":
            return self.inlines(content[1], env)
        if kind == "RawInline" and content[0] == "openxml":
            return content[1]
        return ""

    def text(self, text: str, env: _Env) -> str:
        pieces = _soft_hyphenated(text)
        runs = []
        for number, piece in enumerate(pieces):
            if number:
                runs.append(f"<w:r>{self.run_properties(env)}<w:softHyphen/></w:r>")
            for chunk in _chunks(INVALID_CHARACTERS.sub("", piece)):
                chunk_env = env
                if _has_cjk(chunk):
                    hint = (_position("rFonts"), '<w:rFonts w:hint="eastAsia"/>')
                    chunk_env = replace(env, run_properties=(hint, *env.run_properties))
                runs.append(
                    f"<w:r>{self.run_properties(chunk_env)}"
                    f'<w:t xml:space="preserve">{_text(chunk)}</w:t></w:r>'
                )
        return "".join(runs)

    @staticmethod
    def run_properties(env: _Env) -> str:
        properties: list[tuple[int, str]] = []
        if env.run_style:
            properties.append((0, f'<w:rStyle w:val="{_attribute(env.run_style)}"/>'))
        if env.rtl:
            properties.append((_position("rtl"), "<w:rtl/>"))
        properties += env.run_properties
        if env.language:
            language = f'<w:lang w:val="{_attribute(env.language)}"/>'
            properties.append((_position("lang"), language))
        if not properties:
            return ""
        properties.sort(key=lambda pair: pair[0])
        return f"<w:rPr>{''.join(markup for _, markup in properties)}</w:rPr>"

    def span(self, content: list[Any], env: _Env) -> str:
        (ident, classes, pairs), inlines = content
        if not ident and classes == ["mark"] and not pairs:
            highlight = (_position("highlight"), '<w:highlight w:val="yellow"/>')
            env = replace(env, run_properties=(highlight, *env.run_properties))
            return self.inlines(inlines, env)
        attributes = dict(reversed(pairs))
        style = attributes.get("custom-style")
        if style is not None:
            if style.lower() not in self.skeleton.character_styles:
                self.new_styles["character"].add(style)
            env = replace(env, run_style=self.character_style(style))
        env = self.directed(env, attributes)
        if "lang" in attributes:
            env = replace(env, language=attributes["lang"])
        return self.bookmark(ident, self.inlines(inlines, env))

    def code(self, inline: Node, env: _Env) -> str:
        (_, _, _), text = inline["c"]
        tokens = inline.get("tokens")
        if tokens is not None:
            lines = [
                "".join(
                    f'<w:r><w:rPr><w:rStyle w:val="{_attribute(self.character_style(kind))}"/>'
                    f'</w:rPr><w:t xml:space="preserve">{_text(token)}</w:t></w:r>'
                    for kind, token in line
                )
                for line in tokens
            ]
            return BREAK.join(lines)
        env = replace(env, run_style=self.character_style("Verbatim Char"))
        return BREAK.join(self.text(line, env) for line in _lines(text))

    def note(self, blocks: list[Node], env: _Env) -> str:
        number = self.unique_id()
        reference = self.character_style("Footnote Reference")
        marker = {
            "t": "RawInline",
            "c": [
                "openxml",
                f'<w:r><w:rPr><w:rStyle w:val="{reference}"/></w:rPr><w:footnoteRef/></w:r>',
            ],
        }
        if blocks and blocks[0]["t"] in ("Plain", "Para"):
            first = {"t": blocks[0]["t"], "c": [marker, {"t": "Space"}, *blocks[0]["c"]]}
            blocks = [first, *blocks[1:]]
        else:
            blocks = [{"t": "Para", "c": [marker]}, *blocks]
        env = replace(
            env,
            paragraph_style=self.paragraph_style("Footnote Text"),
            paragraph_properties=(),
            run_style="",
            run_properties=(),
            list_level=-1,
            in_note=True,
        )
        # As pandoc, a note in a note is lost: the list of notes is the one from before.
        earlier = list(self.notes)
        content = self.blocks(blocks, env)
        self.notes = [*earlier, f'<w:footnote w:id="{number}">{content}</w:footnote>']
        return (
            f'<w:r><w:rPr><w:rStyle w:val="{reference}"/></w:rPr>'
            f'<w:footnoteReference w:id="{number}"/></w:r>'
        )

    def link(self, content: list[Any], env: _Env) -> str:
        _, inlines, (target, _) = content
        env = replace(env, run_style=self.character_style("Hyperlink"))
        text = self.inlines(inlines, env)
        if target.startswith("#"):
            where = f'w:anchor="{_attribute(_bookmark_name(target[1:]))}"'
        else:
            rid = self.links.get(target)
            if rid is None:
                rid = self.links[target] = f"rId{self.unique_id()}"
            where = f'r:id="{rid}"'
        return f"<w:hyperlink {where}>{text}</w:hyperlink>"

    def image(self, content: list[Any], env: _Env) -> str:
        (ident, _, pairs), alt, (source, title) = content
        image = self.images.get(source)
        if image is None:
            loaded = _data_uri(source)
            if loaded is None:
                return self.inlines(alt, env)  # pandoc runs sandboxed: no file, no network
            data, media_type = loaded
            extension = IMAGE_EXTENSIONS.get(media_type)
            if extension is None:
                return self.inlines(alt, env)
            rid = f"rId{self.unique_id()}"
            image = _Image(rid, f"media/{rid}.{extension}", media_type, data, _size(data))
            self.images[source] = image
        drawing_id, picture_id = self.unique_id(), self.unique_id()
        attributes = dict(reversed(pairs))
        cx, cy = _extent(image.size, attributes, self.skeleton.print_width)
        description = "" if source.startswith("data:") else source
        blip = f'r:embed="{image.rid}"'
        extensions = ""
        if image.media_type == "image/svg+xml":
            blip = ""
            extensions = (
                '<a:extLst><a:ext uri="{28A0092B-C50C-407E-A947-70E740481C1C}"><a14:useLocalDpi'
                ' xmlns:a14="http://schemas.microsoft.com/office/drawing/2010/main" val="0"/>'
                '</a:ext><a:ext uri="{96DAC541-7B7A-43D3-8B79-37D633B846F1}"><asvg:svgBlip'
                ' xmlns:asvg="http://schemas.microsoft.com/office/drawing/2016/SVG/main"'
                f' r:embed="{image.rid}"/></a:ext></a:extLst>'
            )
        drawing = (
            f'<w:r><w:drawing><wp:inline><wp:extent cx="{cx}" cy="{cy}"/>'
            '<wp:effectExtent b="0" l="0" r="0" t="0"/>'
            f'<wp:docPr descr="{_attribute(_stringify(alt))}" title="{_attribute(title)}"'
            f' id="{drawing_id}" name="Picture"/>'
            '<a:graphic><a:graphicData uri="http://schemas.openxmlformats.org/drawingml/2006/'
            f'picture"><pic:pic><pic:nvPicPr><pic:cNvPr descr="{_attribute(description)}"'
            f' id="{picture_id}" name="Picture"/><pic:cNvPicPr><a:picLocks'
            ' noChangeArrowheads="1" noChangeAspect="1"/></pic:cNvPicPr></pic:nvPicPr>'
            f"<pic:blipFill><a:blip {blip}>{extensions}</a:blip><a:stretch><a:fillRect/>"
            '</a:stretch></pic:blipFill><pic:spPr bwMode="auto"><a:xfrm><a:off x="0" y="0"/>'
            f'<a:ext cx="{cx}" cy="{cy}"/></a:xfrm><a:prstGeom prst="rect"><a:avLst/>'
            '</a:prstGeom><a:noFill/><a:ln w="9525"><a:noFill/><a:headEnd/><a:tailEnd/>'
            "</a:ln></pic:spPr></pic:pic></a:graphicData></a:graphic></wp:inline></w:drawing>"
            "</w:r>"
        )
        return self.bookmark(ident, drawing)


@dataclass(frozen=True)
class _Cell:
    align: str
    rowspan: int
    colspan: int
    blocks: list[Node]
    merged: bool  # the continuation of a cell above


# --- Helpers ------------------------------------------------------------------------------


def _numbering(lists: list[tuple[str, ...]]) -> str:
    abstracts = "".join(_abstract_number(marker) for marker in dict.fromkeys(lists))
    numbers = []
    for offset, marker in enumerate(lists):
        overrides = ""
        if marker[0] == "number":
            overrides = "".join(
                f'<w:lvlOverride w:ilvl="{level}"><w:startOverride w:val="{marker[3]}"/>'
                "</w:lvlOverride>"
                for level in range(MAX_LIST_LEVEL + 1)
            )
        numbers.append(
            f'<w:num w:numId="{BASE_LIST_ID + offset}"><w:abstractNumId'
            f' w:val="{_list_definition_id(marker)}"/>{overrides}</w:num>'
        )
    return f'<w:numbering xmlns:w="{W_NS}">{abstracts}{"".join(numbers)}</w:numbering>'


def _list_definition_id(marker: tuple[str, ...]) -> str:
    if marker[0] == "none":
        return "990"
    if marker[0] == "bullet":
        return "991"
    _, style, delimiter, start = marker
    return f"99{NUMBER_STYLES[style][0]}{DELIMITERS[delimiter]}{start}"


def _abstract_number(marker: tuple[str, ...]) -> str:
    definition_id = _list_definition_id(marker)
    levels = []
    for level in range(MAX_LIST_LEVEL + 1):
        start, font = "", None
        if marker[0] == "none":
            number_format, text = "bullet", " "
        elif marker[0] == "bullet":
            (text, font), number_format = BULLETS[level % 3], "bullet"
        else:
            _, style, delimiter, first = marker
            formats = NUMBER_STYLES[style][1]
            number_format = formats[level % len(formats)]
            text = _marker_text(delimiter, f"%{level + 1}")
            start = f'<w:start w:val="{first}"/>'
        fonts = (
            f'<w:rPr><w:rFonts w:ascii="{font}" w:hAnsi="{font}" w:cs="{font}"'
            ' w:hint="default"/></w:rPr>'
            if font
            else ""
        )
        levels.append(
            f'<w:lvl w:ilvl="{level}">{start}<w:numFmt w:val="{number_format}"/>'
            f'<w:lvlText w:val="{text}"/><w:lvlJc w:val="left"/><w:pPr><w:ind'
            f' w:left="{level * 720 + 720}" w:hanging="360"/></w:pPr>{fonts}</w:lvl>'
        )
    nsid = f"A{definition_id}".rjust(8, "0")
    return (
        f'<w:abstractNum w:abstractNumId="{definition_id}"><w:nsid w:val="{nsid}"/>'
        f'<w:multiLevelType w:val="multilevel"/>{"".join(levels)}</w:abstractNum>'
    )


def _marker_text(delimiter: str, number: str) -> str:
    if delimiter == "OneParen":
        return f"{number})"
    if delimiter == "TwoParens":
        return f"({number})"
    return f"{number}."


def _merged_strings(inlines: list[Node]) -> Iterator[Node]:
    """Adjacent strings, and strings around one space, as one string (one run)."""
    pending: str | None = None
    index = 0
    while index < len(inlines):
        inline = inlines[index]
        if inline["t"] == "Str":
            pending = inline["c"] if pending is None else pending + inline["c"]
        elif (
            inline["t"] == "Space"
            and pending is not None
            and index + 1 < len(inlines)
            and inlines[index + 1]["t"] == "Str"
        ):
            pending += " "
        else:
            if pending is not None:
                yield {"t": "Str", "c": pending}
                pending = None
            yield inline
        index += 1
    if pending is not None:
        yield {"t": "Str", "c": pending}


def _has_cjk(text: str) -> bool:
    """Whether pandoc would set some of `text` in an East Asian font."""
    return BEYOND_CJK_START.search(text) is not None and CJK.search(text) is not None


def _soft_hyphenated(text: str) -> list[str]:
    """Pandoc's `splitTextBy` at soft hyphens: several in a row count as one, a last one
    is dropped."""
    pieces = []
    while text:
        first, _, text = text.partition("\xad")
        pieces.append(first)
        text = text.lstrip("\xad")
    return pieces


def _position(name: str) -> int:
    """A run property's place in the schema's order, from its name or its markup."""
    if name.startswith("<"):
        name = name[3:].split()[0].rstrip("/>")
    return RUN_PROPERTY_ORDER.get(name, 0)


def _is_space(character: str) -> bool:
    return character in " \t\n\r\f\v\xa0" or unicodedata.category(character) == "Zs"


def _chunks(text: str) -> list[str]:
    """The text in runs: CJK apart from the rest, so that Word picks its East Asian font."""
    if not text:
        return []
    if not _has_cjk(text):
        return [text]
    words = _group(list(text), lambda a, b: _is_space(a) == _is_space(b))
    words = ["".join(word) for word in words]

    def together(first: str, other: str) -> bool:
        first_cjk, other_cjk = bool(CJK.search(first)), bool(CJK.search(other))
        return (
            not (first_cjk or other_cjk)
            or (all(map(_is_space, first)) and not other_cjk)
            or (all(map(_is_space, other)) and not first_cjk)
        )

    return ["".join(group) for group in _group(words, together)]


def _group(items: list[Any], same: Any) -> list[list[Any]]:
    """Haskell's `groupBy`: each item is compared with the first of its group."""
    groups: list[list[Any]] = []
    for item in items:
        if groups and same(groups[-1][0], item):
            groups[-1].append(item)
        else:
            groups.append([item])
    return groups


def _lines(text: str) -> list[str]:
    """Haskell's `lines`: no empty last line after a final line break."""
    lines = text.split("\n")
    return lines[:-1] if lines[-1] == "" else lines


def _single_image(block: Node) -> bool:
    return len(block["c"]) == 1 and block["c"][0]["t"] == "Image"


def _ends_with_paragraph(content: str) -> bool:
    if content.endswith("</w:p>") or content.endswith(EMPTY_PARAGRAPH):
        return True
    if content.endswith("/>") and content[content.rfind("<") :].startswith("<w:bookmarkEnd "):
        before = content[: content.rfind("<")]
        return before.endswith("</w:p>") or before.endswith(EMPTY_PARAGRAPH)
    return False


def _stringify(value: Any) -> str:
    """Pandoc's `stringify`: the words of blocks or inlines, without notes or markup."""
    return "".join(_words(value))


def _words(value: Any) -> Iterator[str]:
    if isinstance(value, list):
        for item in value:
            yield from _words(item)
        return
    if not isinstance(value, dict):
        return  # attributes, numbers: no words
    kind, content = value["t"], value.get("c")
    if kind == "Str":
        yield content
    elif kind in ("Space", "SoftBreak", "LineBreak"):
        yield " "
    elif kind == "Code":
        yield content[1]
    elif kind == "Quoted":
        opening, closing = QUOTE_MARKS[content[0]["t"]]
        yield opening
        yield from _words(content[1])
        yield closing
    elif kind not in ("Note", "CodeBlock", "RawBlock", "RawInline"):
        yield from _words(content)


def _scaled_images(block: Node, share: float) -> Node:
    """The block with its images' widths (and heights) scaled to a cell's share."""
    if isinstance(block, list):
        return [_scaled_images(item, share) for item in block]  # type: ignore[return-value]
    if not isinstance(block, dict):
        return block
    if block.get("t") == "Image":
        (ident, classes, pairs), alt, target = block["c"]
        attributes = dict(reversed(pairs))
        width = _dimension(attributes.get("width"))
        height = _dimension(attributes.get("height"))
        scaled = [("width", _show(_scale(width, share) if width else ("%", share * 100)))]
        if height:
            scaled.append(("height", _show(_scale(height, share))))
        rest = [[k, v] for k, v in pairs if k not in ("width", "height")]
        return {"t": "Image", "c": [[ident, classes, [*map(list, scaled), *rest]], alt, target]}
    return {key: _scaled_images(value, share) for key, value in block.items()}  # type: ignore[arg-type]


def _scale(dimension: tuple[str, float], share: float) -> tuple[str, float]:
    unit, amount = dimension
    if unit == "px":
        return unit, float(round(share * amount))  # to even, as Haskell's `round`
    return unit, share * amount


def _show(dimension: tuple[str, float]) -> str:
    """A length as Haskell's `show` writes pandoc's `Dimension`."""
    unit, amount = dimension
    if unit == "px":
        return f"{int(amount)}px"
    if unit == "%":
        return f"{_haskell_double(amount)}%"
    text = f"{amount:.5f}".rstrip("0")
    return f"{text.removesuffix('.')}{unit}"


def _haskell_double(value: float) -> str:
    """Haskell's `show` of a Double in the range lengths take: `50.0`, `33.333333333333336`."""
    text = repr(value)
    return text if "e" not in text else f"{value:f}"


def _dimension(value: str | None) -> tuple[str, float] | None:
    """A width or height attribute as (unit, amount): pandoc's `lengthToDim`."""
    if value is None:
        return None
    match = LENGTH.fullmatch(value)
    if match is None:
        return None
    amount, unit = float(match.group(1)), match.group(2)
    if unit in ("", "px"):
        return "px", float(floor(amount))
    if unit == "%" or unit in LENGTH_UNITS:
        return unit, amount
    return None


def _inches(dimension: tuple[str, float]) -> float:
    unit, amount = dimension
    if unit == "px":
        return amount / DEFAULT_DPI
    if unit == "%":
        return 0.0
    if unit == "cm":
        return amount * 0.3937007874
    if unit == "mm":
        return amount * 0.03937007874
    if unit == "pt":
        return amount / 72
    if unit == "pc":
        return amount / 6
    if unit == "em":
        return amount * (11 / 64)
    return amount


def _extent(
    size: tuple[int, int, int, int], attributes: dict[str, str], print_width: int
) -> tuple[int, int]:
    """The picture's size in EMU: as asked, else at its resolution, fitted to the column."""
    pixels_x, pixels_y, dpi_x, dpi_y = size
    width = _dimension(attributes.get("width"))
    height = _dimension(attributes.get("height"))
    wanted_x = 72 * _inches(width) if width and width[0] != "%" else None
    wanted_y = 72 * _inches(height) if height and height[0] != "%" else None
    ratio = pixels_x / pixels_y
    if wanted_x is not None and wanted_y is not None:
        x, y = wanted_x, wanted_y
    elif wanted_x is not None:
        x, y = wanted_x, wanted_x / ratio
    elif wanted_y is not None:
        x, y = wanted_y * ratio, wanted_y
    else:
        x, y = pixels_x * 72 / dpi_x, pixels_y * 72 / dpi_y
    page = print_width * (floor(width[1] * 127) if width and width[0] == "%" else EMU_PER_POINT)
    x, y = x * EMU_PER_POINT, y * EMU_PER_POINT
    if x > page:
        return page, floor((page / x) * y)
    return floor(x), floor(y)


def _data_uri(source: str) -> tuple[bytes, str] | None:
    if not source.startswith("data:") or "," not in source:
        return None
    header, payload = source[5:].split(",", 1)
    media_type, *parameters = header.split(";")
    if "base64" in parameters:
        return base64.b64decode(payload), media_type.lower()
    return unquote_to_bytes(payload), media_type.lower()


def _size(data: bytes) -> tuple[int, int, int, int]:
    """Pixels and dots per inch as pandoc reads them; 300 × 200 at 72 when unreadable."""
    try:
        if data[:4] == b"\x89PNG":
            return _png_size(data)
        if data[:3] == b"\xff\xd8\xff":
            return _jpeg_size(data)
        if data[:4] == b"GIF8":
            x, y = struct.unpack("<HH", data[6:10])
            return x, y, 72, 72
        if b"<svg" in data[:4096] or b"<SVG" in data[:4096]:
            return _svg_size(data)
    except (struct.error, ValueError, IndexError, etree.XMLSyntaxError):
        pass
    return 300, 200, 72, 72


def _png_size(data: bytes) -> tuple[int, int, int, int]:
    x, y = struct.unpack(">II", data[16:24])
    dpi_x = dpi_y = 72
    position = 8
    while position + 8 <= len(data):
        length, kind = struct.unpack(">I4s", data[position : position + 8])
        if kind == b"pHYs":
            per_meter_x, per_meter_y, unit = struct.unpack(
                ">IIB", data[position + 8 : position + 17]
            )
            if unit == 1:
                dpi_x, dpi_y = per_meter_x * 254 // 10000, per_meter_y * 254 // 10000
            break
        if kind in (b"IDAT", b"IEND"):
            break
        position += 12 + length
    return x, y, dpi_x or 72, dpi_y or 72


def _jpeg_size(data: bytes) -> tuple[int, int, int, int]:
    dpi_x = dpi_y = 72
    position = 2
    while position + 4 <= len(data):
        if data[position] != 0xFF:
            raise ValueError("not a JPEG segment")
        marker = data[position + 1]
        length = struct.unpack(">H", data[position + 2 : position + 4])[0]
        segment = data[position + 4 : position + 2 + length]
        if marker == 0xE0 and segment[:5] == b"JFIF\x00":
            unit, density_x, density_y = struct.unpack(">BHH", segment[7:12])
            if unit == 1:
                dpi_x, dpi_y = density_x, density_y
            elif unit == 2:
                dpi_x, dpi_y = density_x * 254 // 100, density_y * 254 // 100
        if 0xC0 <= marker <= 0xCF and marker not in (0xC4, 0xC8, 0xCC):
            y, x = struct.unpack(">HH", segment[1:5])
            return x, y, dpi_x or 72, dpi_y or 72
        position += 2 + length
    raise ValueError("no frame in the JPEG")


def _svg_size(data: bytes) -> tuple[int, int, int, int]:
    root = etree.fromstring(data.removeprefix(b"\xef\xbb\xbf"))
    box = root.get("viewBox", "").split()

    def pixels(name: str, fallback: int) -> int:
        dimension = _dimension(root.get(name))
        if dimension is None:
            if len(box) != 4:
                raise ValueError("no size")
            return int(box[fallback])  # whole numbers only, as pandoc reads them
        return (
            int(dimension[1]) if dimension[0] == "px" else floor(DEFAULT_DPI * _inches(dimension))
        )

    return pixels("width", 2), pixels("height", 3), DEFAULT_DPI, DEFAULT_DPI


def _bookmark_name(ident: str) -> str:
    """Word wants a bookmark name of at most 40 characters, starting with a letter."""
    if ident and ident[0].isalpha() and len(ident) <= 40:
        return ident
    return "X" + hashlib.sha1(ident.encode("utf-8")).hexdigest()[1:]


def _meta_text(value: Node | None) -> str:
    if value is None:
        return ""
    if value["t"] == "MetaString":
        return value["c"]
    return _stringify(value["c"])


def _text(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _attribute(text: str) -> str:
    return _text(text).replace('"', "&quot;")
