"""Stage 1: metadata and chapter loading."""

from __future__ import annotations

import os
from datetime import UTC, datetime
from pathlib import Path

import pytest

from ebook_builder.errors import BookError, InputError, UsageError
from ebook_builder.load import Project, chosen_book, load_book, select_books


def test_loads_metadata_and_chapters_in_listed_order(make_project):
    make_project.book(chapters={"b.md": "# B\n", "a.md": "# A\n"}, subjects=["One", "Two"])
    book = load_book(Project(make_project.root), "demo")
    assert [c.entry for c in book.chapters] == ["b.md", "a.md"]
    assert book.metadata.title == "Demo Book"
    assert book.metadata.subjects == ("One", "Two")
    assert book.metadata.modified == datetime(2020, 1, 1, tzinfo=UTC)
    assert book.cover.generated and book.cover.media_type == "image/jpeg"


def test_source_date_epoch_fixes_the_timestamp(make_project, monkeypatch):
    make_project.book()
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")
    book = load_book(Project(make_project.root), "demo")
    assert book.metadata.modified == datetime.fromtimestamp(1700000000, UTC)


def test_byte_order_mark_is_dropped(make_project):
    make_project.book(chapters={"a.md": b"\xef\xbb\xbf# A\n"})
    assert load_book(Project(make_project.root), "demo").chapters[0].text == "# A\n"


def test_reports_every_metadata_problem_at_once(make_project):
    make_project.book(title=None, language="english!", creators=[], identifier=None)
    with pytest.raises(BookError) as caught:
        load_book(Project(make_project.root), "demo")
    messages = "\n".join(caught.value.lines())
    assert "missing required key 'title'" in messages
    assert "BCP 47" in messages
    assert "at least one creator" in messages
    assert "missing required key 'identifier'" in messages
    assert len(caught.value.lines()) == 4


def test_problem_lines_point_at_the_key(make_project):
    make_project.book(language=5)
    path = make_project.metadata_path()
    line = path.read_text().splitlines().index("language: 5") + 1
    with pytest.raises(BookError) as caught:
        load_book(Project(make_project.root), "demo")
    assert caught.value.lines() == [
        f"metadata/demo.yaml:{line}: 'language' must be a BCP 47 tag such as 'en' or 'fr-CA', not 5"
    ]


@pytest.mark.parametrize("tag", ["en", "fr-CA", "zh-Hant-TW", "de-1996"])
def test_accepts_bcp47_tags(make_project, tag):
    make_project.book(language=tag)
    assert load_book(Project(make_project.root), "demo").metadata.language == tag


def test_wrong_shapes_are_reported(make_project):
    make_project.book(title=1917, creators="Solo Author", subjects={"a": 1})
    with pytest.raises(BookError) as caught:
        load_book(Project(make_project.root), "demo")
    text = "\n".join(caught.value.lines())
    assert "'title' must be text, not int" in text
    assert "'subjects' must be a list" in text


def test_metadata_must_be_a_mapping(make_project):
    make_project.book()
    make_project.metadata_path().write_text("- a\n- b\n")
    with pytest.raises(BookError, match="must be a mapping"):
        load_book(Project(make_project.root), "demo")


def test_malformed_yaml_names_file_and_line(make_project):
    make_project.book()
    make_project.metadata_path().write_text("title: ok\nlanguage: [en\n")
    with pytest.raises(InputError) as caught:
        load_book(Project(make_project.root), "demo")
    assert caught.value.lines()[0].startswith("metadata/demo.yaml:2: malformed YAML")


@pytest.mark.parametrize(
    ("entry", "message"),
    [
        ("../outside.md", "must be a relative path inside"),
        ("/etc/passwd", "must be a relative path inside"),
        ("missing.md", "missing chapter file"),
    ],
)
def test_chapter_paths_are_confined(make_project, entry, message):
    make_project.book(chapters={"a.md": "# A\n"}, listed=["a.md", entry])
    (make_project.root / "book" / "outside.md").write_text("# Out\n")
    with pytest.raises((BookError, InputError), match=message):
        load_book(Project(make_project.root), "demo")


def test_symlink_out_of_the_book_is_refused(make_project, tmp_path):
    secret = tmp_path / "secret.md"
    secret.write_text("# Secret\n")
    book_dir = make_project.book()
    os.symlink(secret, book_dir / "link.md")
    make_project.book(listed=["01-one.md", "link.md"])
    with pytest.raises(BookError, match="relative path inside"):
        load_book(Project(make_project.root), "demo")


def test_duplicate_and_empty_chapter_lists(make_project):
    make_project.book(listed=["01-one.md", "01-one.md"])
    with pytest.raises(BookError, match="listed twice"):
        load_book(Project(make_project.root), "demo")
    make_project.book(listed=[])
    with pytest.raises(BookError, match="non-empty list"):
        load_book(Project(make_project.root), "demo")


@pytest.mark.parametrize(
    ("data", "hint"),
    [(b"# Caf\xe9\n", "not UTF-8:"), ("# A\n".encode("utf-16"), "not UTF-8 (looks like UTF-16)")],
)
def test_non_utf8_chapters_are_unreadable_input(make_project, data, hint):
    make_project.book(chapters={"a.md": data})
    with pytest.raises(InputError) as caught:
        load_book(Project(make_project.root), "demo")
    assert caught.value.lines()[0].startswith("book/demo/a.md:1: " + hint)


def test_select_books_defaults_to_all_and_refuses_unknown(make_project):
    make_project.book("b-book")
    make_project.book("a-book")
    project = Project(make_project.root)
    assert select_books(project, None) == ["a-book", "b-book"]
    with pytest.raises(UsageError, match="unknown book id 'nope'"):
        select_books(project, ["nope"])


def test_project_without_books(tmp_path: Path):
    with pytest.raises(UsageError, match="no books found"):
        select_books(Project(tmp_path), None)


def test_the_only_book_is_the_default_and_several_need_a_name(make_project):
    make_project.book()
    project = Project(make_project.root)
    assert chosen_book(project, None, "preview") == "demo"
    make_project.book("other")
    with pytest.raises(UsageError, match="name the book to preview"):
        chosen_book(project, None, "preview")
    with pytest.raises(UsageError):
        chosen_book(project, "missing", "proof")
