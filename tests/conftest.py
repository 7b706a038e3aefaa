"""Shared fixtures: throw-away projects, the real EPUBCheck, and the books built once a run.

Only fixtures live here; what tests import lives in tests/helpers.py.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser

from ebook_builder import api, convert, pandoc
from ebook_builder.browser import CHROMIUM, chromium
from ebook_builder.formats import FORMATS
from tests.helpers import REPO, SHIPPED_BOOKS, TOUR, EpubCheck, ProjectMaker

# Every format a shipped book is built in by the tests that take it from `shipped`.
SHIPPED_FORMATS = ("epub", "kepub", "azw3", "mobi")


@pytest.fixture
def make_project(tmp_path: Path) -> ProjectMaker:
    return ProjectMaker(tmp_path / "project")


@pytest.fixture(scope="session")
def epubcheck(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EpubCheck]:
    """EPUBCheck in one JVM for every test of the run that checks an EPUB."""
    checker = EpubCheck(tmp_path_factory.mktemp("epubcheck") / "epubcheck.log")
    yield checker
    checker.close()


@pytest.fixture(scope="session")
def shipped(tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict[str, Path]]:
    """The repository's own books in every format, built once for the whole run.

    By format, then by book id, as a user's `ebook build` writes them. Tests that build
    differently on purpose (another folder, no cache, a changed project) build their own.
    """
    out = tmp_path_factory.mktemp("dist")
    written = set(api.build(REPO, list(SHIPPED_BOOKS), list(SHIPPED_FORMATS), out))
    files = {
        fmt: {book_id: out / f"{book_id}{FORMATS[fmt].suffix}" for book_id in SHIPPED_BOOKS}
        for fmt in SHIPPED_FORMATS
    }
    assert {path for by_book in files.values() for path in by_book.values()} <= written
    return files


@pytest.fixture(scope="session")
def shipped_build(shipped: dict[str, dict[str, Path]]) -> dict[str, Path]:
    """The shipped books as EPUB, by book id."""
    return shipped["epub"]


@pytest.fixture(scope="session")
def fixture_project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A copy of tests/fixtures/project, a small book that uses every Markdown feature."""
    root = tmp_path_factory.mktemp("fixture") / "project"
    shutil.copytree(REPO / "tests" / "fixtures" / "project", root)
    return root


@pytest.fixture(scope="session")
def tour_build(fixture_project: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """The fixture book (notes, images, tables, page list) as EPUB and Kobo EPUB, built once."""
    out = tmp_path_factory.mktemp("tour")
    epub, kepub = api.build(fixture_project, [TOUR], ["epub", "kepub"], out)
    return {"epub": epub, "kepub": kepub}


@pytest.fixture(scope="session")
def chromium_installed() -> None:
    """Skip where Chromium is missing, except in CI, which installs it and must run these."""
    if CHROMIUM.is_file():
        return
    if os.environ.get("CI"):
        pytest.fail(f"Chromium is required in CI at {CHROMIUM} (apt-get install chromium)")
    pytest.skip(f"Chromium is not installed at {CHROMIUM} (apt-get install chromium)")


@pytest.fixture(scope="session")
def browser(chromium_installed: None) -> Iterator[Browser]:
    """One Chromium for every test of the run that renders in a browser."""
    with chromium() as running:
        yield running


@pytest.fixture(autouse=True)
def _no_source_date_epoch(monkeypatch: pytest.MonkeyPatch) -> None:
    """Builds read SOURCE_DATE_EPOCH; a value in the caller's environment must not leak in."""
    if "SOURCE_DATE_EPOCH" in os.environ:
        monkeypatch.delenv("SOURCE_DATE_EPOCH")


@pytest.fixture
def counted(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The first line of every chapter pandoc really converts (in any order: in parallel)."""
    calls: list[str] = []
    real = pandoc.convert_documents

    def counting(texts: list[str], source: str, *args: Any) -> list[pandoc.Conversion]:
        if source == convert.PANDOC_FROM:
            calls.extend(text.splitlines()[0] for text in texts)
        return real(texts, source, *args)

    monkeypatch.setattr(pandoc, "convert_documents", counting)
    return calls
