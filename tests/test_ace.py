"""The EPUBs judged by DAISY Ace, the accessibility checker publishers use.

The two shipped books, and the fixture book for the markup they lack (notes, links within
the book, an image, a table).

Ace is installed from `tests/tools/ace/package-lock.json` (`.ci/run` does `npm ci` there) and
drives the system Chromium through puppeteer. Without them the test skips, except in CI
(the `CI` variable set), where it fails: CI must run it. Ace's violations are the assertions
whose outcome is `fail` in `report.json`.
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.helpers import SHIPPED_BOOKS, ace_violations, run_ace

BOOKS = (*SHIPPED_BOOKS, "feature-tour")


@pytest.fixture(scope="module")
def ace_reports(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> dict[str, dict[str, Any]]:
    """Ace's report on each book; the books are checked in parallel (about 15 s on 2 cores)."""
    out = tmp_path_factory.mktemp("ace")
    books = dict(request.getfixturevalue("shipped_build"))
    books["feature-tour"] = request.getfixturevalue("tour_build")["epub"]
    return run_ace(books, out)


@pytest.mark.parametrize("book_id", BOOKS)
def test_ace_finds_no_violation(ace_reports, book_id):
    report = ace_reports[book_id]
    assert ace_violations(report) == []
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
