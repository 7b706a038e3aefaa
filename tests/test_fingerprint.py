"""Fingerprints without pathlib: the same files as Path.glob, the same package hash as before."""

from __future__ import annotations

import json
import random
import subprocess
import sys
from fnmatch import fnmatchcase
from pathlib import Path

import pytest

from ebook_builder import __version__, fingerprint
from ebook_builder.fingerprint import (
    EDITOR_SCRATCH,
    cache_key,
    files_matching,
    matches,
    matching_stats,
    package_fingerprint,
)


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


@pytest.mark.parametrize(
    "pattern", ["**/*", "*", "*.md", "**/*.yaml", "a/*", "*/*.md", "**", "x.*", "b/**/*", "[ab]*/*"]
)
def test_files_are_matched_as_path_glob_matches_them(tree, pattern):
    expected = [path for path in sorted(tree.glob(pattern)) if path.is_file()]
    assert files_matching(tree, pattern) == expected
    assert sorted(matching_stats(str(tree), pattern)) == sorted(
        path.relative_to(tree).as_posix() for path in expected
    )


def test_a_missing_folder_matches_nothing(tmp_path):
    assert files_matching(tmp_path / "missing", "**/*") == []
    assert files_matching(tmp_path, "missing/*") == []


def test_the_package_fingerprint_is_the_size_and_time_of_its_files_but_bytecode():
    package = Path(fingerprint.__file__).parent
    stats = sorted(
        (p.relative_to(package).as_posix(), p.stat().st_size, p.stat().st_mtime_ns)
        for p in package.rglob("*")
        if p.is_file() and "__pycache__" not in p.parts
    )
    assert fingerprint.package_files() == stats
    assert package_fingerprint() == cache_key(__version__, json.dumps(stats))


def test_editors_scratch_files_are_not_inputs(tmp_path):
    for name in ("01-one.md", ".01-one.md.swp", ".01-one.md.swx", "01-one.md~", ".#01-one.md"):
        (tmp_path / name).write_text("text")
    (tmp_path / "images").mkdir()
    (tmp_path / "images" / ".DS_Store").write_bytes(b"\0")
    assert list(matching_stats(str(tmp_path), "**/*")) == ["01-one.md"]


def test_matches_as_fnmatch_does():
    rng = random.Random(7)
    patterns = ["*.yaml", "*", "russian-revolution-1917.*", *EDITOR_SCRATCH, "a*b?c*", "[ab]*"]
    names = [".ch.md.swp", "notes~", ".#a.md", "#a#", ".DS_Store", "x.yaml", "a.yaml.bak", ""]
    names += ["".join(rng.choices("ab.c~#*?", k=rng.randint(0, 8))) for _ in range(2000)]
    for pattern in patterns:
        for name in names:
            assert matches(name, pattern) == fnmatchcase(name, pattern), (name, pattern)


def test_a_replay_loads_no_regular_expressions(tmp_path: Path):
    """Without site (`-S`), whose `.pth` files may load anything."""
    source = Path(fingerprint.__file__).parents[1]
    code = (
        f"import sys; sys.path.insert(0, {str(source)!r}); import ebook_builder.memo as m; "
        "m.replay(['build']); print('re' in sys.modules)"
    )
    result = subprocess.run(
        [sys.executable, "-S", "-c", code], cwd=tmp_path, capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "False"
