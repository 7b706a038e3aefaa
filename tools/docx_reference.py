"""Makes `src/ebook_builder/data/reference-<design>.docx`, one per book design
(`model.DESIGNS`): the page, fonts and paragraph styles of every DOCX we write.

Not part of a build, nor of the package. The files are data, like the designs' CSS: after
changing a style here, run `python tools/docx_reference.py` (in the project's environment)
and commit the new files. The result is byte-identical from run to run.

It starts from the bundled pandoc's own reference document, so that every style the
pandoc DOCX writer asks for by name exists, and replaces what a book needs: a 6 × 9 in
trade page with a page number in the footer (none on the title page), the book face
(`fonts.FACE_NAME`) named in the styles and as the theme's fonts (so Word's Design › Fonts
shows it), and styles that follow the design's stylesheet (`base.css` and the design's
own): paragraphs, headings by level with each chapter (Heading 1) on a new page, block
quotes, epigraphs, signatures, verse, captions, footnotes, tables and the table of
contents. What the designs share is in `SHARED_STYLES`; what tells them apart in
`DESIGN_STYLES`.
"""

from __future__ import annotations

import io
import subprocess
import zipfile
from pathlib import Path

from fontTools.misc import sstruct
from fontTools.ttLib import TTFont
from fontTools.ttLib.tables.O_S_2f_2 import panoseFormat
from lxml import etree

from ebook_builder.fonts import FACE_NAME, face_file
from ebook_builder.formats.docx import (
    FOOT_MARGIN,
    MARGIN,
    PAGE_HEIGHT,
    PAGE_WIDTH,
    TEXT_WIDTH,
    VERSE_INDENTS,
    verse_style,
)
from ebook_builder.formats.docx.ooxml import A_NS, CT_NS, R_NS, REL_NS, W_NS, w, xml_bytes
from ebook_builder.model import DESIGNS
from ebook_builder.pandoc import pandoc_path

FOOTER_TYPE = f"{R_NS}/footer"
FOOTER_CONTENT = "application/vnd.openxmlformats-officedocument.wordprocessingml.footer+xml"

DATA = Path(__file__).resolve().parents[1] / "src" / "ebook_builder" / "data"
ZIP_TIME = (1980, 1, 1, 0, 0, 0)

BODY_SIZE = 21  # half-points: 10.5 pt, a book size on a 6 × 9 page
EM = 210  # 1 em of 10.5 pt
STANZA_SPACE = 240  # base.css's 1em between stanzas, at Word's line height

