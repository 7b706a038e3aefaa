"""The books' look: each design's stylesheet (parsed as a browser tokenises it, tinycss2),
the EPUB and the DOCX of the feature tour in each design (EPUBCheck, DAISY Ace,
python-docx, LibreOffice), the notes' numbers and back links; and the code stays
ruff-clean: a style slip fails the suite like any other bug.

The render helper's tests check the computed styles in Chromium; these check the CSS and
the markup that those styles rest on.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path
from typing import Any

import docx
import mobi
import pytest
import tinycss2
from docx.enum.text import WD_ALIGN_PARAGRAPH
from lxml import etree

from ebook_builder import api
from ebook_builder.designs import stylesheet
from ebook_builder.fonts import FACE_NAME
from ebook_builder.formats import FORMATS
from ebook_builder.formats.epub import STYLESHEET
from ebook_builder.markup.xhtml import EPUB_TYPE, tag
from ebook_builder.model import DESIGNS
from tests.helpers import REPO, TOUR, ace_violations, libreoffice_pdfs, run_ace

# Where a paragraph must not be indented: it follows a heading or a block that is not prose.
NO_INDENT_AFTER = (
    *(f"h{level} + p" for level in range(1, 7)),
    "div.epigraph + p",
    "hr + p",
    "blockquote + p",
    "figure + p",
    "ul + p",
    "ol + p",
    "div.signature + p",
)


def test_ruff_check_is_clean():
    result = subprocess.run(
        [sys.executable, "-m", "ruff", "check", "src", "tests", "tools"],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr


# --- The stylesheets ---------------------------------------------------------------------


def declarations(design: str) -> dict[str, dict[str, str]]:
    """Each selector of the design's stylesheet and what it sets, later rules winning, as a
    reader cascades rules of equal weight. Fails on anything tinycss2 cannot parse."""
    rules = tinycss2.parse_stylesheet(
        stylesheet(design).decode("utf-8"), skip_comments=True, skip_whitespace=True
    )
    found: dict[str, dict[str, str]] = {}
    for rule in rules:
        assert rule.type != "error", rule.message
        if rule.type == "at-rule":
            assert rule.lower_at_keyword == "namespace"
            continue
        prelude = " ".join(tinycss2.serialize(rule.prelude).split())
        for declaration in tinycss2.parse_declaration_list(rule.content, True, True):
            assert declaration.type == "declaration", declaration
            value = " ".join(tinycss2.serialize(declaration.value).split())
            for selector in prelude.split(","):
                found.setdefault(selector.strip(), {})[declaration.lower_name] = value
    return found


@pytest.mark.parametrize("design", DESIGNS)
def test_the_namespace_rule_comes_first(design):
    """CSS ignores an `@namespace` after any rule, and with it every `epub|type` selector."""
    (first,) = tinycss2.parse_stylesheet(stylesheet(design).decode(), True, True)[:1]
    assert (first.type, first.lower_at_keyword) == ("at-rule", "namespace")


@pytest.mark.parametrize("design", DESIGNS)
def test_text_is_set_in_the_book_face(design):
    assert declarations(design)["body"]["font-family"] == f'"{FACE_NAME}", serif'


@pytest.mark.parametrize("design", DESIGNS)
def test_no_indent_after_a_heading_or_a_block(design):
    rules = declarations(design)
    assert rules["p"]["text-indent"] != "0"
    for selector in NO_INDENT_AFTER:
        assert rules.get(selector, {}).get("text-indent") == "0", selector


@pytest.mark.parametrize("design", DESIGNS)
def test_links_take_the_texts_colour_and_keep_an_underline(design):
    rules = declarations(design)
    assert rules["a"] == {"color": "inherit", "text-decoration": "underline"}
    assert "color" not in rules['a[epub|type~="noteref"]']


@pytest.mark.parametrize("design", DESIGNS)
def test_signatures_are_set_right_with_hanging_lines(design):
    rules = declarations(design)
    signature = rules["div.signature"]
    assert signature["display"] == "table"
    assert signature["margin"].split()[3] == "auto"  # the left margin takes the room
    assert signature["text-align"] == "left"
    line = rules[".verse p > span"]  # a signature's lines are a line block's
    assert (line["display"], line["padding-left"], line["text-indent"]) == (
        "block",
        "1.5em",
        "-1.5em",
    )


@pytest.mark.parametrize("design", DESIGNS)
def test_notes_at_the_chapter_end_stand_under_a_rule(design):
    rules = declarations(design)
    assert rules["aside.footnote:first-of-type"]["border-top"] == "1px solid"
    assert rules["aside p"]["text-indent"] == "0"


@pytest.mark.parametrize("design", DESIGNS)
def test_verse_and_small_caps_are_kept(design):
    rules = declarations(design)
    assert rules[".smallcaps"]["font-variant"] == "small-caps"
    assert rules[".verse p"]["text-align"] == "left"


@pytest.mark.parametrize("design", DESIGNS)
def test_no_colour_is_fixed(design):
    """Reading systems' night and sepia themes set the colours; a fixed one fights them."""
    for selector, values in declarations(design).items():
        for name in ("color", "background", "background-color"):
            assert values.get(name, "inherit") == "inherit", (selector, name)


def test_the_designs_open_chapters_differently():
    classic, modern = declarations("classic"), declarations("modern")
    assert (classic["h1"]["text-align"], modern["h1"]["text-align"]) == ("center", "left")
    assert classic["p"]["text-align"] == "justify"
    assert modern["p"]["text-align"] == "left"
    assert classic["h1 + p::first-line"]["font-variant"] == "small-caps"
    assert classic["hr::before"]["content"].startswith('"*')  # an ornament, not a line
    assert modern["hr"]["border-top"] == "1px solid"


