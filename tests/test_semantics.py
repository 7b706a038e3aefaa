"""Semantic markup from other productions: prefixed `epub:type` values, ARIA roles, front
and back matter said by a wrapper, and note references inside headings.

Each built book is judged by EPUBCheck; the Kindle file by calibre's reader, the DOCX by
its own XML as Word reads it (python-docx's package).
"""

from __future__ import annotations

import zipfile
from pathlib import Path
from typing import Any

import docx
import pytest
from lxml import etree

from ebook_builder import api
from ebook_builder.errors import BookError
from tests.helpers import calibre_epubs

XHTML = "{http://www.w3.org/1999/xhtml}"
EPUB_TYPE = "{http://www.idpf.org/2007/ops}type"
NCX = "{http://www.daisy.org/z3986/2005/ncx/}"
OPF = "{http://www.idpf.org/2007/opf}"
W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"

PREFIXED = """# Letters

::: {epub:type=z3998:letter}
::: {epub:type=z3998:salutation}
Dear Sir,
:::

The [Pequod]{epub:type="se:name.vessel.ship"} sails at dawn.
:::

<div epub:type="z3998:poem"><p epub:type="z3998:verse">A line of verse</p></div>

[A magazine's own term]{epub:type="msv:foo"}
"""
COLOPHON = '<section epub:type="colophon">\n\n# Colophon\n\nSet in type.\n\n</section>\n'
IMPRINT = "::: {.backmatter}\nA word first.\n\n# Imprint\n\nPrinted here.\n:::\n"
DEDICATION = (
    '<section class="frontmatter" epub:type="frontmatter dedication">\n\n'
    "# To My Mother\n\n</section>\n"
)
WASTE_LAND = (
    '# The Waste Land[^1] []{.pagebreak page="5"}\n\nApril is the cruellest month.\n\n'
    "## The Burial of the Dead[^2]\n\nText.\n\n[^1]: First published 1922.\n\n[^2]: Part one.\n"
)


def read(path: Path, name: str) -> etree._Element:
    with zipfile.ZipFile(path) as archive:
        return etree.fromstring(archive.read(name))


def build(
    make_project, chapters: dict[str, str], formats: list[str], **metadata: Any
) -> dict[str, Path]:
    make_project.book("demo", chapters, **metadata)
    out = make_project.root / "out"
    paths = api.build(make_project.root, ["demo"], formats, out)
    return {path.name.split(".", 1)[1]: path for path in paths}


def test_prefixed_types_are_declared_where_they_are_used(make_project, epubcheck):
    built = build(
        make_project, {"01.md": PREFIXED, "02.md": "# Plain\n\nText.\n"}, ["epub", "kepub"]
    )
    for path in built.values():
        report = epubcheck.check(path)
        assert report.clean, report.messages
    html = read(built["epub"], "EPUB/01.xhtml")
    assert html.get("{http://www.idpf.org/2007/ops}prefix") == (
        "z3998: http://www.daisy.org/z3998/2012/vocab/structure/ "
        "se: https://standardebooks.org/vocab/1.0"
    )
    types = {e.get(EPUB_TYPE) for e in html.iter() if e.get(EPUB_TYPE)}
    assert {"z3998:letter", "z3998:salutation", "se:name.vessel.ship", "z3998:poem"} <= types
    # msv: is reserved for content documents: declaring it again is EPUBCheck's OPF-007.
    assert "msv:" not in html.get("{http://www.idpf.org/2007/ops}prefix")
    assert read(built["epub"], "EPUB/02.xhtml").get("{http://www.idpf.org/2007/ops}prefix") is None


@pytest.mark.parametrize(
    ("markdown", "line", "message"),
    [
        ("Text\n\n[x]{epub:type=xyz:abc}", 5, "epub:type 'xyz:abc' has an unknown prefix"),
        ('Text\n\n<p role="banana">x</p>', 5, "role 'banana' is not an ARIA or DPUB-ARIA role"),
        ('Text\n\n<ul role="doc-chapter"><li>x</li></ul>', 5, "not allowed on <ul>"),
        ('<p role="doc-endnote">x</p>', 3, "role 'doc-endnote' is deprecated"),
        ('<p role="none presentation">x</p>', 3, "must be a single role"),
        ("## [^1]\n\n[^1]: only a note", 3, "a level-2 heading has no text"),
    ],
)
def test_semantics_epubcheck_faults_are_refused_with_their_line(
    make_project, markdown, line, message
):
    make_project.book("demo", {"01.md": f"# One\n\n{markdown}\n"})
    with pytest.raises(BookError) as caught:
        api.check(make_project.root, ["demo"])
    lines = caught.value.lines()
    assert any(
        entry.startswith(f"book/demo/01.md:{line}: ") and message in entry for entry in lines
    ), lines


def test_an_unknown_unprefixed_type_is_a_warning_at_its_line(make_project, epubcheck, tmp_path):
    """EPUBCheck only notes it (OPF-088): a production's own term must not stop the build."""
    make_project.book("demo", {"01.md": "# One\n\nText\n\n[x]{epub:type=letter}\n"})
    warnings: list = []
    (epub,) = api.build(make_project.root, formats=["epub"], out=tmp_path, warn=warnings.append)
    assert [(str(w.path), w.line) for w in warnings] == [("book/demo/01.md", 5)]
    assert "epub:type 'letter' is not in the EPUB Structural" in warnings[0].message
    assert epubcheck.check(epub).clean


