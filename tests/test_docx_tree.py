"""XHTML -> pandoc's document tree: what pandoc's own HTML reader makes, faster."""

from __future__ import annotations

import copy
import json
from typing import Any

from lxml import etree

from ebook_builder import api
from ebook_builder.formats import docx
from ebook_builder.formats.docx.tree import KEPT_ATTRIBUTES, api_version, document_tree
from ebook_builder.load import Project, load_book
from ebook_builder.markup.xhtml import XHTML_NS, parse_fragment
from ebook_builder.pandoc import convert_texts
from tests.helpers import BEYOND_THE_FIXTURE

TEXT = {"Str", "Space", "SoftBreak"}


def comparable(node: Any) -> Any:
    """A tree with runs of words joined and only the attributes the DOCX writer reads."""
    if isinstance(node, dict):
        return {key: comparable(value) for key, value in node.items()}
    if not isinstance(node, list):
        return node
    if len(node) == 3 and isinstance(node[0], str) and _is_attr(node):
        return [node[0], node[1], [pair for pair in node[2] if pair[0] in KEPT_ATTRIBUTES]]
    if any(isinstance(item, dict) and item.get("t") in TEXT for item in node):
        node = _joined(node)
    return [comparable(item) for item in node]


def _is_attr(node: list[Any]) -> bool:
    classes, pairs = node[1], node[2]
    return (
        isinstance(classes, list)
        and all(isinstance(c, str) for c in classes)
        and isinstance(pairs, list)
        and all(isinstance(p, list) and len(p) == 2 for p in pairs)
    )


def _joined(inlines: list[Any]) -> list[Any]:
    joined: list[Any] = []
    for inline in inlines:
        if inline.get("t") in TEXT:
            text = inline["c"] if inline["t"] == "Str" else " "
            if joined and joined[-1]["t"] == "Str":
                joined[-1] = {"t": "Str", "c": joined[-1]["c"] + text}
                continue
            inline = {"t": "Str", "c": text}
        joined.append(inline)
    return joined


def pandoc_reads(body, language: str) -> Any:
    """Pandoc's HTML reader on the same body (notes as the end-note list it knows)."""
    body = copy.deepcopy(body)
    notes = [a for a in body.iter(f"{{{XHTML_NS}}}aside")]
    if notes:
        section = body.makeelement(f"{{{XHTML_NS}}}section", role="doc-endnotes")
        listing = section.makeelement(f"{{{XHTML_NS}}}ol")
        section.append(listing)
        body.append(section)
        for aside in notes:
            item = listing.makeelement(f"{{{XHTML_NS}}}li", id=aside.get("id"))
            for back in list(aside.iter(f"{{{XHTML_NS}}}a")):
                if back.get("role") == "doc-backlink":  # the note's number: its text stays
                    holder = back.getparent()
                    holder.text = (holder.text or "") + (back.tail or "")
                    holder.remove(back)
            item.text = aside.text
            item.extend(list(aside))
            listing.append(item)
            aside.getparent().remove(aside)
    markup = etree.tostring(body, encoding="unicode")
    html = f'<html xmlns="{XHTML_NS}" lang="{language}">{markup}</html>'
    return json.loads(convert_texts([html], "html-auto_identifiers", "json")[0])


def test_the_fixture_book_reads_as_pandoc_reads_it(fixture_project):
    """Every construct of the feature-tour book: sections, notes, tables, figures, lists."""
    project = Project(fixture_project)
    (book_id,) = project.book_ids()
    converted = api.prepare(load_book(project, book_id))
    for body in docx.pandoc_input(converted)[1:]:
        ours = document_tree([body], "en")
        theirs = pandoc_reads(body, "en")
        assert comparable(ours["blocks"]) == comparable(theirs["blocks"])
        assert api_version() == theirs["pandoc-api-version"]


def test_markup_beyond_the_fixture_reads_as_pandoc_reads_it():
    html = BEYOND_THE_FIXTURE
    body = parse_fragment(html)
    assert comparable(document_tree([body], "en")["blocks"]) == comparable(
        pandoc_reads(body, "en")["blocks"]
    )


def test_a_note_goes_where_it_is_called_without_its_back_link():
    body = parse_fragment(
        '<p>Text<a href="#n1" epub:type="noteref" xmlns:epub="http://www.idpf.org/2007/ops">'
        "<sup>1</sup></a>.</p>"
        '<aside id="n1" epub:type="footnote" xmlns:epub="http://www.idpf.org/2007/ops">'
        '<p>The note. <a href="#r1" role="doc-backlink">↩</a></p></aside>'
    )
    (paragraph,) = document_tree([body], "en")["blocks"]
    note = {"t": "Note", "c": [{"t": "Para", "c": [{"t": "Str", "c": "The note."}]}]}
    assert paragraph["c"] == [{"t": "Str", "c": "Text"}, note, {"t": "Str", "c": "."}]


def test_images_take_the_data_they_are_given():
    body = parse_fragment('<p><img src="images/a.png" alt="An A"/></p>')
    tree = document_tree([body], "en", {"images/a.png": "data:image/png;base64,AAAA"})
    (image,) = tree["blocks"][0]["c"]
    assert image["c"][1:] == [[{"t": "Str", "c": "An A"}], ["data:image/png;base64,AAAA", ""]]


def test_the_language_is_the_documents():
    assert document_tree([], "fr-CA")["meta"]["lang"]["c"] == [{"t": "Str", "c": "fr-CA"}]


def test_whitespace_folds_as_pandoc_folds_it():
    """Tabs, line breaks and runs of spaces are one space, also where two texts meet (around
    a comment); a no-break space is text."""
    body = parse_fragment(
        "<p> one \t\n  two<!-- a comment --> three<span> &#13;\n four </span>\u00a0 five  \n</p>"
    )
    blocks = document_tree([body], "en")["blocks"]
    assert blocks[0]["c"][0] == {"t": "Str", "c": "one two three"}
    assert comparable(blocks) == comparable(pandoc_reads(body, "en")["blocks"])


def test_an_uneven_table_is_evened_out():
    """HTML lets rows be short and spans run past their part; pandoc's DOCX writer failed
    on both ("Error in array index", "Encountered unassigned table cell")."""
    body = parse_fragment(
        '<table><thead><tr><th rowspan="3">tall head</th><th>h</th></tr></thead>'
        '<tbody><tr><td colspan="3">wide</td></tr><tr><td>short</td></tr></tbody></table>'
    )
    (table,) = document_tree([body], "en")["blocks"]
    _, _, specs, (_, head), ((_, _, _, body_rows),), _ = table["c"]
    assert len(specs) == 3
    assert [[(cell[2], cell[3]) for cell in row[1]] for row in head] == [[(1, 1), (1, 1), (1, 1)]]
    assert [[(cell[2], cell[3]) for cell in row[1]] for row in body_rows] == [
        [(1, 3)],
        [(1, 1), (1, 1), (1, 1)],
    ]