# Every style a book uses: (type, id, name, based on, next, pPr, rPr). Names are the ones
# pandoc's writer looks up ("Body Text", "Block Text", "Image Caption"…) or, for the
# built-in styles Word knows by lower-case name ("heading 1", "toc 1"), Word's own, so
# that Word treats them as its headings and contents styles. `custom-style` names used
# by the DOCX writer (Epigraph, Signature, Cover Image…) are defined here too, so that
# pandoc does not invent plain ones.
Style = tuple[str, str, str, str | None, str | None, str, str]
HEADING = "<w:keepNext/><w:keepLines/>"
FACE = f"<w:rFonts w:ascii='{FACE_NAME}' w:hAnsi='{FACE_NAME}' w:cs='{FACE_NAME}'/>"
SHARED_STYLES: tuple[Style, ...] = (
    ("paragraph", "Normal", "Normal", None, None, "<w:widowControl/>", FACE),
    (
        "paragraph",
        "FirstParagraph",
        "First Paragraph",
        "BodyText",
        "BodyText",
        "<w:ind w:firstLine='0'/>",
        "",
    ),
    (
        "paragraph",
        "Compact",
        "Compact",
        "BodyText",
        None,
        "<w:spacing w:before='40' w:after='40'/><w:ind w:firstLine='0'/><w:jc w:val='left'/>",
        "",
    ),
    (
        "paragraph",
        "Title",
        "Title",
        "Normal",
        "Subtitle",
        "<w:keepNext/><w:spacing w:before='240' w:after='120' w:line='240' w:lineRule='auto'/>"
        "<w:jc w:val='center'/>",
        "<w:b/><w:bCs/><w:sz w:val='44'/><w:szCs w:val='44'/>",
    ),
    (
        "paragraph",
        "Subtitle",
        "Subtitle",
        "Title",
        "Author",
        "<w:spacing w:before='0' w:after='240'/>",
        "<w:b w:val='0'/><w:bCs w:val='0'/><w:i/><w:iCs/><w:sz w:val='28'/><w:szCs w:val='28'/>",
    ),
    (
        "paragraph",
        "Author",
        "Author",
        "Title",
        None,
        "<w:spacing w:before='240' w:after='0'/>",
        "<w:b w:val='0'/><w:bCs w:val='0'/><w:sz w:val='26'/><w:szCs w:val='26'/>",
    ),
    (
        "paragraph",
        "Publisher",
        "Publisher",
        "Author",
        None,
        "<w:spacing w:before='360' w:after='0'/>",
        "<w:smallCaps/><w:sz w:val='21'/><w:szCs w:val='21'/>",
    ),
    (
        "paragraph",
        "CoverImage",
        "Cover Image",
        "Normal",
        "Title",
        "<w:keepNext/><w:spacing w:before='0' w:after='240' w:line='240' w:lineRule='auto'/>"
        "<w:jc w:val='center'/>",
        "",
    ),
    (
        "paragraph",
        "BlockText",
        "Block Text",
        "BodyText",
        "BodyText",
        "<w:spacing w:before='120' w:after='120'/><w:ind w:left='480' w:right='480'"
        " w:firstLine='0'/>",
        "<w:sz w:val='20'/><w:szCs w:val='20'/>",
    ),
    (
        "paragraph",
        "Signature",
        "Signature",
        "Normal",
        None,
        # Set right, as base.css sets it: its lines start together at the column's middle.
        f"<w:keepLines/><w:spacing w:before='320' w:after='320'/>"
        f"<w:ind w:left='{TEXT_WIDTH // 2}'/><w:jc w:val='left'/>",
        "",
    ),
    # Verse, as base.css sets it: left-aligned, no first-line indent, a wrapped line hanging
    # 1.5 em under its start, each indent class an em more, space before each stanza.
    *(
        (
            "paragraph",
            verse_style(stanza, indent).replace(" ", ""),
            verse_style(stanza, indent),
            "Normal" if (stanza, indent) == (False, 0) else "Verse",
            "Verse",
            "<w:keepLines/>"
            f"<w:spacing w:before='{STANZA_SPACE if stanza else 0}' w:after='0'/>"
            f"<w:ind w:left='{EM * 3 // 2 + EM * indent}' w:hanging='{EM * 3 // 2}'/>"
            "<w:jc w:val='left'/>",
            "",
        )
        for stanza in (False, True)
        for indent in range(VERSE_INDENTS + 1)
    ),
    (
        "paragraph",
        "FootnoteText",
        "Footnote Text",
        "Normal",
        "FootnoteText",
        "<w:spacing w:after='60' w:line='240' w:lineRule='auto'/><w:jc w:val='both'/>",
        "<w:sz w:val='18'/><w:szCs w:val='18'/>",
    ),
    (
        "paragraph",
        "FootnoteBlockText",
        "Footnote Block Text",
        "FootnoteText",
        None,
        "<w:ind w:left='320' w:right='320'/>",
        "",
    ),
    (
        "character",
        "FootnoteReference",
        "Footnote Reference",
        "DefaultParagraphFont",
        None,
        "",
        "<w:vertAlign w:val='superscript'/>",
    ),
    (
        "character",
        "Hyperlink",
        "Hyperlink",
        "DefaultParagraphFont",
        None,
        "",
        "<w:u w:val='single'/>",
    ),
    # The DOCX is for editing and for print: the writer gives cross-references this style
    # instead of Hyperlink, so that they read as text, as in print.
    ("character", "InternalLink", "Internal Link", "DefaultParagraphFont", None, "", ""),
    (
        "paragraph",
        "Caption",
        "caption",
        "Normal",
        None,
        "<w:spacing w:before='60' w:after='240' w:line='240' w:lineRule='auto'/>"
        "<w:jc w:val='center'/>",
        "<w:i/><w:iCs/><w:sz w:val='19'/><w:szCs w:val='19'/>",
    ),
    ("paragraph", "ImageCaption", "Image Caption", "Caption", None, "", ""),
    (
        "paragraph",
        "TableCaption",
        "Table Caption",
        "Caption",
        None,
        "<w:keepNext/><w:spacing w:before='240' w:after='60'/>",
        "",
    ),
    (
        "paragraph",
        "Figure",
        "Figure",
        "Normal",
        None,
        "<w:spacing w:before='240' w:after='240'/><w:jc w:val='center'/>",
        "",
    ),
    (
        "paragraph",
        "CaptionedFigure",
        "Captioned Figure",
        "Figure",
        None,
        "<w:keepNext/><w:spacing w:after='60'/>",
        "",
    ),
    (
        "paragraph",
        "TOCHeading",
        "TOC Heading",
        "Heading1",
        "TOC1",
        # Level 9 is "body text": the contents heading must not list itself.
        "<w:outlineLvl w:val='9'/>",
        "",
    ),
    *(
        (
            "paragraph",
            f"TOC{level}",
            f"toc {level}",
            "Normal",
            "Normal",
            f"<w:tabs><w:tab w:val='right' w:leader='dot' w:pos='{TEXT_WIDTH}'/></w:tabs>"
            f"<w:spacing w:before='{120 if level == 1 else 0}' w:after='0'/>"
            f"<w:ind w:left='{360 * (level - 1) + 360}' w:right='432' w:hanging='360'/>",
            "",
        )
        for level in (1, 2, 3)
    ),
    (
        "paragraph",
        "Footer",
        "footer",
        "Normal",
        None,
        "<w:jc w:val='center'/>",
        "<w:sz w:val='18'/><w:szCs w:val='18'/>",
    ),
)


