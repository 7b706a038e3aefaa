"""EPUB Accessibility 1.1: the checks behind the conformance claim and the metadata written.

One small book per check, table-driven; the shipped books claim conformance, a book that
fails a check does not, and every variant of the metadata passes EPUBCheck.
"""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import pytest
from lxml import etree
from PIL import Image
from typer.testing import CliRunner

from ebook_builder import api
from ebook_builder.checks.accessibility import CONFORMANCE, accessibility_problems, assess
from ebook_builder.cli import app
from tests.helpers import SHIPPED_BOOKS

OPF = "{http://www.idpf.org/2007/opf}"
XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"


def png(frames: int = 1) -> bytes:
    """A small PNG; with several frames, an animated one (APNG)."""
    images = [Image.new("RGB", (8, 8), (40 * n, 0, 0)) for n in range(frames)]
    out = io.BytesIO()
    images[0].save(out, "PNG", save_all=frames > 1, append_images=images[1:])
    return out.getvalue()


def package_metadata(path: Path) -> dict[str, list[str]]:
    """The package document's `<meta property>` values, by property."""
    with zipfile.ZipFile(path) as archive:
        opf = etree.fromstring(archive.read("EPUB/content.opf"))
    found: dict[str, list[str]] = {}
    for meta in opf.iter(f"{OPF}meta"):
        if meta.get("property"):
            found.setdefault(meta.get("property"), []).append(meta.text)
    return found


@pytest.mark.parametrize("book_id", SHIPPED_BOOKS)
def test_shipped_books_claim_conformance(shipped_build, book_id):
    properties = package_metadata(shipped_build[book_id])
    assert properties["dcterms:conformsTo"] == [CONFORMANCE]
    assert "a11y:certifiedBy" not in properties  # no evaluator to name: see _metadata
    assert properties["schema:accessibilityHazard"] == ["none"]
    assert properties["schema:accessModeSufficient"] == ["textual"]
    assert len(properties["schema:accessibilitySummary"]) == 1


def test_summary_mentions_the_page_list_only_when_there_are_pages(shipped_build):
    essays = package_metadata(shipped_build["russian-revolution-1917"])
    summary = essays["schema:accessibilitySummary"][0]
    assert "A text book of 10 chapters" in summary
    assert "page" not in summary.lower()
    assert "image" not in summary.lower()
    assert "pageNavigation" not in essays["schema:accessibilityFeature"]
    assert "pageBreakSource" not in essays

    pamphlet = package_metadata(shipped_build["revolutionary-heritage-1917"])
    summary = pamphlet["schema:accessibilitySummary"][0]
    source = "1917: A Part of Our Revolutionary Heritage (print pamphlet)"
    assert f"page list give the print pages 1–25 of “{source}”" in summary
    assert pamphlet["pageBreakSource"] == [source]
    assert {"pageBreakMarkers", "pageNavigation"} <= set(pamphlet["schema:accessibilityFeature"])


def test_package_states_its_language(shipped_build):
    with zipfile.ZipFile(shipped_build["russian-revolution-1917"]) as archive:
        opf = etree.fromstring(archive.read("EPUB/content.opf"))
    assert opf.get(XML_LANG) == "en"


IMAGE = {"images/pic.png": png()}
# (chapter Markdown, other files of the book, the diagnostic, the rule)
FAILING = {
    "alt text is a file name": (
        "# One\n\n![pic.png](images/pic.png)\n",
        IMAGE,
        "book/demo/01-one.md:3: image 'images/pic.png' has alt text 'pic.png': say what it shows",
        "WCAG 1.1.1",
    ),
    "alt text is a placeholder": (
        "# One\n\n![Image](images/pic.png)\n",
        IMAGE,
        "book/demo/01-one.md:3: image 'images/pic.png' has alt text 'Image': say what it shows",
        "WCAG 1.1.1",
    ),
    "inline svg without a name": (
        '# One\n\n<svg xmlns="http://www.w3.org/2000/svg" width="4" height="4"/>\n',
        {},
        "book/demo/01-one.md:3: an inline <svg> has neither a <title> nor an aria-label",
        "WCAG 1.1.1",
    ),
    "table without header cells": (
        "# One\n\nText.\n\n-----  ------\n1905   Rehearsal\n1917   Revolution\n-----  ------\n",
        {},
        "book/demo/01-one.md:6: a table has no header cells: give it a header row",
        "WCAG 1.3.1",
    ),
    "table in raw HTML, its first cell in Markdown": (
        "# One\n\nText.\n\n<table>\n<tr>\n<td>This is *emphasized*</td>\n</tr>\n</table>\n",
        {},
        "book/demo/01-one.md:7: a table has no header cells: give it a header row",
        "WCAG 1.3.1",
    ),
    "link text says nothing": (
        "# One\n\nThe report is [here](https://example.org/report).\n",
        {},
        "book/demo/01-one.md:3: link text 'here' does not say where the link goes",
        "WCAG 2.4.4",
    ),
    "link without text": (
        "# One\n\nSee [](https://example.org/x).\n",
        {},
        "book/demo/01-one.md:3: the link to 'https://example.org/x' has no text",
        "WCAG 2.4.4",
    ),
    "language of a part is not a tag": (
        "# One\n\nSay [bonjour]{lang=french}.\n",
        {},
        "book/demo/01-one.md:3: lang='french' is not a BCP 47 language tag",
        "WCAG 3.1.2",
    ),
    "inline colour": (
        '# One\n\n<span style="color: #bbb">Faint</span> text.\n',
        {},
        "book/demo/01-one.md:3: style 'color: #bbb' sets a colour or background of unknown"
        " contrast",
        "WCAG 1.4.3",
    ),
    "pages without a source": (
        '# One\n\n[]{.pagebreak page="7"}Text.\n',
        {},
        "metadata/demo.yaml: the chapters mark print pages: say which edition in 'page_source'",
        "EPUB Accessibility 1.1",
    ),
    "animated image": (
        "# One\n\n![A red square that blinks](images/pic.png)\n",
        {"images/pic.png": png(frames=3)},
        "book/demo/images/pic.png: image 'images/pic.png' is animated, and readers cannot pause it",
        "WCAG 2.2.2",
    ),
}


