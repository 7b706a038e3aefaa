"""Covers: generated when absent (legible, balanced, in the book's colours), checked when
supplied."""

from __future__ import annotations

import colorsys
import dataclasses
import io
import itertools
import random

import pytest
from PIL import Image, ImageChops, ImageStat

from ebook_builder import api
from ebook_builder.cover import palette
from ebook_builder.cover.layout import LAYOUTS, render_cover
from ebook_builder.cover.lines import balanced_lines
from ebook_builder.errors import BookError
from ebook_builder.load import Project, book_identifier, load_book
from ebook_builder.model import DESIGNS
from tests.helpers import REPO, SHIPPED_BOOKS, WORD, thumbnail_words


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


# --- The title's lines ---------------------------------------------------------------------


def test_balanced_lines_share_the_width_where_greedy_filling_leaves_a_stub():
    # Greedy: "one two three four" (18) over "five six" (8).
    assert balanced_lines("one two three four five six", len, 20) == [
        "one two three",
        "four five six",
    ]
    # Greedy: "A Tale of Two" over "Cities", a word alone.
    assert balanced_lines("A Tale of Two Cities", len, 16) == ["A Tale of", "Two Cities"]


def test_a_line_breaks_after_a_slash_and_a_word_too_wide_is_cut():
    assert balanced_lines("Speak Out Now/Revolutionary Workers Group", len, 16) == [
        "Speak Out Now/",
        "Revolutionary",
        "Workers Group",
    ]
    lines = balanced_lines("Antidisestablishmentarianism", len, 10)
    assert "".join(lines) == "Antidisestablishmentarianism"
    assert max(map(len, lines)) <= 10


def _settings(words: list[str]) -> list[list[str]]:
    """Every way to break `words` into lines, each line its words joined by spaces."""
    settings = []
    for cuts in itertools.product((False, True), repeat=len(words) - 1):
        lines, line = [], [words[0]]
        for word, cut in zip(words[1:], cuts, strict=True):
            if cut:
                lines.append(" ".join(line))
                line = []
            line.append(word)
        settings.append([*lines, " ".join(line)])
    return settings


@pytest.mark.parametrize("seed", range(40))
def test_balanced_lines_are_the_fewest_then_the_least_ragged_without_a_lone_last_word(seed):
    """Against every possible setting of a few random words (measured in characters)."""
    chance = random.Random(seed)
    words = ["x" * chance.randint(1, 7) for _ in range(chance.randint(2, 9))]
    width = chance.randint(7, 16)
    found = balanced_lines(" ".join(words), len, width)
    fitting = [lines for lines in _settings(words) if all(len(line) <= width for line in lines)]
    fewest = min(map(len, fitting))
    assert len(found) == fewest and all(len(line) <= width for line in found)

    def raggedness(lines: list[str]) -> int:
        return sum((width - len(line)) ** 2 for line in lines)

    def lone_last_word(lines: list[str]) -> bool:
        return len(lines) > 1 and " " not in lines[-1]

    rivals = [lines for lines in fitting if len(lines) == fewest and not lone_last_word(lines)]
    if rivals:
        assert not lone_last_word(found)
        assert raggedness(found) == min(map(raggedness, rivals))


# --- Colours ---------------------------------------------------------------------------------


def test_contrast_is_wcags_ratio():
    assert palette.contrast(palette.BLACK, palette.WHITE) == pytest.approx(21)
    assert palette.contrast((118, 118, 118), palette.WHITE) == pytest.approx(4.54, abs=0.01)


def test_every_derived_scheme_reaches_seven_to_one_and_differs_by_identifier():
    schemes = [palette.scheme(f"urn:uuid:book-{number}", None) for number in range(300)]
    assert all(palette.contrast(s.field, s.ink) >= palette.CONTRAST for s in schemes)
    # spread round the colour wheel: every twelfth of it holds some book's hue
    hues = {int(colorsys.rgb_to_hls(*(c / 255 for c in s.field))[0] * 12) for s in schemes}
    assert hues == set(range(12))
    shipped = [load_book(Project(REPO), book_id).metadata.identifier for book_id in SHIPPED_BOOKS]
    first, second = (palette.scheme(identifier, None) for identifier in shipped)
    assert first.field != second.field


@pytest.mark.parametrize("color", ["#1f3a5f", "#000000", "#ffffff", "#f4e8c1", "#06392a"])
def test_a_stated_colour_gets_an_ink_of_seven_to_one(color):
    field = palette.parse_hex(color)
    ink = palette.ink_for(field)
    assert ink is not None and palette.contrast(field, ink) >= palette.CONTRAST


def test_the_same_identifier_draws_the_same_bytes_and_another_another_colour(make_project):
    make_project.book("one")
    make_project.book("two", identifier=book_identifier("one-elsewhere"))
    first = load_book(Project(make_project.root), "one").metadata
    again = render_cover(dataclasses.replace(first))
    assert render_cover(first) == again
    other = load_book(Project(make_project.root), "two").metadata
    assert _field(render_cover(other)) != _field(again)


def _pixel(cover: bytes, where: tuple[int, int]) -> tuple[int, int, int]:
    with Image.open(io.BytesIO(cover)) as image:
        return image.convert("RGB").getpixel(where)


