"""`ebook proof` on the feature tour: the cover sheets at their sizes and the PDF."""

import re
import subprocess
from pathlib import Path

from PIL import Image
from typer.testing import CliRunner

from ebook_builder.cli import app
from ebook_builder.formats.kindle.resources import THUMBNAIL_HEIGHT
from tests.helpers import TOUR


def test_proof_writes_cover_sheets_and_a_pdf_of_them(fixture_project: Path, tmp_path: Path) -> None:
    out = tmp_path / "proof"
    result = CliRunner().invoke(
        app, ["proof", TOUR, "--out", str(out), "--project", str(fixture_project)]
    )
    assert result.exit_code == 0, result.output
    for width in (60, 160, 400):
        with Image.open(out / f"cover-{width}.png") as sheet:
            assert sheet.width == width
            assert sheet.convert("L").getextrema()[0] < sheet.convert("L").getextrema()[1]
    with Image.open(out / "kindle-thumbnail.png") as thumbnail:
        assert thumbnail.height == THUMBNAIL_HEIGHT
    info = subprocess.run(
        ["pdfinfo", str(out / f"{TOUR}-proof.pdf")], capture_output=True, text=True, check=True
    ).stdout
    assert re.search(r"^Pages:\s+4$", info, re.MULTILINE), info
    assert f"wrote {out}" in result.output
