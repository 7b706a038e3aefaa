"""The chapter cache and output stamps: never stale, never corrupt, same bytes as cold."""

from __future__ import annotations

import os
import time
import zipfile
from pathlib import Path

from ebook_builder import api, convert, pandoc
from ebook_builder.cache.chapters import PRUNE_EVERY, PRUNED_STAMP, UNUSED_FOR, ChapterCache
from ebook_builder.cache.keys import cache_key


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
    files = [p for p in entries if p.is_file() and p.name != PRUNED_STAMP]
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


def aged(cache: ChapterCache, key: str, seconds: float) -> Path:
    """An entry last used `seconds` ago."""
    cache.put(key, f"<p>{key[:4]}</p>")
    path = cache.folder / key[:2] / key
    when = time.time() - seconds
    os.utime(path, (when, when))
    return path


def test_entries_unused_for_a_month_are_pruned_and_the_rest_kept(tmp_path):
    cache = ChapterCache(tmp_path / "chapters")
    old = aged(cache, "a" * 64, UNUSED_FOR + 3600)
    recent = aged(cache, "b" * 64, UNUSED_FOR - 3600)
    cache.prune()
    assert not old.exists()
    assert cache.get("b" * 64) == "<p>bbbb</p>"
    assert recent.exists()


def test_pruning_looks_at_most_once_a_day(tmp_path):
    cache = ChapterCache(tmp_path / "chapters")
    aged(cache, "b" * 64, 0)
    cache.prune()
    old = aged(cache, "a" * 64, UNUSED_FOR + 3600)
    cache.prune(time.time() + PRUNE_EVERY - 60)
    assert old.exists()
    cache.prune(time.time() + PRUNE_EVERY + 60)
    assert not old.exists()


def test_a_read_entry_counts_as_used(tmp_path):
    cache = ChapterCache(tmp_path / "chapters")
    path = aged(cache, "a" * 64, UNUSED_FOR + 3600)
    assert cache.get("a" * 64) == "<p>aaaa</p>"
    cache.prune()
    assert path.exists()


def test_a_build_prunes_what_no_chapter_uses_any_more(make_project, counted):
    root = two_chapters(make_project)
    api.build(root, formats=["epub"])
    entries = root / ".cache" / "chapters"
    (entries / PRUNED_STAMP).unlink()
    (root / "book/demo/b.md").write_text("# B\n\nText b, edited.\n")
    api.build(root, formats=["epub"])
    month_ago = time.time() - UNUSED_FOR - 3600
    (entries / PRUNED_STAMP).unlink()
    for path in entries.glob("*/*"):
        os.utime(path, (month_ago, month_ago))
    api.build(root, formats=["epub"], out=root / "elsewhere")
    assert len(list(entries.glob("*/*"))) == 2  # the two current chapters, read again
    assert sorted(counted) == ["# A", "# B", "# B"]
