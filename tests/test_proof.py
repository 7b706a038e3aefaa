"""`ebook proof`: the cover sheets, the book's pages in the bundled reader (EPUB and AZW3)
with the text each page showed, the DOCX's first pages, the flags, and the one PDF.

The first shipped book is proofed once for the module, the feature tour (with a chapter
that runs off the page added) once more: each proof drives the real reader in Chromium.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from PIL import Image
from typer.testing import CliRunner

from ebook_builder import browser
from ebook_builder import proof as proofing
from ebook_builder.cli import app
from ebook_builder.errors import ExitCode
from ebook_builder.formats.kindle.resources import THUMBNAIL_HEIGHT
from ebook_builder.proof_pages import BLANK_SHARE
from tests.helpers import REPO, SHIPPED_BOOKS, TOUR

FIRST_BOOK = SHIPPED_BOOKS[0]
TITLE = "The Russian Revolution of 1917"
# A chapter for the tour whose picture's style holds it wider than a phone's page, and
# whose code line cannot wrap.
WIDE_CHAPTER = """# Too Wide

![A picture held wide](images/circle.png){style="min-width: 40em"}

    a_line_of_code_that_cannot_wrap = "and runs on far past the right edge of a phone's page"
"""


@pytest.fixture(scope="module")
def first_proof(
    tmp_path_factory: pytest.TempPathFactory, chromium_installed: None
) -> proofing.Proof:
    """The first shipped book proofed from a copy of the project (proof builds into it)."""
    root = tmp_path_factory.mktemp("proof") / "project"
    for folder in ("book", "metadata", "covers"):
        shutil.copytree(REPO / folder, root / folder)
    return proofing.proof(root, FIRST_BOOK, progress=lambda line: None)


def by_name(result: proofing.Proof) -> dict[str, proofing.Sheet]:
    return {sheet.path.name: sheet for sheet in result.sheets}


def ink_share(path: Path) -> float:
    """How much of a picture differs from its commonest colour."""
    with Image.open(path) as picture:
        counts = picture.convert("L").histogram()
    return 1 - max(counts) / sum(counts)


def test_the_title_page_and_contents_show_the_title_and_every_chapter(first_proof) -> None:
    sheets = by_name(first_proof)
    chapters = [sheet for name, sheet in sheets.items() if "-chapter-" in name]
    labels = [sheet.label.split(": ", 1)[1] for sheet in chapters if sheet.label.startswith("EPUB")]
    for kind in ("epub", "azw3"):
        assert TITLE in sheets[f"{kind}-01-title.png"].text
        contents = sheets[f"{kind}-02-contents.png"].text
        assert all(label in " ".join(contents.split()) for label in labels), contents


def test_every_chapter_has_an_opening_sheet_in_both_formats(first_proof) -> None:
    metadata = yaml.safe_load((REPO / "metadata" / f"{FIRST_BOOK}.yaml").read_text("utf-8"))
    sheets = by_name(first_proof)
    for kind in ("epub", "azw3"):
        openings = [sheets[name] for name in sorted(sheets) if name.startswith(f"{kind}-")]
        openings = [sheet for sheet in openings if "-chapter-" in sheet.path.name]
        assert len(openings) == len(metadata["chapters"])
        for sheet in openings:
            label = sheet.label.split(": ", 1)[1]
            # The page shows the chapter's heading at its top.
            assert " ".join(sheet.text.split()).startswith(label), (label, sheet.text[:80])


def test_the_pages_are_drawn_not_blank_and_raise_no_flag(first_proof) -> None:
    sheets = by_name(first_proof)
    for name, sheet in sheets.items():
        if name.startswith(("epub-", "azw3-", "docx-")):
            assert ink_share(sheet.path) > 3 * BLANK_SHARE, name
    assert {name for name in sheets if "-element-" in name} == {
        f"{kind}-element-{element}.png"
        for kind in ("epub", "azw3")
        for element in ("blockquote", "epigraph", "verse")
    }
    assert "We are at our posts" in sheets["azw3-element-epigraph.png"].text
    assert first_proof.flags == []
    assert (first_proof.folder / "flags.txt").read_text(encoding="utf-8") == ""


def test_the_docx_pages_come_from_libreoffice(first_proof) -> None:
    if shutil.which("soffice") is None:
        pytest.skip("LibreOffice is not installed")
    docx = [sheet for sheet in first_proof.sheets if sheet.path.name.startswith("docx-page-")]
    assert [sheet.path.name for sheet in docx] == [f"docx-page-{n}.png" for n in range(1, 5)]
    with Image.open(docx[0].path) as page:
        assert page.width < page.height  # a printed page, portrait


def test_the_pdf_gathers_every_sheet_in_order(first_proof) -> None:
    names = [sheet.path.name for sheet in first_proof.sheets]
    assert names[:4] == ["cover-60.png", "cover-160.png", "cover-400.png", "kindle-thumbnail.png"]
    kinds = [name.split("-")[0] for name in names[4:]]
    assert kinds == sorted(kinds, key=["epub", "azw3", "docx"].index)
    with Image.open(first_proof.folder / "kindle-thumbnail.png") as thumbnail:
        assert thumbnail.height == THUMBNAIL_HEIGHT
    info = subprocess.run(
        ["pdfinfo", str(first_proof.pdf)], capture_output=True, text=True, check=True
    ).stdout
    assert re.search(rf"^Pages:\s+{len(names)}$", info, re.MULTILINE), info


def test_a_picture_and_a_line_too_wide_for_the_page_are_flagged(
    fixture_project: Path, tmp_path: Path, chromium_installed: None
) -> None:
    root = tmp_path / "project"
    shutil.copytree(fixture_project, root, ignore=shutil.ignore_patterns("dist", ".cache"))
    (root / "book" / TOUR / "04-too-wide.md").write_text(WIDE_CHAPTER, encoding="utf-8")
    metadata_path = root / "metadata" / f"{TOUR}.yaml"
    metadata = yaml.safe_load(metadata_path.read_text(encoding="utf-8"))
    metadata["chapters"].append("04-too-wide.md")
    metadata_path.write_text(yaml.safe_dump(metadata, allow_unicode=True), encoding="utf-8")
    result = CliRunner().invoke(app, ["proof", TOUR, "--project", str(root)])
    assert result.exit_code == 0, result.output
    flags = [line for line in result.output.splitlines() if line.startswith("flag: ")]
    for kind, document in (("EPUB", "04-too-wide.xhtml"), ("AZW3", "(Too Wide)")):
        assert any(
            line.startswith(f"flag: {kind} ")
            and document in line
            and "picture wider" in line
            and 'img "A picture held wide"' in line
            for line in flags
        ), flags
        assert any(
            line.startswith(f"flag: {kind} ") and "text running off the page: code" in line
            for line in flags
        ), flags
    assert len(flags) == 4, flags
    folder = root / "dist" / "proof" / TOUR
    assert (folder / "flags.txt").read_text(encoding="utf-8").splitlines() == [
        line.removeprefix("flag: ") for line in flags
    ]
    # The tour has every kind of element: a page of each, in both formats.
    for kind in ("epub", "azw3"):
        for element in ("blockquote", "epigraph", "notes", "verse", "table", "picture"):
            assert (folder / f"{kind}-element-{element}.png").is_file(), element
        assert (folder / f"{kind}-element-page-markers.png").is_file()


def test_without_chromium_the_cover_sheets_are_written_then_one_line_says_what_to_install(
    fixture_project: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(browser, "CHROMIUM", tmp_path / "no-chromium")
    out = tmp_path / "proof"
    result = CliRunner().invoke(
        app, ["proof", TOUR, "--out", str(out), "--project", str(fixture_project)]
    )
    assert result.exit_code == ExitCode.BAD_USAGE
    errors = [line for line in result.output.splitlines() if line.startswith("error: ")]
    assert len(errors) == 1 and "apt-get install chromium" in errors[0], result.output
    assert result.output.rstrip().endswith(errors[0])
    for width in (60, 160, 400):
        with Image.open(out / f"cover-{width}.png") as sheet:
            assert sheet.width == width
    assert not list(out.glob("epub-*.png"))
    assert (out / f"{TOUR}-proof.pdf").is_file()


def test_without_playwright_the_line_says_which_extra_to_install(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setitem(sys.modules, "playwright", None)  # as if not installed
    assert browser.missing() == "pip install 'ebook-builder[proof]'"


def test_an_output_folder_that_cannot_be_written_is_one_line_and_exit_2(
    fixture_project: Path, tmp_path: Path
) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder", encoding="utf-8")
    result = CliRunner().invoke(
        app, ["proof", TOUR, "--out", str(blocker / "proof"), "--project", str(fixture_project)]
    )
    assert result.exit_code == ExitCode.BAD_USAGE
    assert result.output.splitlines() == [
        f"error: {blocker / 'proof'}: cannot write (Not a directory)"
    ]
