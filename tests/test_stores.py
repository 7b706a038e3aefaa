"""`ebook check --store`: built EPUBs against the rules of KDP, Apple Books, Kobo and Google Play.

EPUBCheck takes seconds per file, so the books that run it are built and checked once per
module; the rules themselves are tested table-driven on facts made by hand.
"""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest
from PIL import Image
from typer.testing import CliRunner

from ebook_builder import api
from ebook_builder.checks import stores
from ebook_builder.checks.stores import (
    FAIL,
    PASS,
    STORES,
    WARN,
    EpubCheckReport,
    EpubFacts,
    Picture,
    StoreCheck,
    UnreadableEpub,
    parse_stores,
    read_epub,
    verdicts,
)
from ebook_builder.cli import app
from tests.helpers import REPO, SHIPPED_BOOKS, ProjectMaker

runner = CliRunner()
CLEAN = EpubCheckReport(0, 0, 0, [])
METADATA = {name: ["x"] for name in ("title", "creator", "language", "identifier", "description")}


def invoke(root: Path, *args: str):
    return runner.invoke(app, ["check", *args, "--project", str(root)])


def facts(**changes) -> EpubFacts:
    """A book every store takes: a 1600×2560 JPEG cover, full metadata, 1 MB."""
    fields = {
        "size": 1_000_000,
        "metadata": METADATA,
        "cover": Picture("EPUB/cover.jpg", "JPEG", 1600, 2560),
        "images": [],
    }
    return EpubFacts(**{**fields, **changes})


def every(*rules: str) -> dict[str, list[str]]:
    return {name: list(rules) for name in STORES}


def failures(found: EpubFacts, report: EpubCheckReport = CLEAN) -> dict[str, list[str]]:
    """The rules each store fails."""
    return {
        name: [rule for rule, status, _ in verdicts(store, found, report) if status == FAIL]
        for name, store in STORES.items()
    }