# --- The books in each design ------------------------------------------------------------


@pytest.fixture(scope="module")
def designed(tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict[str, Path]]:
    """The feature tour in each design, by design, then format."""
    built = {}
    for design in DESIGNS:
        root = tmp_path_factory.mktemp(design) / "project"
        shutil.copytree(REPO / "tests" / "fixtures" / "project", root)
        metadata = root / "metadata" / f"{TOUR}.yaml"
        metadata.write_text(f"{metadata.read_text()}design: {design}\n", encoding="utf-8")
        formats = ("epub", "kepub", "azw3", "docx")
        api.build(root, [TOUR], list(formats), root / "dist")
        built[design] = {f: root / "dist" / f"{TOUR}{FORMATS[f].suffix}" for f in formats}
    return built


def _assert_design_then_fonts(css: bytes, design: str) -> None:
    """The design's stylesheet, then the `@font-face` rules of the fonts embedded."""
    assert css.startswith(stylesheet(design))
    assert b"@font-face" in css[len(stylesheet(design)) :]


@pytest.mark.parametrize("design", DESIGNS)
def test_the_epub_carries_its_designs_stylesheet_and_passes_epubcheck(designed, epubcheck, design):
    epub = designed[design]["epub"]
    with zipfile.ZipFile(epub) as archive:
        _assert_design_then_fonts(archive.read(f"EPUB/{STYLESHEET}"), design)
    report = epubcheck.check(epub)
    assert (report.fatal, report.errors, report.warnings) == (0, 0, 0), report.messages


@pytest.mark.parametrize("design", DESIGNS)
def test_the_kobo_and_kindle_books_carry_the_designs_stylesheet(designed, design):
    with zipfile.ZipFile(designed[design]["kepub"]) as archive:
        _assert_design_then_fonts(archive.read(f"EPUB/{STYLESHEET}"), design)
    unpacked, _ = mobi.extract(str(designed[design]["azw3"]))  # KindleUnpack
    try:
        (css,) = Path(unpacked).glob("mobi8/OEBPS/Styles/*.css")
        _assert_design_then_fonts(css.read_bytes(), design)
    finally:
        shutil.rmtree(unpacked)


def test_the_epub_of_each_design_passes_ace(designed, tmp_path):
    reports = run_ace({design: designed[design]["epub"] for design in DESIGNS}, tmp_path)
    for design, report in reports.items():
        assert ace_violations(report) == [], design


def chapters(epub: Path) -> dict[str, etree._Element]:
    with zipfile.ZipFile(epub) as archive:
        return {
            name: etree.fromstring(archive.read(name))
            for name in archive.namelist()
            if re.fullmatch(r"EPUB/\d\d-.*\.xhtml", name)
        }


def test_notes_are_numbered_with_links_back_and_still_pop_up(designed):
    checked = 0
    for html in chapters(designed["classic"]["epub"]).values():
        body = html.find(tag("body"))
        ids = {e.get("id"): e for e in body.iter() if e.get("id")}
        order = {e: n for n, e in enumerate(body.iter())}
        for ref in (a for a in body.iter(tag("a")) if a.get(EPUB_TYPE) == "noteref"):
            number = "".join(ref.itertext())
            note = ids[ref.get("href").removeprefix("#")]
            assert (note.tag, note.get(EPUB_TYPE)) == (tag("aside"), "footnote")
            assert note.getparent() is body and order[note] > order[ref]  # at the chapter's end
            first = note[0]
            back = first[0]
            assert (first.tag, first.text, back.tag) == (tag("p"), None, tag("a"))
            assert back.text == f"{number}."
            assert back.get("role") == "doc-backlink"
            assert ids[back.get("href").removeprefix("#")] is ref
            assert number in back.get("aria-label") and "back" in back.get("aria-label")
            assert back.tail.startswith(" ") and back.tail.strip()
            assert len([a for a in note.iter(tag("a")) if a.get("role") == "doc-backlink"]) == 1
            checked += 1
    assert checked == 3


# --- The DOCX in each design -------------------------------------------------------------


def style_facts(path: Path) -> dict[str, Any]:
    document = docx.Document(str(path))
    styles = document.styles
    return {
        "face": styles["Normal"].font.name,
        "heading": styles["Heading 1"].paragraph_format.alignment,
        "body": styles["Body Text"].paragraph_format.alignment,
        "chapter bold": styles["Heading 1"].font.bold,
        "epigraph italic": styles["Epigraph"].font.italic,
    }


def test_the_docx_of_each_design_names_the_face_and_has_its_styles(designed):
    assert style_facts(designed["classic"]["docx"]) == {
        "face": FACE_NAME,
        "heading": WD_ALIGN_PARAGRAPH.CENTER,
        "body": WD_ALIGN_PARAGRAPH.JUSTIFY,
        "chapter bold": None,
        "epigraph italic": True,
    }
    assert style_facts(designed["modern"]["docx"]) == {
        "face": FACE_NAME,
        "heading": WD_ALIGN_PARAGRAPH.LEFT,
        "body": WD_ALIGN_PARAGRAPH.LEFT,
        "chapter bold": True,
        "epigraph italic": None,
    }


def test_libreoffice_lays_out_the_docx_of_each_design(designed, tmp_path):
    documents = [tmp_path / f"{design}.docx" for design in DESIGNS]  # one PDF name each
    for design, document in zip(DESIGNS, documents, strict=True):
        shutil.copyfile(designed[design]["docx"], document)
    for pdf in libreoffice_pdfs(documents, tmp_path):
        text = subprocess.run(
            ["pdftotext", str(pdf), "-"], capture_output=True, text=True, check=True
        ).stdout
        assert "The Middle Part" in text and "The first note" in text, pdf.name
