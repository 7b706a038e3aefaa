"""The chapter cache and output stamps: never stale, never corrupt, same bytes as cold."""

from __future__ import annotations

import zipfile
from pathlib import Path

from ebook_builder import api, convert, pandoc
from ebook_builder.cache import ChapterCache
from ebook_builder.fingerprint import cache_key


def two_chapters(make_project) -> Path:
    make_project.book(chapters={"a.md": "# A\n\nText a.\n", "b.md": "# B\n\nText b.\n"})
    return make_project.root


def test_cached_build_is_byte_identical_to_a_cold_one(make_project, tmp_path, counted):
    root = two_chapters(make_project)
    cold = api.build(root, out=tmp_path / "cold", use_cache=False)
    api.build(root, out=tmp_path / "warm")
    warm = api.build(root, out=tmp_path / "warm2")
    assert sorted(counted) == ["# A", "# A", "# B", "# B"]  # the third build converted nothing
    assert [p.name for p in warm] == [p.name for p in cold]
    assert [p.read_bytes() for p in warm] == [p.read_bytes() for p in cold]


def test_changed_chapter_is_the_only_one_converted(make_project, counted):
    root = two_chapters(make_project)
    api.build(root, formats=["epub"])
    (root / "book/demo/b.md").write_text("# B\n\nText b, edited.\n")
    api.build(root, formats=["epub"])
    assert sorted(counted) == ["# A", "# B", "# B"]


def test_unchanged_output_is_kept_and_a_damaged_one_rebuilt(make_project, counted):
    root = two_chapters(make_project)
    (epub,) = api.build(root, formats=["epub"])
    stamp = epub.stat().st_mtime_ns
    api.build(root, formats=["epub"])
    assert epub.stat().st_mtime_ns == stamp
    epub.write_bytes(b"damaged")
    api.build(root, formats=["epub"])
    assert epub.read_bytes()[:2] == b"PK"


def test_metadata_change_rebuilds_the_output(make_project):
    root = two_chapters(make_project)
    (epub,) = api.build(root, formats=["epub"])
    before = epub.read_bytes()
    meta = root / "metadata/demo.yaml"
    meta.write_text(meta.read_text().replace("Demo Book", "Another Title"))
    api.build(root, formats=["epub"])
    assert epub.read_bytes() != before
    with zipfile.ZipFile(epub) as archive:
        assert b"Another Title" in archive.read("EPUB/content.opf")


def test_option_or_tool_version_change_is_a_miss(make_project, monkeypatch, counted):
    root = two_chapters(make_project)
    api.build(root, formats=["epub"])
    monkeypatch.setattr(convert, "PANDOC_ARGS", (*convert.PANDOC_ARGS, "--columns=72"))
    api.check(root)
    monkeypatch.setattr(pandoc, "pandoc_fingerprint", lambda: "/usr/bin/pandoc:99:99")
    api.check(root)
    monkeypatch.setattr(pandoc, "__version__", "99.0.0")
    api.check(root)
    assert sorted(counted) == ["# A"] * 4 + ["# B"] * 4


def test_corrupt_entry_is_detected_and_rebuilt(make_project, counted):
    root = two_chapters(make_project)
    api.check(root)
    entries = sorted((root / ".cache" / "chapters").rglob("*"))
    files = [p for p in entries if p.is_file()]
    assert len(files) == 2
    for path in files:
        data = path.read_bytes()
        path.write_bytes(data[:-10] + b"<script>!!")
    (converted,) = api.check(root)
    assert sorted(counted) == ["# A", "# A", "# B", "# B"]
    assert all(c.body.find(".//{*}script") is None for c in converted.chapters)


def test_cache_key_separates_its_parts():
    assert cache_key("ab", "c") != cache_key("a", "bc")


def test_unwritable_cache_is_only_slower(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    cache = ChapterCache(blocker / "cache")
    cache.put("0" * 64, "<p>x</p>")
    assert cache.get("0" * 64) is None