def _headings(
    align: str, sizes: tuple[int, int, int], opening: str, looks: tuple[str, str, str, str]
) -> tuple[Style, ...]:
    """Headings 1–6 of a design: aligned as its CSS aligns them; Heading 1 on a new page
    (each chapter is a file of its own in the e-book) and set as the design opens a
    chapter (`opening`: its spacing, and any border, in `w:pPr`'s schema order); the sizes
    of levels 1–3 in half-points; each level's run properties (`looks`: levels 1, 2, 3,
    then 4–6)."""
    spacing = {
        2: "<w:spacing w:before='400' w:after='160' w:line='264' w:lineRule='auto'/>",
        3: "<w:spacing w:before='320' w:after='120' w:line='264' w:lineRule='auto'/>",
    }
    rows: list[Style] = []
    for level in range(1, 7):
        size = sizes[level - 1] if level <= 3 else BODY_SIZE
        if level == 1:
            placing = f"<w:pageBreakBefore/>{opening}"
        else:
            placing = spacing.get(level, "<w:spacing w:before='240' w:after='80'/>")
        ppr = f"{HEADING}{placing}<w:jc w:val='{align}'/><w:outlineLvl w:val='{level - 1}'/>"
        rpr = f"{looks[min(level, 4) - 1]}<w:sz w:val='{size}'/><w:szCs w:val='{size}'/>"
        rows.append(
            (
                "paragraph",
                f"Heading{level}",
                f"heading {level}",
                "Normal",
                "FirstParagraph",
                ppr,
                rpr,
            )
        )
    return tuple(rows)


def _body_text(indent: int, align: str, line: int) -> Style:
    """Body Text: the design's paragraph indent (twips), alignment and leading (240ths)."""
    return (
        "paragraph",
        "BodyText",
        "Body Text",
        "Normal",
        "BodyText",
        f"<w:spacing w:before='0' w:after='0' w:line='{line}' w:lineRule='auto'/>"
        f"<w:ind w:firstLine='{indent}'/><w:jc w:val='{align}'/>",
        "",
    )


def _epigraph(
    border: str, placing: str, rpr: str, source_ppr: str, source_rpr: str
) -> tuple[Style, ...]:
    """The Epigraph and Epigraph Source styles (the source: the epigraph's last line). The
    border (`w:pBdr`) and the indent and alignment (`placing`) are apart because the
    schema orders `w:pPr`'s children: the border before the spacing, the indent after."""
    return (
        (
            "paragraph",
            "Epigraph",
            "Epigraph",
            "Normal",
            "FirstParagraph",
            f"<w:keepNext/><w:keepLines/>{border}<w:spacing w:before='0' w:after='80'/>{placing}",
            rpr,
        ),
        (
            "paragraph",
            "EpigraphSource",
            "Epigraph Source",
            "Epigraph",
            "FirstParagraph",
            f"<w:keepNext w:val='0'/><w:spacing w:after='480'/>{source_ppr}",
            source_rpr,
        ),
    )


