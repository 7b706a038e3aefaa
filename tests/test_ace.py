"""The EPUBs judged by DAISY Ace, the accessibility checker publishers use.

The two shipped books, and the fixture book for the markup they lack (notes, links within
the book, an image, a table).

Ace is installed from `tests/tools/ace/package-lock.json` (`.ci/run` does `npm ci` there) and
drives the system Chromium through puppeteer. Without them the test skips, except in CI
(the `CI` variable set), where it fails: CI must run it. Ace's violations are the assertions
whose outcome is `fail` in `report.json`.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from tests.helpers import REPO, SHIPPED_BOOKS

ACE = REPO / "tests" / "tools" / "ace" / "node_modules" / ".bin" / "ace-puppeteer"
INSTALL = (
    "apt-get install chromium; cd tests/tools/ace && ELECTRON_SKIP_BINARY_DOWNLOAD=1"
    " PUPPETEER_SKIP_DOWNLOAD=1 npm ci --ignore-scripts"
)
BOOKS = (*SHIPPED_BOOKS, "feature-tour")


def chromium() -> str | None:
    """The browser Ace drives: $PUPPETEER_EXECUTABLE_PATH, else Debian's `chromium`."""
    browser = os.environ.get("PUPPETEER_EXECUTABLE_PATH") or shutil.which("chromium")
    return browser if browser and Path(browser).is_file() else None


@pytest.fixture(scope="module")
def ace_reports(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> dict[str, dict[str, Any]]:
    """Ace's report on each book; the books are checked in parallel (about 15 s on 2 cores)."""
    browser = chromium()
    if not ACE.is_file() or browser is None:
        if os.environ.get("CI"):
            pytest.fail(f"DAISY Ace and Chromium are required in CI: {INSTALL}")
        pytest.skip(f"DAISY Ace or Chromium is not installed ({INSTALL}); CI runs this test")
    out = tmp_path_factory.mktemp("ace")
    books = dict(request.getfixturevalue("shipped_build"))
    books["feature-tour"] = request.getfixturevalue("tour_build")["epub"]
    env = {**os.environ, "PUPPETEER_EXECUTABLE_PATH": browser}
    runs = {
        book_id: subprocess.Popen(
            [str(ACE), "--silent", "--force", "--outdir", str(out / book_id), str(path)],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
        )
        for book_id, path in books.items()
    }
    reports = {}
    for book_id, run in runs.items():
        output, _ = run.communicate(timeout=300)
        report = out / book_id / "report.json"
        assert report.is_file(), f"Ace wrote no report for {book_id}: {output.decode()[-2000:]}"
        reports[book_id] = json.loads(report.read_text(encoding="utf-8"))
    return reports


def violations(report: dict[str, Any]) -> list[str]:
    """Every failed assertion, as `document: rule (impact): description`."""
    return [
        f"{document['earl:testSubject']['url']}: {rule['earl:test']['dct:title']}"
        f" ({rule['earl:test']['earl:impact']}): {rule['earl:result'].get('dct:description')}"
        for document in report["assertions"]
        for rule in document["assertions"]
        if rule["earl:result"]["earl:outcome"] == "fail"
    ]


@pytest.mark.parametrize("book_id", BOOKS)
def test_ace_finds_no_violation(ace_reports, book_id):
    report = ace_reports[book_id]
    assert violations(report) == []
    assert report["earl:result"]["earl:outcome"] == "pass"
    documents = [d["earl:result"]["earl:outcome"] for d in report["assertions"]]
    assert documents and set(documents) == {"pass"}


@pytest.mark.parametrize("book_id", BOOKS)
def test_ace_reads_the_conformance_claim(ace_reports, book_id):
    metadata = ace_reports[book_id]["a11y-metadata"]
    assert "dcterms:conformsTo" in metadata["present"]
    assert {"schema:accessibilitySummary", "schema:accessModeSufficient"} <= set(
        metadata["present"]
    )