def test_matter_comes_from_the_wrappers_of_the_first_heading(make_project, epubcheck):
    chapters = {
        "00-dedication.md": DEDICATION,
        "01-story.md": "# The Story\n\nOnce.\n",
        "02-imprint.md": IMPRINT,
        "03-colophon.md": COLOPHON,
    }
    built = build(make_project, chapters, ["epub", "azw3"])
    report = epubcheck.check(built["epub"])
    assert report.clean, report.messages
    matter = {
        name: read(built["epub"], f"EPUB/{name}.xhtml").find(f"{XHTML}body").get(EPUB_TYPE)
        for name in ("00-dedication", "01-story", "02-imprint", "03-colophon")
    }
    assert matter == {
        "00-dedication": "frontmatter",
        "01-story": "bodymatter",
        "02-imprint": "backmatter",
        "03-colophon": "backmatter",
    }
    nav = read(built["epub"], "EPUB/nav.xhtml")
    (start,) = [a for a in nav.iter(f"{XHTML}a") if a.get(EPUB_TYPE) == "bodymatter"]
    assert start.get("href") == "01-story.xhtml"
    guide = read(built["epub"], "EPUB/content.opf").find(f"{OPF}guide")
    assert guide.find(f"{OPF}reference[@type='text']").get("href") == "01-story.xhtml"


@pytest.fixture
def waste_land(make_project) -> dict[str, Path]:
    # The DOCX's contents field lists sections too (`toc_depth`), to show both titles clean.
    return build(make_project, {"01.md": WASTE_LAND}, ["epub", "azw3", "docx"], toc_depth=2)


def test_note_references_stay_out_of_epub_titles(waste_land, epubcheck):
    epub = waste_land["epub"]
    report = epubcheck.check(epub)
    assert report.clean, report.messages
    chapter = read(epub, "EPUB/01.xhtml")
    assert chapter.findtext(f"{XHTML}head/{XHTML}title") == "The Waste Land"
    assert chapter.find(f".//{XHTML}section").get("id") == "the-waste-land"
    nav = read(epub, "EPUB/nav.xhtml").find(f".//{XHTML}nav[@id='toc']")
    titles = [a.text for a in nav.iter(f"{XHTML}a")]
    assert titles == ["The Waste Land", "The Burial of the Dead"]
    ncx = read(epub, "EPUB/toc.ncx")
    assert [t.text for t in ncx.iter(f"{NCX}text")][1:] == titles


def test_note_references_stay_out_of_the_kindle_toc(waste_land, tmp_path):
    back = calibre_epubs({"azw3": waste_land["azw3"]}, tmp_path)["azw3"]
    with zipfile.ZipFile(back) as archive:
        ncx_name = next(n for n in archive.namelist() if n.endswith(".ncx"))
        ncx = etree.fromstring(archive.read(ncx_name))
    labels = [t.text for t in ncx.find(f"{NCX}navMap").iter(f"{NCX}text")]
    assert labels == ["The Waste Land", "The Burial of the Dead"]


def test_note_references_stay_out_of_the_docx_contents(waste_land):
    body = docx.Document(str(waste_land["docx"])).element.body
    entries = []
    for paragraph in body.iter(f"{W}p"):
        style = paragraph.find(f"{W}pPr/{W}pStyle")
        if style is not None and style.get(f"{W}val") in {"TOC1", "TOC2"}:
            entries.append("".join(t.text or "" for t in paragraph.iter(f"{W}t")))
    assert entries == ["The Waste Land", "The Burial of the Dead"]
    # The notes themselves stay in the text, as Word footnotes.
    notes = read(waste_land["docx"], "word/footnotes.xml")
    assert "First published 1922." in "".join(notes.itertext())


@pytest.mark.parametrize(
    ("marker", "number"),
    [
        ('<span epub:type="pagebreak" title="5"></span>', "5"),
        ('<span role="doc-pagebreak" aria-label="6"></span>', "6"),
        ('<span epub:type="pagebreak" id="p7">7</span>', "7"),
        ('<span epub:type="pagebreak"></span>', None),
    ],
)
def test_page_break_markers_of_other_productions_join_the_page_list(
    make_project, epubcheck, marker, number, tmp_path
):
    """Raw markers often lack an id or an aria-label; the page list needs both, and one
    without a number stays out of it (EPUBCheck: RSC-005, RSC-012)."""
    make_project.book(
        chapters={"01.md": f"# One\n\nText {marker} more.\n\nAnd.\n"}, page_source="Print"
    )
    (epub, kepub) = api.build(make_project.root, formats=["epub", "kepub"], out=tmp_path)
    for path in (epub, kepub):
        report = epubcheck.check(path)
        assert report.clean, report.messages
    with zipfile.ZipFile(epub) as archive:
        nav = archive.read("EPUB/nav.xhtml").decode()
    assert (f">{number}</a>" in nav) if number else 'id="page-list"' not in nav
