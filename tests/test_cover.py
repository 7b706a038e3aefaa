"""Covers: generated when absent, checked when supplied."""

from __future__ import annotations

import io

import pytest
from PIL import Image

from ebook_builder import api
from ebook_builder.errors import BookError
from ebook_builder.load import Project, load_book


def test_generated_cover_is_a_store_sized_jpeg(make_project):
    make_project.book(subtitle="A Subtitle")
    cover = load_book(Project(make_project.root), "demo").cover
    image = Image.open(io.BytesIO(cover.data))
    assert (image.format, image.size) == ("JPEG", (1600, 2560))
    assert cover.generated


def test_generated_cover_is_reproducible(make_project):
    make_project.book()
    first = load_book(Project(make_project.root), "demo").cover.data
    assert load_book(Project(make_project.root), "demo").cover.data == first


def test_cover_command_writes_the_file_that_is_then_used(make_project):
    make_project.book()
    path = api.write_cover(make_project.root, "demo")
    cover = load_book(Project(make_project.root), "demo").cover
    assert path.read_bytes() == cover.data
    assert not cover.generated


def test_supplied_png_cover_is_used(make_project):
    make_project.book()
    covers = make_project.root / "covers"
    covers.mkdir()
    Image.new("RGB", (625, 1000), "white").save(covers / "demo.png")
    cover = load_book(Project(make_project.root), "demo").cover
    assert cover.media_type == "image/png"


@pytest.mark.parametrize(
    ("data", "message"),
    [(b"", "not a readable image"), (b"\xff\xd8\xff\xe0garbage", "not a readable image")],
)
def test_broken_cover_is_refused(make_project, data, message):
    make_project.book()
    covers = make_project.root / "covers"
    covers.mkdir()
    (covers / "demo.jpg").write_bytes(data)
    with pytest.raises(BookError, match=f"covers/demo.jpg: {message}"):
        load_book(Project(make_project.root), "demo")