def _field(cover: bytes) -> tuple[int, int, int]:
    """The colour of the field, beside the top left corner (inside no frame or band)."""
    return _pixel(cover, (20, 1280))


def _near(found: tuple[int, ...], expected: tuple[int, ...]) -> bool:
    """Equal but for a JPEG's rounding."""
    return max(abs(a - b) for a, b in zip(found, expected, strict=True)) <= 4


def test_cover_color_is_the_field_and_the_ink_reads_on_it(make_project):
    make_project.book(cover_color="#1F3A5F")
    metadata = load_book(Project(make_project.root), "demo").metadata
    assert metadata.cover_color == "#1f3a5f"
    cover = load_book(Project(make_project.root), "demo").cover.data
    assert _near(_field(cover), (0x1F, 0x3A, 0x5F))
    frame = _pixel(cover, (68, 1280))  # the classic frame's outer rule, in the ink
    assert palette.contrast(frame, (0x1F, 0x3A, 0x5F)) >= palette.CONTRAST - 0.5


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("cover_color: #1f3a5f", "'cover_color' is empty: quote the colour, as in \"#1f3a5f\""),
        ("cover_color: navy", "'cover_color' must be a colour such as \"#1f3a5f\", not 'navy'"),
        ("cover_color: 0x1f3a5f", "'cover_color' must be a colour such as \"#1f3a5f\", not int"),
        (
            "cover_color: '#808080'",
            "no text colour reaches a contrast of 7:1 on 'cover_color' #808080; "
            "a darker #575757 or a lighter #979797 would",
        ),
    ],
)
def test_a_bad_cover_color_is_named_at_its_line(make_project, line, message):
    make_project.book()
    path = make_project.metadata_path()
    lines = path.read_text(encoding="utf-8").splitlines()
    path.write_text("\n".join([*lines, line, ""]), encoding="utf-8")
    with pytest.raises(BookError) as caught:
        load_book(Project(make_project.root), "demo")
    assert caught.value.lines() == [f"metadata/demo.yaml:{len(lines) + 1}: {message}"]


# --- Designs -----------------------------------------------------------------------------------


def test_every_design_has_a_cover_layout():
    assert set(LAYOUTS) == set(DESIGNS)


def test_the_designs_differ_in_frame_and_band(make_project):
    make_project.book(cover_color="#1f3a5f")
    metadata = load_book(Project(make_project.root), "demo").metadata
    classic, modern = (
        render_cover(dataclasses.replace(metadata, design=design)) for design in DESIGNS
    )
    field, ink = palette.parse_hex("#1f3a5f"), palette.ink_for(palette.parse_hex("#1f3a5f"))
    assert ink is not None
    # classic: a frame near every edge, no band; modern: no frame, a band of ink at the foot
    assert _near(_pixel(classic, (68, 1280)), ink) and _near(_pixel(classic, (800, 2540)), field)
    assert _near(_pixel(modern, (68, 1280)), field) and _near(_pixel(modern, (800, 2540)), ink)


# --- Legible at a store's thumbnail size (tesseract) ----------------------------------------

LONG = {
    "title": "The Ten Days That Shook the World and Other Writings on the Revolution in Moscow",
    "subtitle": "Essays, letters and speeches",
    "creators": ["Alexandra Mikhailovna Kollontai-Domontovich"],
    "series": {"name": "Documents of the Revolution", "position": 3},
}


def _contains(words: list[str], part: list[str]) -> bool:
    return any(words[start : start + len(part)] == part for start in range(len(words)))


@pytest.mark.parametrize("design", DESIGNS)
@pytest.mark.parametrize("book", [*SHIPPED_BOOKS, "long"])
def test_title_and_creators_read_back_at_160_pixels_wide(make_project, design, book):
    if book == "long":
        make_project.book(design=design, **LONG)
        metadata = load_book(Project(make_project.root), "demo").metadata
    else:
        metadata = dataclasses.replace(load_book(Project(REPO), book).metadata, design=design)
    read = thumbnail_words(render_cover(metadata))
    shown = [metadata.title, *metadata.creator_names]
    if metadata.series:
        shown.append(metadata.series.name)
    for text in shown:
        assert _contains(read, WORD.findall(text.casefold())), (text, read)


@pytest.mark.parametrize("book_id", SHIPPED_BOOKS)
def test_the_shipped_covers_are_the_generators_and_read_back(book_id):
    """covers/ holds what `ebook cover` draws today (up to a JPEG encoder's rounding)."""
    shipped = (REPO / "covers" / f"{book_id}.jpg").read_bytes()
    drawn = render_cover(load_book(Project(REPO), book_id).metadata)
    with Image.open(io.BytesIO(shipped)) as ours, Image.open(io.BytesIO(drawn)) as today:
        difference = ImageChops.difference(ours.convert("L"), today.convert("L"))
        assert ImageStat.Stat(difference).mean[0] < 1
    metadata = load_book(Project(REPO), book_id).metadata
    read = thumbnail_words(shipped)
    for text in (metadata.title, *metadata.creator_names):
        assert _contains(read, WORD.findall(text.casefold())), (text, read)