BOLD = "<w:b/><w:bCs/>"
ITALIC = "<w:i/><w:iCs/>"
SMALL_CAPS = "<w:smallCaps/><w:spacing w:val='10'/>"
# What tells the designs apart, as their stylesheets do (`classic.css`, `modern.css`).
DESIGN_STYLES: dict[str, tuple[Style, ...]] = {
    # Justified, indented text on a book's leading; headings centred in the text's weight,
    # chapter titles well down the page; the epigraph italic, to the right.
    "classic": (
        _body_text(EM * 6 // 5, "both", 300),
        *_headings(
            "center",
            (34, 26, 21),
            "<w:spacing w:before='1440' w:after='600' w:line='264' w:lineRule='auto'/>",
            ("", ITALIC, SMALL_CAPS, ITALIC),
        ),
        *_epigraph(
            "",
            f"<w:ind w:left='{TEXT_WIDTH * 15 // 100}'/><w:jc w:val='left'/>",
            ITALIC,
            "<w:jc w:val='right'/>",
            "<w:i w:val='0'/><w:iCs w:val='0'/>",
        ),
    ),
    # Ragged-right text on a looser leading; bold headings set left on a steeper scale,
    # a bar over each chapter title; the epigraph marked by a rule at its left.
    "modern": (
        _body_text(EM, "left", 336),
        *_headings(
            "left",
            (40, 28, 24),
            "<w:pBdr><w:top w:val='single' w:sz='18' w:space='10' w:color='auto'/></w:pBdr>"
            "<w:spacing w:before='960' w:after='420' w:line='264' w:lineRule='auto'/>",
            (BOLD, BOLD, BOLD, BOLD),
        ),
        *_epigraph(
            "<w:pBdr><w:left w:val='single' w:sz='12' w:space='8' w:color='auto'/></w:pBdr>",
            "<w:ind w:left='240'/><w:jc w:val='left'/>",
            "",
            "<w:jc w:val='left'/>",
            "<w:smallCaps/>",
        ),
    ),
}

TABLE_STYLE = f"""<w:style xmlns:w="{W_NS}" w:type="table" w:default="1" w:styleId="Table">
  <w:name w:val="Table"/><w:basedOn w:val="TableNormal"/><w:qFormat/>
  <w:pPr><w:spacing w:before="0" w:after="0" w:line="240" w:lineRule="auto"/></w:pPr>
  <w:tblPr>
    <w:tblInd w:w="0" w:type="dxa"/>
    <w:tblBorders>
      <w:top w:val="single" w:sz="4" w:space="0" w:color="auto"/>
      <w:left w:val="single" w:sz="4" w:space="0" w:color="auto"/>
      <w:bottom w:val="single" w:sz="4" w:space="0" w:color="auto"/>
      <w:right w:val="single" w:sz="4" w:space="0" w:color="auto"/>
      <w:insideH w:val="single" w:sz="4" w:space="0" w:color="auto"/>
      <w:insideV w:val="single" w:sz="4" w:space="0" w:color="auto"/>
    </w:tblBorders>
    <w:tblCellMar>
      <w:top w:w="40" w:type="dxa"/><w:left w:w="100" w:type="dxa"/>
      <w:bottom w:w="40" w:type="dxa"/><w:right w:w="100" w:type="dxa"/>
    </w:tblCellMar>
  </w:tblPr>
  <w:tblStylePr w:type="firstRow"><w:rPr><w:b/><w:bCs/></w:rPr></w:tblStylePr>
</w:style>"""

DOC_DEFAULTS = f"""<w:docDefaults xmlns:w="{W_NS}">
  <w:rPrDefault><w:rPr>
    <w:rFonts w:ascii="{FACE_NAME}" w:eastAsiaTheme="minorEastAsia"
              w:hAnsi="{FACE_NAME}" w:cs="{FACE_NAME}"/>
    <w:sz w:val="{BODY_SIZE}"/><w:szCs w:val="{BODY_SIZE}"/>
    <w:lang w:val="en-US" w:eastAsia="en-US" w:bidi="ar-SA"/>
  </w:rPr></w:rPrDefault>
  <w:pPrDefault><w:pPr>
    <w:spacing w:after="0" w:line="300" w:lineRule="auto"/>
  </w:pPr></w:pPrDefault>
</w:docDefaults>"""

# The body only shows the styles to whoever opens the reference; pandoc keeps nothing of
# it but the section properties: page size, margins, footer, "different first page".
DOCUMENT = f"""<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<w:document xmlns:w="{W_NS}" xmlns:r="{R_NS}"><w:body>
  <w:p><w:pPr><w:pStyle w:val="Title"/></w:pPr><w:r><w:t>Title</w:t></w:r></w:p>
  <w:p><w:pPr><w:pStyle w:val="Subtitle"/></w:pPr><w:r><w:t>Subtitle</w:t></w:r></w:p>
  <w:p><w:pPr><w:pStyle w:val="Author"/></w:pPr><w:r><w:t>Author</w:t></w:r></w:p>
  <w:p><w:pPr><w:pStyle w:val="Heading1"/></w:pPr><w:r><w:t>Heading 1</w:t></w:r></w:p>
  <w:p><w:pPr><w:pStyle w:val="Epigraph"/></w:pPr><w:r><w:t>Epigraph</w:t></w:r></w:p>
  <w:p><w:pPr><w:pStyle w:val="EpigraphSource"/></w:pPr><w:r><w:t>Source</w:t></w:r></w:p>
  <w:p><w:pPr><w:pStyle w:val="FirstParagraph"/></w:pPr><w:r><w:t>First Paragraph</w:t></w:r></w:p>
  <w:p><w:pPr><w:pStyle w:val="BodyText"/></w:pPr><w:r><w:t>Body Text</w:t></w:r></w:p>
  <w:p><w:pPr><w:pStyle w:val="BlockText"/></w:pPr><w:r><w:t>Block Text</w:t></w:r></w:p>
  <w:p><w:pPr><w:pStyle w:val="Heading2"/></w:pPr><w:r><w:t>Heading 2</w:t></w:r></w:p>
  <w:p><w:pPr><w:pStyle w:val="Heading3"/></w:pPr><w:r><w:t>Heading 3</w:t></w:r></w:p>
  <w:p><w:pPr><w:pStyle w:val="Signature"/></w:pPr><w:r><w:t>Signature</w:t></w:r></w:p>
  <w:p><w:pPr><w:pStyle w:val="VerseStanza"/></w:pPr><w:r><w:t>Verse Stanza</w:t></w:r></w:p>
  <w:p><w:pPr><w:pStyle w:val="Verse"/></w:pPr><w:r><w:t>Verse</w:t></w:r></w:p>
  <w:p><w:pPr><w:pStyle w:val="Verse1"/></w:pPr><w:r><w:t>Verse 1</w:t></w:r></w:p>
  <w:sectPr>
    <w:footerReference w:type="default" r:id="rIdFooterPageNumber"/>
    <w:pgSz w:w="{PAGE_WIDTH}" w:h="{PAGE_HEIGHT}"/>
    <w:pgMar w:top="{MARGIN}" w:right="{MARGIN}" w:bottom="{FOOT_MARGIN}" w:left="{MARGIN}"
             w:header="576" w:footer="576" w:gutter="0"/>
    <w:cols w:space="720"/>
    <w:titlePg/>
  </w:sectPr>
</w:body></w:document>"""

FOOTER = f"""<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<w:ftr xmlns:w="{W_NS}" xmlns:r="{R_NS}"><w:p><w:pPr><w:pStyle w:val="Footer"/></w:pPr>
<w:r><w:fldChar w:fldCharType="begin"/></w:r>
<w:r><w:instrText xml:space="preserve"> PAGE </w:instrText></w:r>
<w:r><w:fldChar w:fldCharType="separate"/></w:r><w:r><w:t>1</w:t></w:r>
<w:r><w:fldChar w:fldCharType="end"/></w:r></w:p></w:ftr>"""


def pandoc_reference() -> dict[str, bytes]:
    """The parts of the bundled pandoc's default reference document, in archive order."""
    data = subprocess.run(
        [pandoc_path(), "--print-default-data-file", "reference.docx"],
        capture_output=True,
        check=True,
    ).stdout
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


def style_element(
    kind: str,
    style_id: str,
    name: str,
    based_on: str | None,
    following: str | None,
    ppr: str,
    rpr: str,
) -> etree._Element:
    """One `<w:style>` from a row of `STYLES`."""
    parts = [f'<w:name w:val="{name}"/>']
    if based_on:
        parts.append(f'<w:basedOn w:val="{based_on}"/>')
    if following:
        parts.append(f'<w:next w:val="{following}"/>')
    parts.append("<w:qFormat/>")
    if ppr:
        parts.append(f"<w:pPr>{ppr}</w:pPr>")
    if rpr:
        parts.append(f"<w:rPr>{rpr}</w:rPr>")
    default = ' w:default="1"' if style_id == "Normal" else ""
    return etree.fromstring(
        f'<w:style xmlns:w="{W_NS}" w:type="{kind}"{default} w:styleId="{style_id}">'
        + "".join(parts).replace("'", '"')
        + "</w:style>"
    )


def make_styles(styles_xml: bytes, design: str) -> bytes:
    """Pandoc's styles with the design's put in place of the ones of the same id."""
    root = etree.fromstring(styles_xml)
    old = root.find(w("docDefaults"))
    root.replace(old, etree.fromstring(DOC_DEFAULTS))
    ours = [style_element(*row) for row in (*SHARED_STYLES, *DESIGN_STYLES[design])]
    ours.append(etree.fromstring(TABLE_STYLE))
    wanted = {s.get(w("styleId")) for s in ours}
    for style in root.findall(w("style")):
        if style.get(w("styleId")) in wanted:
            root.remove(style)
    root.extend(ours)
    return xml_bytes(root)


def face_panose() -> str:
    """The book face's PANOSE classification, from its OS/2 table, as ten hex bytes: what
    Word and LibreOffice match a substitute by when the face is not installed."""
    return sstruct.pack(panoseFormat, TTFont(face_file("regular"))["OS/2"].panose).hex().upper()


def make_theme(theme_xml: bytes) -> bytes:
    """The theme with the book face as both its heading and its body font, so that Word's
    Design › Fonts shows the face the styles name."""
    root = etree.fromstring(theme_xml)
    for font in ("majorFont", "minorFont"):
        latin = root.find(f".//{{{A_NS}}}{font}/{{{A_NS}}}latin")
        latin.set("typeface", FACE_NAME)
        latin.set("panose", face_panose())
    return xml_bytes(root)


def make_font_table(fonts_xml: bytes) -> bytes:
    """Describe the book face, so an application without it picks a similar serif."""
    root = etree.fromstring(fonts_xml)
    root.insert(
        0,
        etree.fromstring(
            f'<w:font xmlns:w="{W_NS}" w:name="{FACE_NAME}"><w:panose1 w:val="{face_panose()}"/>'
            '<w:charset w:val="00"/><w:family w:val="roman"/><w:pitch w:val="variable"/></w:font>'
        ),
    )
    return xml_bytes(root)


def make_settings(settings_xml: bytes) -> bytes:
    """Hyphenate, as base.css does: justified lines in a 4.5 in column need it.

    The schema orders the settings; hyphenation comes right after the default tab stop.
    """
    root = etree.fromstring(settings_xml)
    root.find(w("defaultTabStop")).addnext(etree.Element(w("autoHyphenation")))
    return xml_bytes(root)


def add_footer(rels_xml: bytes, types_xml: bytes) -> tuple[bytes, bytes]:
    """The relationship and content type of the page-number footer."""
    rels = etree.fromstring(rels_xml)
    etree.SubElement(
        rels,
        f"{{{REL_NS}}}Relationship",
        Id="rIdFooterPageNumber",
        Type=FOOTER_TYPE,
        Target="footer1.xml",
    )
    types = etree.fromstring(types_xml)
    etree.SubElement(
        types, f"{{{CT_NS}}}Override", PartName="/word/footer1.xml", ContentType=FOOTER_CONTENT
    )
    return (
        xml_bytes(rels),
        xml_bytes(types),
    )


def output_path(design: str) -> Path:
    """Where the design's reference document lives (`designs.reference_docx` reads it)."""
    return DATA / f"reference-{design}.docx"


def build_reference(design: str) -> bytes:
    """The design's reference document's bytes, the same on every run."""
    parts = pandoc_reference()
    parts["word/styles.xml"] = make_styles(parts["word/styles.xml"], design)
    parts["word/theme/theme1.xml"] = make_theme(parts["word/theme/theme1.xml"])
    parts["word/fontTable.xml"] = make_font_table(parts["word/fontTable.xml"])
    parts["word/settings.xml"] = make_settings(parts["word/settings.xml"])
    parts["word/document.xml"] = DOCUMENT.encode("utf-8")
    parts["word/footer1.xml"] = FOOTER.encode("utf-8")
    parts["word/_rels/document.xml.rels"], parts["[Content_Types].xml"] = add_footer(
        parts["word/_rels/document.xml.rels"], parts["[Content_Types].xml"]
    )
    return _archive(parts)


def _archive(parts: dict[str, bytes]) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in parts.items():
            info = zipfile.ZipInfo(name, date_time=ZIP_TIME)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            archive.writestr(info, data)
    return out.getvalue()


def main() -> None:
    """Regenerate `src/ebook_builder/data/reference-<design>.docx` for every design."""
    for design in DESIGNS:
        output_path(design).write_bytes(build_reference(design))


if __name__ == "__main__":
    main()
