"""Chapters converted in pieces: pandoc makes of the pieces, joined, what it makes of the
whole; an edit changes the pieces around it only."""

from __future__ import annotations

import random
from pathlib import Path

import pytest
from lxml import etree

from ebook_builder import api, chunking
from ebook_builder.chunking import join_sections, split_markdown
from ebook_builder.convert import close_void_elements, markdown_to_html
from ebook_builder.xhtml import parse_fragment
from tests.helpers import REPO

SHIPPED_CHAPTERS = sorted((REPO / "book").glob("*/*.md"))
WORDS = ["alpha", "beta", "*gamma*", "**delta**", "_eps_", "`code`", "“quoted”", "'q'", "--"]


def paragraph(rng: random.Random, words: int = 60) -> str:
    return " ".join(rng.choice(WORDS) for _ in range(words)).capitalize() + "."


def long_chapter(seed: int = 1, paragraphs: int = 80) -> str:
    rng = random.Random(seed)
    blocks = ["# Title"]
    for number in range(paragraphs):
        if number % 15 == 7:
            blocks.append(f"## Part {number}")
        blocks.append(paragraph(rng))
    return "\n\n".join(blocks) + "\n"


def html_of(htmls: list[str]) -> bytes:
    """The joined body of pandoc's HTML pieces, as the convert stage parses them."""
    return etree.tostring(join_sections([parse_fragment(close_void_elements(h)) for h in htmls]))


def test_a_short_chapter_is_one_piece():
    text = "# Short\n\nOne paragraph.\n"
    assert split_markdown(text) == [text]


def test_a_long_chapter_is_cut_into_pieces_that_add_up_to_it():
    text = long_chapter()
    pieces = split_markdown(text)
    assert len(pieces) > 2
    assert "".join(pieces) == text
    assert all(len(piece) < chunking.PIECE_MAXIMUM + 1000 for piece in pieces)


@pytest.mark.parametrize(
    "construct",
    [
        "Noted.[^1]\n\n[^1]: The note.",
        "Inline^[a note].",
        "(@) An example.",
        "[ref]: https://example.org",
        "<div>\n\nRaw.\n\n</div>",
        "\\begin{quote}\n\nTeX.\n\n\\end{quote}",
        "\\newcommand{\\x}{y}",
        "| a | b |\n|---|---|\n| 1 | 2 |",
        "a | b\n--|--\n1 | 2",
        "---",
        "* * *",
        "Setext\n======",
        "Term\n\n:   Definition",
        "```python\nprint()\n```",
        "::: note\n# A heading in a div\n:::",
    ],
)
def test_a_chapter_with_something_that_spans_blocks_is_not_cut(construct):
    text = long_chapter() + "\n" + construct + "\n\n" + long_chapter(2)
    assert split_markdown(text) == [text]


def test_a_piece_never_starts_inside_a_construct():
    rng = random.Random(3)
    blocks = []
    for number in range(120):
        blocks.append(
            [
                paragraph(rng),
                "- item\n\n  more of the item",
                "> quoted\n\n> still quoted",
                "1. one\n\n2. two",
                "    indented code\n\n    more code",
                "```\nplain code\n\n" + paragraph(rng) + "\n```",
                "::: epigraph\n" + paragraph(rng) + "\n\n" + paragraph(rng) + "\n:::",
            ][number % 7]
        )
    pieces = split_markdown("\n\n".join(blocks) + "\n")
    assert len(pieces) > 2
    for piece in pieces[1:]:
        assert piece[0].isalnum() or piece[0] in "#*_[(“'\"", piece[:40]
        assert not piece.startswith(("- ", "1. ", "2. ")), piece[:40]
    assert all(piece.count("```") % 2 == 0 and piece.count(":::") % 2 == 0 for piece in pieces)


def test_an_edit_changes_only_the_pieces_around_it():
    text = long_chapter()
    paragraphs = text.split("\n\n")
    paragraphs[40] += " An added sentence."
    before, after = split_markdown(text), split_markdown("\n\n".join(paragraphs))
    assert len(set(after) - set(before)) <= 2
    assert len(set(after) & set(before)) >= len(before) - 2


def test_join_nests_each_section_in_the_last_one_of_a_lower_level():
    first = parse_fragment('<section class="level1"><h1>A</h1><p>a</p></section>')
    second = parse_fragment(
        '<p>more of a</p><section class="level2"><h2>B</h2></section>'
        '<section class="level1"><h1>C</h1></section>'
    )
    body = join_sections([first, second])
    section_a, section_c = body.findall("{*}section")
    assert [e.tag.split("}")[1] for e in section_a] == ["h1", "p", "p", "section"]
    assert section_c.findtext("{*}h1") == "C"


