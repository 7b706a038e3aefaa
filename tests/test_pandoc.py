"""The pandoc runner: many documents per process, in order, with pandoc's own errors."""

from __future__ import annotations

import re
import subprocess
import sys
import tomllib
from importlib.metadata import version
from pathlib import Path

import pytest

from ebook_builder import pandoc
from ebook_builder.errors import BookError


def test_options_take_the_servers_field_names():
    assert pandoc.server_options(["--section-divs", "--wrap=none", "--columns=72"]) == {
        "section-divs": True,
        "wrap": "none",
        "columns": 72,
    }


def test_outputs_come_back_in_order_across_batches(monkeypatch):
    monkeypatch.setattr(pandoc, "BATCH_CHARACTERS", 10)
    texts = [f"Paragraph *{n}*." for n in range(7)]
    outputs = pandoc.convert_texts(texts, "markdown", "html5")
    assert outputs == [f"<p>Paragraph <em>{n}</em>.</p>" for n in range(7)]


def test_batches_share_the_work_and_stay_bounded(monkeypatch):
    monkeypatch.setattr(pandoc, "usable_cores", lambda: 2)
    sizes = [90, 10, 40, 40, 10, 10]
    batches = pandoc._batches(sizes)
    assert sorted(i for batch in batches for i in batch) == list(range(len(sizes)))
    assert sorted(sum(sizes[i] for i in batch) for batch in batches) == [100, 100]
    monkeypatch.setattr(pandoc, "BATCH_CHARACTERS", 50)
    batches = pandoc._batches(sizes)
    assert len(batches) == 4  # 200 characters, at most about 50 each
    assert max(sum(sizes[i] for i in batch) for batch in batches) == 90  # one long document


def test_a_refused_document_is_a_one_line_error():
    with pytest.raises(BookError, match="pandoc failed: Unknown input format nonesuch"):
        pandoc.convert_texts(["text"], "nonesuch", "html5")


def test_a_refusal_names_its_document_and_keeps_pandocs_whole_message():
    with pytest.raises(pandoc.Refused) as refused:
        pandoc.convert_texts(["fine", "---\na: [\n---\n", "fine"], "markdown", "html5")
    assert refused.value.index == 1
    assert refused.value.reason.count("\n") >= 2  # positions on several lines
    assert str(refused.value).startswith("pandoc failed: Error parsing YAML metadata at (line 1")
    assert "\n" not in str(refused.value)


def test_pandoc_reads_no_file(tmp_path):
    """The server mode is pandoc's sandbox: even asked to embed an image, it reads none."""
    image = tmp_path / "secret.png"
    image.write_bytes(b"\x89PNG\r\n\x1a\nnot for pandoc")
    args = ["--embed-resources", "--standalone"]
    (html,) = pandoc.convert_texts([f"![x]({image})"], "markdown", "html5", args)
    assert f'src="{image}"' in html
    assert "data:image/png" not in html


def test_the_bundled_pandoc_converts_unless_overridden(monkeypatch, tmp_path):
    """Whatever else is installed, the wheel's pandoc makes the book: the same output."""
    bundled = pandoc.pandoc_path()
    assert bundled.endswith(("/pypandoc/files/pandoc", "\\pypandoc\\files\\pandoc.exe"))
    monkeypatch.setenv("PYPANDOC_PANDOC", str(tmp_path / "my-pandoc"))
    pandoc.pandoc_path.cache_clear()
    try:
        assert pandoc.pandoc_path() == str(tmp_path / "my-pandoc")
    finally:
        monkeypatch.delenv("PYPANDOC_PANDOC")
        pandoc.pandoc_path.cache_clear()
    assert pandoc.pandoc_path() == bundled


def test_a_failed_run_is_a_one_line_error():
    with pytest.raises(BookError, match=r"^pandoc failed: .*json"):
        pandoc.run_pandoc(["--from=json", "--to=docx", "-o", "/dev/null"], b"not json")


def test_pandoc_is_stopped_past_its_bound_and_the_largest_document_named(monkeypatch):
    """What `limits` does not foresee still ends: pandoc is stopped (a bound of 0 s here)."""
    assert pandoc.timeout_seconds(50_000_000) == 530  # the largest chapter a book may have
    monkeypatch.setattr(pandoc, "TIMEOUT_BASE_SECONDS", 0)
    with pytest.raises(pandoc.Refused) as refused:
        pandoc.convert_texts(["a", "longest", "b"], "markdown", "html5")
    assert refused.value.index == 1 and "did not finish within 0 s" in refused.value.reason
    with pytest.raises(pandoc.TimedOut, match=r"^pandoc did not finish within 0 s$"):
        pandoc.run_pandoc(["--from=markdown", "--to=html5"], b"text")


def test_the_build_runs_the_pinned_pandoc():
    """Byte-identical builds need one pandoc everywhere: the wheel pinned in pyproject.toml.

    pypandoc_binary 1.17 carries pandoc 3.9; a new pin must update this test on purpose.
    """
    pyproject = Path(__file__).resolve().parents[1] / "pyproject.toml"
    dependencies = tomllib.loads(pyproject.read_text())["project"]["dependencies"]
    pins = [re.match(r"pypandoc_binary==([\d.]+)$", d.split("#")[0].strip()) for d in dependencies]
    pinned = [pin.group(1) for pin in pins if pin]
    assert pinned == [version("pypandoc_binary")] == ["1.17"]
    reported = subprocess.run(
        [pandoc.pandoc_path(), "--version"], capture_output=True, text=True, check=True
    ).stdout.splitlines()[0]
    assert reported == "pandoc 3.9"


def test_pandoc_starts_without_its_64_mb_heap():
    """A 90,000-word novel converted in a batch and written as a DOCX: under 150 MB of
    resident memory, not the 177 MB that pandoc's built-in heap size costs. Half a catalog
    worker's memory is its pandoc."""
    script = (
        "import resource, sys; from ebook_builder import pandoc; "
        "text = ('The workers of Petrograd took power in October. ' * 20 + chr(10) * 2) * 500; "
        "pandoc.convert_texts([text], 'markdown', 'html5'); "
        "pandoc.run_pandoc(['-f', 'markdown', '-t', 'docx'], text.encode()); "
        "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)"
    )
    peak = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True
    ).stdout
    assert int(peak) < 150 * 1024  # KiB
