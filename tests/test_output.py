"""Atomic output: a failed or interrupted write leaves the earlier file as it was."""

from __future__ import annotations

import os
import threading
import time

import pytest

from ebook_builder import api
from ebook_builder.errors import OutputError
from ebook_builder.formats import FORMATS
from ebook_builder.output import atomic_output


def test_success_replaces_the_file(tmp_path):
    target = tmp_path / "book.epub"
    target.write_bytes(b"old")
    with atomic_output(target) as temporary:
        temporary.write_bytes(b"new")
    assert target.read_bytes() == b"new"
    assert [p.name for p in tmp_path.iterdir()] == ["book.epub"]
    assert target.stat().st_mode & 0o777 != 0o600


@pytest.mark.parametrize("failure", [KeyboardInterrupt, RuntimeError])
def test_interruption_leaves_the_old_file_and_no_temporary(tmp_path, failure):
    target = tmp_path / "book.epub"
    target.write_bytes(b"old")
    with pytest.raises(failure), atomic_output(target) as temporary:
        temporary.write_bytes(b"half")
        raise failure()
    assert target.read_bytes() == b"old"
    assert [p.name for p in tmp_path.iterdir()] == ["book.epub"]


def test_full_disk_becomes_an_output_error(tmp_path):
    target = tmp_path / "book.epub"
    target.write_bytes(b"old")
    with pytest.raises(OutputError, match=r"book\.epub: cannot write"), atomic_output(target):
        raise OSError(28, "No space left on device")
    assert target.read_bytes() == b"old"
    assert [p.name for p in tmp_path.iterdir()] == ["book.epub"]


def test_unwritable_output_folder(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with (
        pytest.raises(OutputError, match="cannot write to the output folder"),
        atomic_output(blocker / "sub" / "book.epub"),
    ):
        pass


def test_interrupted_build_keeps_the_earlier_epub(make_project, monkeypatch):
    make_project.book()
    (first,) = api.build(make_project.root, formats=["epub"])
    before = first.read_bytes()

    def interrupted(converted, path):
        path.write_bytes(b"partial")
        raise KeyboardInterrupt

    monkeypatch.setattr(FORMATS["epub"].load(), "write_epub", interrupted)
    with pytest.raises(KeyboardInterrupt):
        api.build(make_project.root, formats=["epub"], use_cache=False)
    assert first.read_bytes() == before
    assert [p.name for p in first.parent.iterdir()] == ["demo.epub"]


def test_a_writer_beside_fails_after_the_others_are_written_and_the_earlier_docx_stays(
    make_project, monkeypatch
):
    """The DOCX is written in a thread (`OutputFormat.tools`): its failure is raised after
    the other formats are written, and leaves the earlier file."""
    make_project.book()
    built = api.build(make_project.root, formats=["epub", "docx"])
    docx, epub = (next(p for p in built if p.suffix == suffix) for suffix in (".docx", ".epub"))
    before = docx.read_bytes()

    def failing(converted, path):
        path.write_bytes(b"partial")
        raise OutputError("the disk is full", path=path)

    def slow_epub(converted, path):
        time.sleep(0.2)
        path.write_bytes(b"new epub")

    monkeypatch.setattr(FORMATS["docx"].load(), "write_docx", failing)
    monkeypatch.setattr(FORMATS["epub"].load(), "write_epub", slow_epub)
    with pytest.raises(OutputError, match="the disk is full"):
        api.build(make_project.root, formats=["epub", "docx"], use_cache=False)
    assert docx.read_bytes() == before
    assert epub.read_bytes() == b"new epub"
    assert sorted(p.name for p in docx.parent.iterdir()) == ["demo.docx", "demo.epub"]


def test_a_failure_here_waits_for_the_writers_beside(make_project, monkeypatch):
    make_project.book()

    def failing(converted, path):
        raise OutputError("the disk is full", path=path)

    def slow_docx(converted, path):
        time.sleep(0.2)
        path.write_bytes(b"new docx")

    monkeypatch.setattr(FORMATS["epub"].load(), "write_epub", failing)
    monkeypatch.setattr(FORMATS["docx"].load(), "write_docx", slow_docx)
    out = make_project.root / "dist"
    with pytest.raises(OutputError, match="the disk is full"):
        api.build(make_project.root, formats=["epub", "docx"], out=out, use_cache=False)
    assert (out / "demo.docx").read_bytes() == b"new docx"
    assert sorted(p.name for p in out.iterdir()) == ["demo.docx"]


def test_the_docx_is_written_while_the_others_are(make_project, monkeypatch):
    """The EPUB's writer waits until the DOCX's has started: one after the other, it would
    wait in vain."""
    make_project.book()
    started = threading.Event()

    def docx_writer(converted, path):
        started.set()
        path.write_text(str(threading.get_ident()))

    def epub_writer(converted, path):
        assert started.wait(timeout=30), "the DOCX was not written beside the EPUB"
        path.write_text(str(threading.get_ident()))

    monkeypatch.setattr(FORMATS["docx"].load(), "write_docx", docx_writer)
    monkeypatch.setattr(FORMATS["epub"].load(), "write_epub", epub_writer)
    monkeypatch.setattr(os, "cpu_count", lambda: 1)
    built = api.build(make_project.root, formats=["epub", "docx"], use_cache=False)
    docx, epub = (next(p for p in built if p.suffix == suffix) for suffix in (".docx", ".epub"))
    assert int(epub.read_text()) == threading.get_ident() != int(docx.read_text())
