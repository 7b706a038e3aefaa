"""Keys of the caches: which files are a book's inputs, and what a key covers."""

from __future__ import annotations

from pathlib import Path

import pytest

from ebook_builder.cache import keys
from ebook_builder.cache.keys import cache_key, input_files, package_fingerprint


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    """Nested folders, hidden files, a link to a folder, a link to a file and a broken link."""
    for name in ["x.md", ".hidden.md", "a/y.md", "a-b/z.md", "b/c/w.yaml", ".dot/q.md", "d/r.YAML"]:
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(name)
    (tmp_path / "folder-link").symlink_to(tmp_path / "a", target_is_directory=True)
    (tmp_path / "file-link.md").symlink_to(tmp_path / "x.md")
    (tmp_path / "broken.md").symlink_to(tmp_path / "nowhere")
    return tmp_path


def names(tree: Path, pattern: str) -> list[str]:
    return [path.relative_to(tree).as_posix() for path in input_files(tree, pattern)]


def test_every_file_below_a_folder_but_not_through_links_to_folders(tree):
    assert names(tree, "**/*") == [
        ".dot/q.md",
        ".hidden.md",
        "a/y.md",
        "a-b/z.md",
        "b/c/w.yaml",
        "d/r.YAML",
        "file-link.md",
        "x.md",
    ]


def test_a_pattern_matches_files_only_never_a_broken_link(tree):
    assert names(tree, "*.md") == [".hidden.md", "file-link.md", "x.md"]
    assert names(tree, "*") == [".hidden.md", "file-link.md", "x.md"]


def test_a_missing_folder_matches_nothing(tmp_path):
    assert input_files(tmp_path / "missing", "**/*") == []
    assert input_files(tmp_path, "missing/*") == []


def test_editors_scratch_files_are_not_inputs(tmp_path):
    for name in ("01-one.md", ".01-one.md.swp", ".01-one.md.swx", "01-one.md~", ".#01-one.md"):
        (tmp_path / name).write_text("text")
    (tmp_path / "images").mkdir()
    (tmp_path / "images" / ".DS_Store").write_bytes(b"\0")
    assert names(tmp_path, "**/*") == ["01-one.md"]


def test_a_key_does_not_collide_when_text_moves_between_parts():
    assert cache_key("ab", "c") != cache_key("a", "bc")
    assert cache_key("a", "b") == cache_key("a", "b")


def test_the_package_fingerprint_follows_its_files_but_not_bytecode(tmp_path, monkeypatch):
    package = tmp_path / "package"
    (package / "__pycache__").mkdir(parents=True)
    (package / "module.py").write_text("x = 1\n")
    monkeypatch.setattr(keys, "PACKAGE", package)
    before = package_fingerprint()
    (package / "__pycache__" / "module.cpython-311.pyc").write_bytes(b"\0")
    assert package_fingerprint() == before
    (package / "module.py").write_text("x = 2\n")
    assert package_fingerprint() != before
