"""The DOCX writer, judged by python-docx, the raw WordprocessingML and LibreOffice.

LibreOffice converts every book to PDF once per module (slow: a few seconds). Without it
that test skips, except in CI (the CI variable set), where it must run.
"""

from __future__ import annotations

import importlib.util
import io
import re
import zipfile
from datetime import UTC, datetime
from pathlib import Path
from types import ModuleType

import docx
import pytest
from lxml import etree
from PIL import Image

from ebook_builder import api
from ebook_builder.designs import reference_docx
from ebook_builder.errors import BookError
from ebook_builder.formats import FORMATS
from ebook_builder.formats.docx import tree, write_docx
from ebook_builder.formats.docx.ooxml import W_NS, WP_NS
from ebook_builder.formats.docx.tree import document_tree
from ebook_builder.markup.xhtml import parse_fragment
from ebook_builder.model import DESIGNS, ConvertedBook
from tests.helpers import (
    REPO,
    SHIPPED_BOOKS,
    chapter_files,
    curly,
    libreoffice_pdfs,
    markdown_words,
)

W = f"{{{W_NS}}}"
WORD = re.compile(r"\w+")
TOUR = "feature-tour"
FIRST_BOOK = "russian-revolution-1917"


def reference_generator() -> ModuleType:
    """`tools/docx_reference.py`, a script outside the package, imported by its path."""
    path = REPO / "tools" / "docx_reference.py"
    spec = importlib.util.spec_from_file_location("docx_reference", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def convert(root: Path, book_id: str) -> ConvertedBook:
    (converted,) = api.check(root, [book_id])
    return converted


@pytest.fixture(scope="module")
def built(fixture_project: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Both shipped books and the feature tour, written once for the module."""
    out = tmp_path_factory.mktemp("docx")
    books = [(REPO, book_id) for book_id in SHIPPED_BOOKS] + [(fixture_project, TOUR)]
    paths = {}
    for root, book_id in books:
        paths[book_id] = out / f"{book_id}.docx"
        write_docx(convert(root, book_id), paths[book_id])
    return paths


@pytest.fixture(scope="module")
def pdfs(built: dict[str, Path], tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Every DOCX converted to PDF by LibreOffice, in one run with a fresh profile."""
    out = tmp_path_factory.mktemp("pdf")
    pdfs = libreoffice_pdfs(list(built.values()), out)
    return dict(zip(built, pdfs, strict=True))


def part(path: Path, name: str) -> etree._Element:
    with zipfile.ZipFile(path) as archive:
        return etree.fromstring(archive.read(name))


def style_of(paragraph: etree._Element) -> str | None:
    style = paragraph.find(f"{W}pPr/{W}pStyle")
    return style.get(f"{W}val") if style is not None else None


def text_of(element: etree._Element) -> str:
    """The text of a paragraph, breaks and tabs as spaces."""
    pieces = []
    for node in element.iter(f"{W}t", f"{W}br", f"{W}tab"):
        pieces.append(node.text or "" if node.tag == f"{W}t" else " ")
    return "".join(pieces)


def paragraphs(path: Path) -> list[etree._Element]:
    return list(part(path, "word/document.xml").iter(f"{W}p"))


def page_count(pdf: Path) -> int:
    """Pages of a PDF: LibreOffice writes each page object uncompressed."""
    return len(re.findall(rb"/Type\s*/Page(?![s\w])", pdf.read_bytes()))


def test_the_format_is_registered():
    docx = FORMATS["docx"]
    assert (docx.suffix, docx.tools) == (".docx", ("pandoc",))
    assert getattr(docx.load(), docx.writer) is write_docx


def test_warming_up_asks_pandoc_its_model_version_before_the_book_is_ready(monkeypatch):
    tree.api_version.cache_clear()
    FORMATS["docx"].warm_up()
    monkeypatch.setattr(tree, "convert_texts", lambda *_: pytest.fail("pandoc asked again"))
    assert document_tree([], "en")["pandoc-api-version"] == tree.api_version()


@pytest.mark.parametrize("book_id", [*SHIPPED_BOOKS, TOUR])
def test_python_docx_reads_the_metadata(built, fixture_project, book_id):
    root = fixture_project if book_id == TOUR else REPO
    meta = convert(root, book_id).book.metadata
    properties = docx.Document(str(built[book_id])).core_properties
    assert properties.title == meta.title
    assert properties.author == "; ".join(meta.creator_names)
    assert properties.language == meta.language
    assert properties.subject == "; ".join(meta.subjects)
    assert properties.comments == meta.description
    assert properties.identifier == meta.identifier
    for subject in meta.subjects:
        for term in subject.split("--"):
            assert term.strip() in properties.keywords.split("; ")
    assert properties.created == properties.modified == meta.modified.astimezone(UTC)


@pytest.mark.parametrize("book_id", SHIPPED_BOOKS)
def test_one_heading_1_per_chapter(built, book_id):
    document = docx.Document(str(built[book_id]))
    headings = [p.text for p in document.paragraphs if p.style.name == "Heading 1"]
    chapters = chapter_files(book_id)
    assert len(headings) == len(chapters)
    if book_id == FIRST_BOOK:
        assert len(headings) == 10
    for heading, path in zip(headings, chapter_files(book_id), strict=True):
        lines = path.read_text(encoding="utf-8").splitlines()
        assert heading == curly(next(line[2:] for line in lines if line.startswith("# ")))


@pytest.mark.parametrize("book_id", SHIPPED_BOOKS)
def test_text_keeps_the_words_of_the_markdown(built, book_id):
    """Chapters (from the first heading on: not the title page and contents) and notes."""
    expected = sum(markdown_words(p.read_text(encoding="utf-8")) for p in chapter_files(book_id))
    body = part(built[book_id], "word/document.xml").find(f"{W}body")
    found, started = 0, False
    for block in body:
        started = started or (block.tag == f"{W}p" and style_of(block) == "Heading1")
        if started:
            found += sum(len(WORD.findall(text_of(p))) for p in block.iter(f"{W}p"))
    notes = part(built[book_id], "word/footnotes.xml")
    for note in notes.iter(f"{W}footnote"):
        if note.get(f"{W}type") is None:
            found += len(WORD.findall(text_of(note)))
    assert abs(found - expected) <= 0.01 * expected, (found, expected)


@pytest.mark.parametrize("book_id", [*SHIPPED_BOOKS, TOUR])
def test_libreoffice_lays_out_at_least_a_page_per_chapter(pdfs, fixture_project, book_id):
    root = fixture_project if book_id == TOUR else REPO
    chapters = len(convert(root, book_id).chapters)
    # Title page and contents come first; every chapter starts a page.
    assert page_count(pdfs[book_id]) >= chapters + 2


def test_title_page_then_contents(built, fixture_project):
    meta = convert(fixture_project, TOUR).book.metadata
    found = paragraphs(built[TOUR])
    assert style_of(found[0]) == "CoverImage"
    assert found[0].find(f".//{W}drawing") is not None
    title_page = [(style_of(p), text_of(p)) for p in found[1:6]]
    assert title_page == [
        ("Title", meta.title),
        ("Subtitle", meta.subtitle),
        ("Author", meta.creator_names[0]),
        ("Author", meta.creator_names[1]),
        ("Publisher", meta.publisher),
    ]
    # Then the imprint and dedication (test_matter), then the contents.
    rest = [style_of(p) for p in found[6:]]
    contents = rest.index("TOCHeading")
    assert (
        set(rest[:contents]) <= {"Imprint", "Dedication"}
        and text_of(found[6 + contents]) == "Contents"
    )


@pytest.mark.parametrize("book_id", [*SHIPPED_BOOKS, TOUR])
def test_the_title_page_shows_the_cover_itself(built, fixture_project, book_id):
    root = fixture_project if book_id == TOUR else REPO
    cover = convert(root, book_id).book.cover.data
    document = docx.Document(str(built[book_id]))
    first = document.inline_shapes[0]  # the title page's picture
    embed = first._inline.graphic.graphicData.pic.blipFill.blip.embed
    assert document.part.related_parts[embed].blob == cover


def test_contents_is_a_field_that_lists_the_headings(built):
    found = paragraphs(built[TOUR])
    instructions = [t.text for p in found for t in p.iter(f"{W}instrText")]
    assert [i.split()[0] for i in instructions] == ["TOC"]
    entries = [(style_of(p), text_of(p)) for p in found if (style_of(p) or "").startswith("TOC")]
    assert entries[1:] == [
        ("TOC1", "Opening"),
        ("TOC2", "Conclusion"),
        ("TOC1", "The Middle Part"),
        ("TOC2", "Conclusion"),
        ("TOC3", "A Deeper Section"),
        ("TOC1", "Contact Us"),
    ]
    kinds = [c.get(f"{W}fldCharType") for p in found for c in p.iter(f"{W}fldChar")]
    assert kinds == ["begin", "separate", "end"]
    settings = part(built[TOUR], "word/settings.xml")
    assert settings.find(f"{W}updateFields").get(f"{W}val") == "true"


def test_footnotes_are_word_footnotes(built):
    notes = {
        n.get(f"{W}id"): text_of(n).strip()
        for n in part(built[TOUR], "word/footnotes.xml").iter(f"{W}footnote")
        if n.get(f"{W}type") is None
    }
    assert sorted(notes.values()) == [
        "A note in the second chapter.",
        "The first note, with emphasis.",
        "The second note.",
    ]
    document = part(built[TOUR], "word/document.xml")
    references = [r.get(f"{W}id") for r in document.iter(f"{W}footnoteReference")]
    assert sorted(references) == sorted(notes)
    assert "↩" not in "".join(document.itertext()) + "".join(notes.values())


def test_internal_links_land_on_bookmarks(built):
    document = part(built[TOUR], "word/document.xml")
    bookmarks = {b.get(f"{W}name") for b in document.iter(f"{W}bookmarkStart")}
    anchors = [h.get(f"{W}anchor") for h in document.iter(f"{W}hyperlink")]
    anchors = [a for a in anchors if a is not None]
    assert anchors and set(anchors) <= bookmarks
    links = {
        text_of(h): h.get(f"{W}anchor")
        for h in document.iter(f"{W}hyperlink")
        if h.get(f"{W}anchor") and style_of(h.getparent()) != "TOC1"
    }
    assert links["to the middle"] == "the-middle-part"
    assert links["to a chapter file"] == "the-middle-part"
    assert links["to a section in another file"] == "own-id"


def test_styles_follow_the_book(built):
    """Epigraph, block quote, figure and table as the stylesheet sets them."""
    styled = {(style_of(p), text_of(p)) for p in paragraphs(built[TOUR])}
    assert ("Epigraph", "“Workers of the world,” it said… and that was that.") in styled
    assert ("EpigraphSource", "— An Epigraph’s Author") in styled
    assert ("BlockText", "A block quote that spans two lines of source.") in styled
    assert ("ImageCaption", "A circle drawn in dark ink on a pale background") in styled
    assert ("Signature", "The Committee Petrograd, 1917") in styled
    after_epigraph = next(t for s, t in styled if t.startswith("This chapter has"))
    assert ("FirstParagraph", after_epigraph) in styled
    with zipfile.ZipFile(built[TOUR]) as archive:
        media = [n for n in archive.namelist() if n.startswith("word/media/")]
        assert len(media) == 2  # the cover and the circle
        assert b"data:image" not in archive.read("word/document.xml")
    assert len(list(part(built[TOUR], "word/document.xml").iter(f"{W}tbl"))) == 1


def test_a_list_in_a_block_quote_is_indented_into_it(built):
    """Pandoc's writer sets a list in a quote at the margin, after the quote; each of its
    paragraphs is indented past the quote's and marked for the importer."""
    book = built["russian-revolution-1917"]
    listed = [p for p in paragraphs(book) if p.find(f"{W}pPr/{W}numPr") is not None]
    marks = {p: [b.get(f"{W}name") for b in p.iter(f"{W}bookmarkStart")] for p in listed}
    quoted = [p for p, names in marks.items() if any(n.startswith("InQuote") for n in names)]
    assert [text_of(p)[:30] for p in quoted[:1]] == ["The equality and sovereignty o"]
    assert len(quoted) == 4
    for paragraph in quoted:
        assert paragraph.find(f"{W}pPr/{W}ind").get(f"{W}left") == "1200"  # 480 + 720
    assert all(p.find(f"{W}pPr/{W}ind") is None for p in listed if p not in quoted)
    document = docx.Document(str(book))  # python-docx reads the indent as Word would
    first = [p for p in document.paragraphs if p.text.startswith("The equality and sover")]
    assert [p.paragraph_format.left_indent for p in first] == [docx.shared.Twips(1200)]


@pytest.mark.parametrize("design", DESIGNS)
def test_reference_document_has_the_book_styles(design):
    with reference_docx(design) as reference:
        document = docx.Document(str(reference))
    styles = {s.name: s for s in document.styles}
    for name in ("Heading 2", "Heading 3", "Block Text", "Epigraph", "Image Caption"):
        assert name in styles
    assert styles["Heading 1"].paragraph_format.page_break_before
    assert "Footnote Text" in styles
    section = document.sections[0]
    assert (section.page_width.inches, section.page_height.inches) == (6, 9)
    assert section.different_first_page_header_footer


# The order ECMA-376 gives a paragraph's and a run's properties (CT_PPrBase, CT_RPr):
# Word refuses a document whose styles break it, where LibreOffice reads on.
SCHEMA_ORDER = {
    "pPr": (
        *("pStyle", "keepNext", "keepLines", "pageBreakBefore", "framePr", "widowControl"),
        *("numPr", "suppressLineNumbers", "pBdr", "shd", "tabs", "suppressAutoHyphens"),
        *("kinsoku", "wordWrap", "overflowPunct", "topLinePunct", "autoSpaceDE"),
        *("autoSpaceDN", "bidi", "adjustRightInd", "snapToGrid", "spacing", "ind"),
        *("contextualSpacing", "mirrorIndents", "suppressOverlap", "jc", "textDirection"),
        *("textAlignment", "textboxTightWrap", "outlineLvl", "divId", "cnfStyle", "rPr"),
    ),
    "rPr": (
        *("rStyle", "rFonts", "b", "bCs", "i", "iCs", "caps", "smallCaps", "strike"),
        *("dstrike", "outline", "shadow", "emboss", "imprint", "noProof", "snapToGrid"),
        *("vanish", "webHidden", "color", "spacing", "w", "kern", "position", "sz", "szCs"),
        *("highlight", "u", "effect", "bdr", "shd", "fitText", "vertAlign", "rtl", "cs"),
        *("em", "lang", "eastAsianLayout", "specVanish", "oMath"),
    ),
}


@pytest.mark.parametrize("design", DESIGNS)
def test_reference_document_styles_keep_the_schemas_order(design):
    with reference_docx(design) as reference, zipfile.ZipFile(reference) as archive:
        styles = etree.fromstring(archive.read("word/styles.xml"))
    for kind, order in SCHEMA_ORDER.items():
        for properties in styles.iter(f"{W}{kind}"):
            names = [etree.QName(child).localname for child in properties]
            assert names == sorted(names, key=order.index), names


@pytest.mark.parametrize("design", DESIGNS)
def test_reference_document_is_up_to_date(design):
    """`python tools/docx_reference.py` regenerates them after a change."""
    with reference_docx(design) as reference:
        assert reference_generator().build_reference(design) == reference.read_bytes()


def test_two_builds_are_byte_identical(fixture_project, tmp_path):
    first, second = tmp_path / "a.docx", tmp_path / "b.docx"
    write_docx(convert(fixture_project, TOUR), first)
    write_docx(convert(fixture_project, TOUR), second)
    assert first.read_bytes() == second.read_bytes()
    with zipfile.ZipFile(first) as archive:
        assert {i.date_time for i in archive.infolist()} == {(2021, 5, 4, 0, 0, 0)}


def test_source_date_epoch_sets_every_timestamp(fixture_project, tmp_path, monkeypatch):
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1600000000")  # 2020-09-13 12:26:40 UTC
    path = tmp_path / "tour.docx"
    write_docx(convert(fixture_project, TOUR), path)
    with zipfile.ZipFile(path) as archive:
        assert {i.date_time for i in archive.infolist()} == {(2020, 9, 13, 12, 26, 40)}
    properties = docx.Document(str(path)).core_properties
    assert properties.modified == datetime(2020, 9, 13, 12, 26, 40, tzinfo=UTC)


def test_bad_input_gets_the_errors_of_the_epub(make_project, tmp_path):
    """The load and validate stages are shared: same problems, nothing written."""
    make_project.book(chapters={"01-one.md": "# One\n\n[a](#x) <script></script>\n"})
    messages = {}
    for fmt in ("epub", "docx"):
        with pytest.raises(BookError) as caught:
            api.build(make_project.root, formats=[fmt], out=tmp_path / fmt)
        messages[fmt] = caught.value.lines()
        assert not (tmp_path / fmt).exists()
    assert messages["docx"] == messages["epub"]
    assert len(messages["docx"]) == 2


def test_words_reach_pandoc_joined():
    """One string per run of words: pandoc's DOCX writer crawls on word-by-word paragraphs."""
    body = parse_fragment("<p>Three  plain\nwords <em>and two</em> more.</p>")
    (paragraph,) = document_tree([body], "en")["blocks"]
    assert paragraph["c"] == [
        {"t": "Str", "c": "Three plain words "},
        {"t": "Emph", "c": [{"t": "Str", "c": "and two"}]},
        {"t": "Str", "c": " more."},
    ]


def test_wide_and_webp_images_fit_the_page(make_project, tmp_path):
    """Word shows no WebP everywhere: it goes in as PNG. Nothing is wider than the text."""
    book_dir = make_project.book(
        chapters={"01-one.md": "# One\n\n![A wide grey band](band.webp)\n"}
    )
    buffer = io.BytesIO()
    Image.new("RGB", (3000, 200), "grey").save(buffer, "WEBP")
    (book_dir / "band.webp").write_bytes(buffer.getvalue())
    path = tmp_path / "demo.docx"
    write_docx(convert(make_project.root, "demo"), path)
    with zipfile.ZipFile(path) as archive:
        media = sorted(n.rsplit(".", 1)[1] for n in archive.namelist() if "/media/" in n)
    assert media == ["jpg", "png"]  # the generated cover, the band
    text_width_emu = 4.5 * 914400
    extents = part(path, "word/document.xml").iter(f"{{{WP_NS}}}extent")
    assert all(int(e.get("cx")) <= text_width_emu for e in extents)


def test_highlighted_code_is_coloured_as_in_the_epub(make_project, tmp_path):
    """Pandoc's DOCX writer colours code whose classes name a language: the tree keeps the
    language where pandoc highlighted the XHTML, and drops it where it did not."""
    code = "```python\ndef f():\n    return 1\n```\n\n```\nplain text\n```\n"
    make_project.book(chapters={"01-one.md": f"# One\n\n{code}"})
    path = tmp_path / "demo.docx"
    write_docx(convert(make_project.root, "demo"), path)
    document = part(path, "word/document.xml")
    runs = [
        (run.find(f"{W}rPr/{W}rStyle").get(f"{W}val"), text_of(run))
        for run in document.iter(f"{W}r")
        if run.find(f"{W}rPr/{W}rStyle") is not None
    ]
    assert {("KeywordTok", "def"), ("ControlFlowTok", "return"), ("DecValTok", "1")} <= set(runs)
    assert ("VerbatimChar", "plain text") in runs


def test_an_uneven_table_reaches_word(make_project, tmp_path):
    """Pandoc's DOCX writer fails on short rows and on spans past their part's end: the
    tree evens them out (`tree._evened`) before pandoc sees them."""
    table = (
        '<table><thead><tr><th rowspan="3">tall head</th><th>h</th></tr></thead>'
        '<tbody><tr><td colspan="3">wide</td></tr><tr><td>short</td></tr></tbody></table>'
    )
    make_project.book(chapters={"01-one.md": f"# One\n\n{table}\n"})
    path = tmp_path / "demo.docx"
    write_docx(convert(make_project.root, "demo"), path)
    (grid,) = part(path, "word/document.xml").iter(f"{W}tblGrid")
    assert len(grid) == 3