@pytest.fixture(scope="module")
def problem_project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Two built books: one with a 500×800 cover, one showing a 5-megapixel image."""
    maker = ProjectMaker(tmp_path_factory.mktemp("stores") / "project")
    maker.book("small-cover", description="For KDP, which asks for one.")
    (maker.root / "covers").mkdir()
    Image.new("RGB", (500, 800), "navy").save(maker.root / "covers" / "small-cover.jpg")
    picture = io.BytesIO()
    Image.new("RGB", (2500, 2000), "white").save(picture, "PNG")
    chapter = "# One\n\n![A wide map](images/map.png)\n"
    files = {"01-one.md": chapter, "images/map.png": picture.getvalue()}
    maker.book("big-image", chapters=files, listed=["01-one.md"], description="A map.")
    api.build(maker.root, None, ["epub"])
    return maker.root


@pytest.fixture(scope="module")
def problem_rows(problem_project: Path) -> list[StoreCheck]:
    return api.check_stores(problem_project, None, ["all"])


def statuses(rows: list[StoreCheck], book_id: str, rule: str) -> dict[str, str]:
    return {row.store: row.status for row in rows if row.book_id == book_id and row.rule == rule}


def test_shipped_books_pass_every_store_as_json(shipped_build):
    out = next(iter(shipped_build.values())).parent
    result = invoke(REPO, "--store", "all", "--json", "--out", str(out))
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["ok"] is True and report["problems"] == []
    checks = report["checks"]
    assert {(c["book"], c["store"]) for c in checks} == {
        (book, store) for book in SHIPPED_BOOKS for store in STORES
    }
    assert all(set(c) == {"book", "store", "rule", "status", "reason", "file"} for c in checks)
    assert {c["file"] for c in checks} == {(out / f"{b}.epub").as_posix() for b in SHIPPED_BOOKS}
    # 1600×2560 is KDP's ideal cover, and 4.1 MP: above the 4 MP Apple advises, not refused.
    not_passed = {(c["store"], c["rule"], c["status"]) for c in checks if c["status"] != PASS}
    assert not_passed == {("apple", "cover pixels", WARN)}


def test_small_cover_fails_kdp_google_and_apple(problem_rows):
    assert statuses(problem_rows, "small-cover", "cover size") == {
        "kdp": FAIL,
        "apple": FAIL,
        "kobo": WARN,
        "google": FAIL,
    }
    (kdp,) = [
        r
        for r in problem_rows
        if (r.book_id, r.store, r.rule) == ("small-cover", "kdp", "cover size")
    ]
    assert kdp.reason == "EPUB/cover.jpg 500×800: below Amazon KDP's minimum of 625×1000"


def test_five_megapixel_image_fails_apple_only(problem_rows):
    rows = [row for row in problem_rows if row.book_id == "big-image"]
    assert [(r.store, r.rule) for r in rows if r.status == FAIL] == [("apple", "image pixels")]
    (apple,) = [r for r in rows if r.store == "apple" and r.rule == "image pixels"]
    assert apple.reason == "EPUB/images/map.png 2500×2000 (5.0 MP) over 4 MP"


def test_table_and_exit_code_when_a_store_refuses(problem_project, monkeypatch):
    # EPUBCheck has its verdict on these files above; here only the table is new.
    monkeypatch.setattr(stores, "_epubcheck", lambda command, path: CLEAN)
    result = invoke(problem_project, "small-cover", "--store", "kdp")
    assert result.exit_code == 1, result.output
    assert "cover size" in result.stdout and "fail" in result.stdout
    assert "apple" not in result.stdout


def test_a_file_not_built_is_named(make_project):
    make_project.book()
    result = invoke(make_project.root, "--store", "kdp")
    assert result.exit_code == 2
    assert result.stderr == "error: dist/demo.epub: not built: `ebook build demo` makes it\n"
    as_json = json.loads(invoke(make_project.root, "--store", "kdp", "--json").stdout)
    assert as_json["ok"] is False and as_json["problems"][0]["path"] == "dist/demo.epub"


def test_unknown_store_is_one_line(make_project):
    make_project.book()
    result = invoke(make_project.root, "--store", "kdp,amazon")
    assert result.exit_code == 2
    assert result.stderr == (
        "error: unknown store 'amazon' (known: kdp, apple, kobo, google, all)\n"
    )


def test_without_java_is_one_line(make_project, monkeypatch, tmp_path):
    make_project.book()
    (make_project.root / "dist").mkdir()
    (make_project.root / "dist" / "demo.epub").write_bytes(b"not built by us")
    monkeypatch.setenv("PATH", str(tmp_path))
    result = invoke(make_project.root, "--store", "apple")
    assert result.exit_code == 2
    assert len(result.stderr.splitlines()) == 1 and "needs Java" in result.stderr


def test_out_without_store_is_refused(make_project):
    make_project.book()
    result = invoke(make_project.root, "--out", "elsewhere")
    assert result.exit_code == 2
    assert result.stderr == "error: --out applies to --store checks only\n"


@pytest.mark.parametrize(
    ("requested", "expected"),
    [
        (["all"], ["kdp", "apple", "kobo", "google"]),
        (["kdp,apple", "KDP", " kobo "], ["kdp", "apple", "kobo"]),
        (["google", "all"], ["google", "kdp", "apple", "kobo"]),
    ],
)
def test_store_names(requested, expected):
    assert [store.name for store in parse_stores(requested)] == expected


@pytest.mark.parametrize(
    ("changes", "failed"),
    [
        ({}, {}),
        ({"cover": Picture("EPUB/cover.png", "PNG", 1600, 2560)}, {"kdp": ["cover format"]}),
        (
            {"cover": Picture("EPUB/cover.gif", "GIF", 1600, 2560)},
            every("cover format"),
        ),
        ({"cover": None}, every("cover format")),
        ({"cover": Picture("EPUB/cover.jpg", "JPEG", 1600, 3600)}, {"apple": ["cover pixels"]}),
        (
            {"cover": Picture("EPUB/cover.jpg", "JPEG", 1200, 8000)},
            {"kdp": [], "apple": ["cover size", "cover pixels"], "google": ["cover size"]},
        ),
        ({"metadata": {**METADATA, "description": []}}, {"kdp": ["metadata"]}),
        ({"metadata": {**METADATA, "creator": []}}, every("metadata")),
        ({"size": 150_000_000}, {"kobo": ["file size"]}),
        ({"size": 700_000_000}, {"kdp": ["file size"], "kobo": ["file size"]}),
        ({"images": [Picture("EPUB/a.png", "PNG", 2000, 2000)]}, {}),
        ({"images": [Picture("EPUB/a.png", None)]}, {"apple": ["image pixels"]}),
    ],
)
def test_rules(changes, failed):
    expected = {name: failed.get(name, []) for name in STORES}
    assert failures(facts(**changes)) == expected


@pytest.mark.parametrize(
    ("images", "reason"),
    [
        ([Picture("EPUB/a.svg", "SVG")], "1 SVG (vector: no pixels, within 4 MP)"),
        (
            [Picture("EPUB/a.svg", "SVG"), Picture("EPUB/b.png", "PNG", 1000, 1000)],
            "1 images, largest 1.0 MP ≤ 4 MP; 1 SVG (vector: no pixels, within 4 MP)",
        ),
    ],
)
def test_svg_pictures_are_counted_as_vector_pictures(images, reason):
    """An SVG has no pixels: it passes Apple's 4 MP rule, and the row says it is there."""
    rows = verdicts(STORES["apple"], facts(images=images), CLEAN)
    assert ("image pixels", PASS, reason) in rows


def test_epubcheck_errors_fail_and_warnings_warn():
    errors = EpubCheckReport(0, 2, 0, ["RSC-005 EPUB/a.xhtml:3: bad", "RSC-012 EPUB/b.xhtml: x"])
    warned = EpubCheckReport(0, 0, 1, ["OPF-085 EPUB/content.opf:2: odd"])
    for store in STORES.values():
        (first, *_) = verdicts(store, facts(), errors)
        assert first == (
            "EPUBCheck",
            FAIL,
            "0 fatal, 2 errors, 0 warnings: RSC-005 EPUB/a.xhtml:3: bad (+1 more)",
        )
        assert verdicts(store, facts(), warned)[0][1] == WARN


def test_a_file_that_is_not_an_epub(tmp_path):
    path = tmp_path / "demo.epub"
    path.write_bytes(b"not a zip")
    with pytest.raises(UnreadableEpub):
        read_epub(path)
    fatal = EpubCheckReport(1, 0, 0, ["PKG-008 demo.epub: Unable to read file"])
    rows = verdicts(STORES["kobo"], "cannot read the EPUB (File is not a zip file)", fatal)
    assert [(rule, status) for rule, status, _ in rows] == [("EPUBCheck", FAIL), ("package", FAIL)]