def test_pieces_of_the_shipped_chapters_convert_to_the_whole():
    texts = [path.read_text(encoding="utf-8") for path in SHIPPED_CHAPTERS]
    pieces = [split_markdown(text) for text in texts]
    assert sum(len(p) > 1 for p in pieces) >= 5
    converted = iter(markdown_to_html(texts + [piece for p in pieces for piece in p]))
    wholes = [next(converted) for _ in texts]
    for path, whole, chapter in zip(SHIPPED_CHAPTERS, wholes, pieces, strict=True):
        joined = [next(converted) for _ in chapter]
        assert html_of(joined) == html_of([whole]), path.name


def random_document(rng: random.Random, depth: int = 0) -> str:
    """Markdown mixing what may be cut around with what must stay whole."""

    def block() -> str:
        kind = rng.randrange(14)
        if kind < 3:
            start = rng.choice(["", "", "1917. ", "A. ", "(a) ", "* ", "**Bold** ", "# ", "— "])
            return start + paragraph(rng, rng.randint(1, 12))
        if kind < 5:
            level = "#" * rng.randint(1, 6)
            attributes = rng.choice(["", " {#sec .cls}", " {-}"])
            return f"{level} {paragraph(rng, 3)}{attributes}\n\n{paragraph(rng, 5)}"
        if kind == 5:
            return "- one\n- two\n\n  more of two"
        if kind == 6:
            return "> quoted\n>\n> still quoted\nlazily"
        if kind == 7:
            return "```\ncode\n\n" + paragraph(rng, 3) + "\n```"
        if kind == 8 and depth < 2:
            inner = "\n\n".join(random_document(rng, depth + 1) for _ in range(2))
            return f"::: {rng.choice(['epigraph', '{.note}'])}\n{inner}\n:::"
        if kind == 9:
            return "    indented\n\n    code"
        if kind == 10:
            return rng.choice(["1. one\n\n2. two", "#hashtag", "\\*escaped", "   indented"])
        if kind == 11:
            return paragraph(rng, 4) + "  \n" + paragraph(rng, 3)
        if kind == 12:
            return '[]{.pagebreak page="3"} ' + paragraph(rng, 5)
        return rng.choice(["~~~ {.python}\nx\n~~~", "Term\n\n:   Definition", "---", "Text[^1]"])

    return "\n\n".join(block() for _ in range(rng.randint(2, 14))) + "\n"


def test_pieces_convert_to_the_whole_wherever_a_cut_is_allowed(monkeypatch):
    """A differential test against pandoc: cut at every place that may be cut."""
    monkeypatch.setattr(chunking, "SPLIT_ABOVE", 0)
    monkeypatch.setattr(chunking, "PIECE_MINIMUM", 0)
    monkeypatch.setattr(chunking, "CUT_ONE_IN", 1)
    rng = random.Random(5)
    documents = [random_document(rng) for _ in range(300)]
    pieces = [split_markdown(document) for document in documents]
    assert sum(len(p) > 1 for p in pieces) > 80
    converted = iter(markdown_to_html(documents + [piece for p in pieces for piece in p]))
    wholes = [next(converted) for _ in documents]
    for document, whole, chapter in zip(documents, wholes, pieces, strict=True):
        joined = [next(converted) for _ in chapter]
        try:
            expected = html_of([whole])
        except etree.XMLSyntaxError:
            continue  # not XHTML either way: the convert stage reports it
        assert html_of(joined) == expected, document


def test_an_edited_paragraph_is_the_only_piece_pandoc_converts_again(
    make_project, tmp_path: Path, counted: list[str]
):
    text = long_chapter()
    make_project.book(chapters={"long.md": text})
    api.build(make_project.root, formats=["epub"], out=tmp_path / "out")
    pieces = len(split_markdown(text))
    assert len(counted) == pieces > 2
    counted.clear()
    edited = text.replace("## Part 52", "## Part Fifty-Two")
    (make_project.root / "book" / "demo" / "long.md").write_text(edited, encoding="utf-8")
    api.build(make_project.root, formats=["epub"], out=tmp_path / "out")
    assert 1 <= len(counted) <= 2
    assert len(set(split_markdown(edited)) - set(split_markdown(text))) == len(counted)