def make_book(make_project, chapter: str, files: dict[str, bytes], **metadata) -> Path:
    make_project.book(chapters={"01-one.md": chapter, **files}, listed=["01-one.md"], **metadata)
    return make_project.root


@pytest.mark.parametrize("case", FAILING.values(), ids=FAILING.keys())
def test_each_check_names_the_file_and_line(make_project, case):
    chapter, files, expected, criterion = case
    root = make_book(make_project, chapter, files)
    (converted,) = api.check(root)
    problems = accessibility_problems(converted)
    assert [str(p.diagnostic) for p in problems] == [expected]
    assert [p.criterion for p in problems] == [criterion]


def test_a_book_that_passes_every_check_claims_conformance(make_project):
    chapter = (
        "# One\n\n![A red square](images/pic.png)\n\nSee [the report](https://example.org)"
        " and [bonjour]{lang=fr}.[^1]\n\n| Year | Event |\n|---|---|\n| 1917 | Revolution |\n\n"
        '[]{.pagebreak page="7"}More.\n\n[^1]: A note.\n'
    )
    root = make_book(make_project, chapter, IMAGE, page_source="The print edition")
    (converted,) = api.check(root)
    assessment = assess(converted)
    assert assessment.conforms
    properties = {p.name: p.value for p in assessment.metadata}
    assert properties["dcterms:conformsTo"] == CONFORMANCE
    summary = properties["schema:accessibilitySummary"]
    assert "Its image has a text alternative." in summary
    assert "Footnotes stand at the end of their chapter" in summary
    assert "page list give the print page 7 of “The print edition”" in summary


def test_a_failing_book_says_why_and_claims_nothing(make_project, tmp_path, epubcheck):
    chapter = FAILING["alt text is a file name"][0] + "\n[Click here](https://example.org).\n"
    root = make_book(make_project, chapter, IMAGE)
    (path,) = api.build(root, ["demo"], ["epub"], tmp_path)
    properties = package_metadata(path)
    assert "dcterms:conformsTo" not in properties
    assert properties["schema:accessModeSufficient"] == ["textual,visual"]
    assert "alternativeText" not in properties["schema:accessibilityFeature"]
    summary = properties["schema:accessibilitySummary"][0]
    assert summary.endswith(
        "It makes no conformance claim: checks found problems with non-text content"
        " (WCAG 1.1.1), link text (WCAG 2.4.4)."
    )
    report = epubcheck.check(path)
    assert (report.fatal, report.errors, report.warnings) == (0, 0, 0), report.messages


def test_animated_images_make_the_hazards_unknown(make_project, tmp_path, epubcheck):
    chapter, files, *_ = FAILING["animated image"]
    root = make_book(make_project, chapter, files)
    (path,) = api.build(root, ["demo"], ["epub"], tmp_path)
    properties = package_metadata(path)
    assert properties["schema:accessibilityHazard"] == [
        "unknownFlashingHazard",
        "unknownMotionSimulationHazard",
        "noSoundHazard",
    ]
    assert "not checked for flashing" in properties["schema:accessibilitySummary"][0]
    report = epubcheck.check(path)
    assert (report.fatal, report.errors, report.warnings) == (0, 0, 0), report.messages


def test_an_english_summary_in_a_french_book_is_marked_english(make_project, tmp_path, epubcheck):
    root = make_book(make_project, "# Un\n\nTexte.\n", {}, language="fr")
    (path,) = api.build(root, ["demo"], ["epub"], tmp_path)
    with zipfile.ZipFile(path) as archive:
        opf = etree.fromstring(archive.read("EPUB/content.opf"))
    assert opf.get(XML_LANG) == "fr"
    (summary,) = opf.findall(f"{OPF}metadata/{OPF}meta[@property='schema:accessibilitySummary']")
    assert summary.get(XML_LANG) == "en"
    assert package_metadata(path)["dcterms:conformsTo"] == [CONFORMANCE]
    report = epubcheck.check(path)
    assert (report.fatal, report.errors, report.warnings) == (0, 0, 0), report.messages


def test_ebook_check_warns_of_each_problem_and_still_succeeds(make_project):
    chapter = "# One\n\nThe report is [here](https://example.org/report).\n"
    root = make_book(make_project, chapter, {})
    result = CliRunner().invoke(app, ["check", "--project", str(root)])
    assert result.exit_code == 0
    assert result.stdout.strip() == "demo: ok (1 chapters)"
    assert result.stderr.splitlines() == [
        "warning: book/demo/01-one.md:3: link text 'here' does not say where the link goes"
        " (WCAG 2.4.4)"
    ]
