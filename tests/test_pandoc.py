"""The pandoc runner: many documents per process, in order, with pandoc's own errors."""

from __future__ import annotations

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


def test_batches_are_bounded_and_keep_every_request(monkeypatch):
    monkeypatch.setattr(pandoc, "BATCH_CHARACTERS", 25)
    requests = [{"text": "x" * size} for size in (10, 10, 10, 40, 5)]
    batches = list(pandoc._batches(requests))
    assert [len(r["text"]) for batch in batches for r in batch] == [10, 10, 10, 40, 5]
    assert all(sum(len(r["text"]) for r in b) <= 25 or len(b) == 1 for b in batches)


def test_a_refused_document_is_a_one_line_error():
    with pytest.raises(BookError, match="pandoc failed: Unknown input format nonesuch"):
        pandoc.convert_texts(["text"], "nonesuch", "html5")


def test_pandoc_reads_no_file(tmp_path):
    """The server mode is pandoc's sandbox: even asked to embed an image, it reads none."""
    image = tmp_path / "secret.png"
    image.write_bytes(b"\x89PNG\r\n\x1a\nnot for pandoc")
    args = ["--embed-resources", "--standalone"]
    (html,) = pandoc.convert_texts([f"![x]({image})"], "markdown", "html5", args)
    assert f'src="{image}"' in html
    assert "data:image/png" not in html
