"""The KF8 text layer: skeletons and fragments rebuild the files; links and TOC land right."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from lxml import etree

from ebook_builder import api
from ebook_builder.formats.kindle.resources import collect
from ebook_builder.formats.kindle.text import (
    BASE32,
    CHUNK_SIZE,
    KF8Text,
    base32,
    build_text,
    embed_href,
)
from ebook_builder.markup.xhtml import XHTML_NS, text_of
from ebook_builder.model import ConvertedBook
from tests.helpers import ProjectMaker

LINK = re.compile(rb'href="kindle:pos:fid:([0-9A-V]{4}):off:([0-9A-V]{10})"')
MARKERS = re.compile(rb' [ac]id="[^"]*"')


def _paragraphs(prefix: str, count: int) -> str:
    sentence = "The soviets met every day and argued about bread, land and peace. "
    return "\n\n".join(f"{prefix} {n}. " + sentence * 6 for n in range(count))


@pytest.fixture(scope="module")
def long_book(tmp_path_factory: pytest.TempPathFactory) -> ConvertedBook:
    """Chapters far larger than a fragment, nested sections, a table target, links."""
    maker = ProjectMaker(tmp_path_factory.mktemp("kindle-text") / "project")
    first = (
        "# First Chapter\n\nSee [the table](#year-cell), [the end](02-two.md#deep-end) "
        "and [chapter two](02-two.md).[^n]\n\n"
        + _paragraphs("Opening", 30)
        + "\n\n## A Section {#a-section}\n\n"
        + _paragraphs("Section", 30)
        + "\n\n### Deeper\n\n"
        + _paragraphs("Deeper", 5)
        + "\n\n| Year | Event |\n|------|-------|\n| []{#year-cell}1905 | Rehearsal |\n\n"
        + "[^n]: A note [back to the section](#a-section).\n"
    )
    second = (
        "# Second Chapter\n\n"
        + _paragraphs("Second", 40)
        + "\n\n## The End {#deep-end}\n\nBack to [the start](01-one.md).\n"
    )
    maker.book("long", {"01-one.md": first, "02-two.md": second})
    return api.check(maker.root, ["long"])[0]


@pytest.fixture(scope="module")
def tour(fixture_project: Path) -> ConvertedBook:
    return api.check(fixture_project, ["feature-tour"])[0]


def _layer(book: ConvertedBook) -> KF8Text:
    return build_text(book, collect(book).by_href)


def _rebuild(layer: KF8Text) -> list[bytes]:
    """Each file, put back together the way a reader does it."""
    files = []
    for skeleton in layer.skeletons:
        files.append(bytearray(layer.text[skeleton.start : skeleton.start + skeleton.length]))
    for fragment in layer.fragments:
        skeleton = layer.skeletons[fragment.file_number]
        start = skeleton.start + skeleton.length + fragment.offset
        piece = layer.text[start : start + fragment.length]
        at = fragment.insert_position - skeleton.start
        files[fragment.file_number][at:at] = piece
    return [bytes(f) for f in files]


def _assembled(layer: KF8Text) -> bytes:
    """The text with every file rebuilt, in the coordinates positions are counted in."""
    return b"".join(_rebuild(layer))


def test_base32() -> None:
    assert base32(0, 4) == "0000"
    assert base32(31, 1) == "V"
    assert base32(32, 4) == "0010"
    assert base32(1_000_000, 10) == "000000UGI0"
    assert set(base32(123456789, 1)) <= set(BASE32)
    assert embed_href(0, "image/png") == "kindle:embed:0001?mime=image/png"


@pytest.mark.parametrize("book_name", ["long_book", "tour"])
def test_fragments_rebuild_the_chapters(book_name: str, request: pytest.FixtureRequest) -> None:
    book: ConvertedBook = request.getfixturevalue(book_name)
    layer = _layer(book)
    rebuilt = _rebuild(layer)
    assert len(rebuilt) == len(book.documents)  # the chapters and the matter pages
    for document, data in zip(book.documents, rebuilt, strict=True):
        root = etree.fromstring(MARKERS.sub(b"", data))
        body = root.find(f"{{{XHTML_NS}}}body")
        assert text_of(body) == text_of(document.body)
        assert root.find(f".//{{{XHTML_NS}}}title").text == document.title


def test_fragments_are_small_and_in_order(long_book: ConvertedBook) -> None:
    layer = _layer(long_book)
    assert len(layer.fragments) > 2 * len(long_book.chapters)  # the chapters were split
    names = [f.insert_position for f in layer.fragments]
    assert names == sorted(names) and len(set(names)) == len(names)
    assert [f.sequence for f in layer.fragments] == list(range(len(layer.fragments)))
    assert all(f.length <= CHUNK_SIZE for f in layer.fragments)
    for skeleton, number in zip(layer.skeletons, range(len(layer.skeletons)), strict=True):
        own = [f for f in layer.fragments if f.file_number == number]
        assert skeleton.fragment_count == len(own)
        assert [f.offset for f in own] == [sum(g.length for g in own[:i]) for i in range(len(own))]
    selectors = {f.selector[:2] for f in layer.fragments}
    assert selectors <= {"P-", "S-"}
    assert all(re.fullmatch(r"[PS]-//\*\[@aid='[0-9A-V]+'\]", f.selector) for f in layer.fragments)


def test_markup_rules(long_book: ConvertedBook) -> None:
    layer = _layer(long_book)
    text = _assembled(layer)
    # aid is the last attribute of its tag.
    assert not re.search(rb' aid="[0-9A-V]+" [^>]*>', text)
    # Nothing inside a table carries an aid; the link target there has a cid.
    for table in re.findall(rb"<table.*?</table>", text, re.S):
        assert b' aid="' not in table
        assert b' cid="' in table
    # Empty elements are closed explicitly, never self-closed (readers parse HTML).
    assert not re.search(rb"<(span|a|p|div|section)\b[^>]*/>", text)
    assert b'<link rel="stylesheet" type="text/css" href="kindle:flow:0001?mime=text/css"/>' in text


def _target_id(text: bytes, position: int) -> bytes | None:
    """The id a reader finds for a position: the tag that starts there or encloses it."""
    tag = re.compile(rb"<[a-z][^>]*>").match(text, position)
    if tag is None:
        return None
    found = re.search(rb' id="([^"]*)"', tag.group())
    return found.group(1) if found else b""


def _expected(layer: KF8Text, text: bytes, anchor: bytes | None, file_number: int) -> int:
    """Where a link to `anchor` (or to the start of the file) must land.

    The target's `<` when a fragment holds it; when it lies in a skeleton (a split
    container's start tag), the start of the next fragment, where its content begins.
    """
    own = [f for f in layer.fragments if f.file_number == file_number]
    if anchor is None:
        return own[0].insert_position
    at = text.rfind(b"<", 0, text.index(b' id="' + anchor + b'"'))
    for fragment in own:
        if fragment.insert_position <= at < fragment.insert_position + fragment.length:
            return at
    return min(f.insert_position for f in own if f.insert_position > at)


def test_links_reach_their_targets(long_book: ConvertedBook) -> None:
    layer = _layer(long_book)
    text = _assembled(layer)
    reached = []
    for match in LINK.finditer(text):
        fragment = layer.fragments[int(match.group(1), 32)]
        reached.append(fragment.insert_position + int(match.group(2), 32))
    one, two = (len(long_book.front_matter) + n for n in (0, 1))  # the chapters' files
    expected = [
        _expected(layer, text, b"year-cell", one),
        _expected(layer, text, b"deep-end", two),
        _expected(layer, text, None, two),
        _expected(layer, text, b"01-one-fn1", one),  # the note reference
        _expected(layer, text, b"01-one-fnref1", one),  # the note's way back, its number
        _expected(layer, text, b"a-section", one),  # in the note
        _expected(layer, text, None, one),
    ]
    assert reached == expected
    assert _target_id(text, expected[0]) == b"year-cell"  # inside a table: found by its cid
    assert _target_id(text, expected[1]) == b"deep-end"


def test_toc(long_book: ConvertedBook) -> None:
    layer = _layer(long_book)
    text = _assembled(layer)
    titles = [(n.title, [c.title for c in n.children]) for n in layer.toc]
    assert titles == [("First Chapter", ["A Section"]), ("Second Chapter", ["The End"])]
    assert [c.title for c in layer.toc[0].children[0].children] == ["Deeper"]
    for node in layer.toc:
        fragment = layer.fragments[node.position.fragment]
        assert node.position.offset == fragment.insert_position + node.position.fragment_offset
    # "The End" points at its section, which is in a fragment.
    end = layer.toc[1].children[0].position
    assert _target_id(text, end.offset) == b"deep-end"
    first = len(long_book.front_matter)  # reading starts at the first chapter, after them
    opening = next(f for f in layer.fragments if f.file_number == first)
    assert layer.start.offset == opening.insert_position


def test_images_point_at_resources(tour: ConvertedBook) -> None:
    layer = _layer(tour)
    assert b'src="kindle:embed:0002?mime=image/png"' in layer.text
    assert b"images/circle.png" not in layer.text


def test_text_is_deterministic(tour: ConvertedBook) -> None:
    assert _layer(tour).text == _layer(tour).text
