"""The Kobo EPUB: the EPUB plus Kobo's markup, judged by EPUBCheck and compared with the EPUB."""

from __future__ import annotations

import re
import zipfile
from pathlib import Path

import pytest
from lxml import etree
from typer.testing import CliRunner

from ebook_builder import api
from ebook_builder.cli import app
from ebook_builder.errors import BookError
from ebook_builder.formats import FORMATS
from ebook_builder.formats.kepub import kobo_document, split_sentences
from tests.helpers import SHIPPED_BOOKS

XHTML = "{http://www.w3.org/1999/xhtml}"
OPF = "{http://www.idpf.org/2007/opf}"
EPUB_TYPE = "{http://www.idpf.org/2007/ops}type"
KOBO_ID = re.compile(r"kobo\.([1-9][0-9]*)\.([1-9][0-9]*)")
WRAPPERS = ("book-columns", "book-inner")


@pytest.fixture
def kepubs(shipped: dict[str, dict[str, Path]]) -> dict[str, Path]:
    """The shipped books as `.kepub.epub`, by book id."""
    return shipped["kepub"]


@pytest.fixture
def tour(tour_build: dict[str, Path]) -> tuple[Path, Path]:
    """The feature tour (notes, images, tables, page list) as `.epub` and `.kepub.epub`."""
    return tour_build["epub"], tour_build["kepub"]


def documents(path: Path) -> dict[str, etree._Element]:
    """Every XHTML document in the archive, by name."""
    with zipfile.ZipFile(path) as archive:
        return {
            name: etree.fromstring(archive.read(name))
            for name in archive.namelist()
            if name.endswith(".xhtml")
        }


def kobo_spans(html: etree._Element) -> list[etree._Element]:
    return [s for s in html.iter(f"{XHTML}span") if s.get("class") == "koboSpan"]


def without_kobo_markup(html: etree._Element) -> etree._Element:
    """The document with Kobo's style, wrapper divs and spans taken out again."""
    for style in html.iter(f"{XHTML}style"):
        if style.get("id") == "kobostylehacks":
            style.getparent().remove(style)
    for element in list(html.iter(f"{XHTML}div", f"{XHTML}span")):
        if element.get("id") in WRAPPERS or element.get("class") == "koboSpan":
            element.tag = "unwrap"
    etree.strip_tags(html, "unwrap")
    return html


@pytest.mark.parametrize("book_id", SHIPPED_BOOKS)
def test_epubcheck_reports_nothing(kepubs, book_id, epubcheck):
    report = epubcheck.check(kepubs[book_id])
    assert (report.fatal, report.errors, report.warnings) == (0, 0, 0), report.messages


def test_epubcheck_passes_the_feature_tour(tour, epubcheck):
    report = epubcheck.check(tour[1])
    assert report.clean, report.messages


@pytest.mark.parametrize("book_id", SHIPPED_BOOKS)
def test_the_text_is_the_epubs(shipped_build, kepubs, book_id):
    plain = documents(shipped_build[book_id])
    kobo = documents(kepubs[book_id])
    assert kobo.keys() == plain.keys()
    for name, html in plain.items():
        text = "".join(html.find(f"{XHTML}body").itertext())
        assert "".join(kobo[name].find(f"{XHTML}body").itertext()) == text, name


def test_kobo_markup_is_the_only_change(shipped_build, kepubs, tour):
    """Links, ids, notes and page breaks are the EPUB's: only Kobo's markup is added."""
    for plain_path, kobo_path in [*((shipped_build[b], kepubs[b]) for b in SHIPPED_BOOKS), tour]:
        plain = documents(plain_path)
        for name, html in documents(kobo_path).items():
            assert etree.tostring(without_kobo_markup(html)) == etree.tostring(plain[name]), name


def text_outside_spans(body: etree._Element) -> list[str]:
    """Text that is not blank and not inside a Kobo span."""
    found = []
    for element in body.iter():
        for holder, text in ((element, element.text), (element.getparent(), element.tail)):
            in_span = any(a.get("class") == "koboSpan" for a in [holder, *holder.iterancestors()])
            if text and text.strip() and not in_span:
                found.append(text)
    return found


@pytest.mark.parametrize("book_id", SHIPPED_BOOKS)
def test_every_sentence_is_in_a_kobo_span(kepubs, book_id):
    for name, html in documents(kepubs[book_id]).items():
        spans = kobo_spans(html)
        if name.endswith("nav.xhtml"):
            assert spans == [], "the navigation document is left as it is"
            continue
        assert spans, name
        numbers = [tuple(map(int, KOBO_ID.fullmatch(s.get("id")).groups())) for s in spans]
        for (block, sentence), previous in zip(numbers, [(0, 0), *numbers], strict=False):
            # kobo.P.S: P grows from block to block; S counts 1, 2, 3… within P.
            assert block >= previous[0], name
            assert sentence == (previous[1] + 1 if block == previous[0] else 1), name
        ids = [e.get("id") for e in html.iter() if e.get("id")]
        assert len(ids) == len(set(ids)), name
        assert text_outside_spans(html.find(f"{XHTML}body")) == [], name


def test_wrappers_style_and_cover(kepubs):
    for book_id in SHIPPED_BOOKS:
        for name, html in documents(kepubs[book_id]).items():
            body = html.find(f"{XHTML}body")
            style = html.find(f"{XHTML}head")[-1]
            if name.endswith("nav.xhtml"):
                assert style.tag != f"{XHTML}style"
                continue
            assert (style.tag, style.get("id")) == (f"{XHTML}style", "kobostylehacks")
            assert "div#book-inner" in style.text
            (columns,) = body
            (inner,) = columns
            assert (columns.get("id"), inner.get("id")) == WRAPPERS
            assert not (body.text or "").strip() and not (columns.text or "").strip()
        with zipfile.ZipFile(kepubs[book_id]) as archive:
            opf = etree.fromstring(archive.read("EPUB/content.opf"))
            cover = archive.read("EPUB/cover.xhtml")
        (image,) = [i for i in opf.iter(f"{OPF}item") if i.get("properties") == "cover-image"]
        assert image.get("href") == "cover.jpg"
        meta = [m for m in opf.iter(f"{OPF}meta") if m.get("name") == "cover"]
        assert [m.get("content") for m in meta] == [image.get("id")]
        first = opf.find(f"{OPF}spine")[0].get("idref")
        assert opf.find(f"{OPF}manifest/{OPF}item[@id='{first}']").get("href") == "cover.xhtml"
        assert b'<span class="koboSpan" id="kobo.1.1"><img src="cover.jpg"' in cover


def test_notes_still_link_both_ways(tour):
    """Kobo pops up a note that a link points to later in the file, 9 to 5,000 characters."""
    _, kepub = tour
    html = documents(kepub)["EPUB/01-opening.xhtml"]
    order = {e: n for n, e in enumerate(html.iter())}
    ids = {e.get("id"): e for e in html.iter() if e.get("id")}
    refs = [a for a in html.iter(f"{XHTML}a") if a.get(EPUB_TYPE) == "noteref"]
    assert len(refs) == 2
    for ref in refs:
        note = ids[ref.get("href").removeprefix("#")]
        assert (note.tag, note.get(EPUB_TYPE)) == (f"{XHTML}aside", "footnote")
        assert order[note] > order[ref]
        assert 9 <= len("".join(note.itertext()).strip()) <= 5000
        (back,) = [a for a in note.iter(f"{XHTML}a") if a.get("class") == "footnote-back"]
        assert ids[back.get("href").removeprefix("#")] is ref


def test_zip_is_the_epubs_and_rebuilds_are_identical(tour, fixture_project, tmp_path):
    epub, kepub = tour
    with zipfile.ZipFile(epub) as plain, zipfile.ZipFile(kepub) as kobo:
        layout = [(i.filename, i.date_time, i.compress_type) for i in kobo.infolist()]
        assert layout == [(i.filename, i.date_time, i.compress_type) for i in plain.infolist()]
        assert layout[0] == ("mimetype", (2021, 5, 4, 0, 0, 0), zipfile.ZIP_STORED)
    (again,) = api.build(fixture_project, ["feature-tour"], ["kepub"], tmp_path, use_cache=False)
    assert again.read_bytes() == kepub.read_bytes()


def page(body: str) -> bytes:
    return (
        '<html xmlns="http://www.w3.org/1999/xhtml"><head><title>t</title></head>'
        f"<body>{body}</body></html>"
    ).encode()


def inner(document: bytes) -> str:
    """What `kobo_document` put inside `div#book-inner`, spans written short."""
    text = document.decode().split('<div id="book-inner">', 1)[1].rsplit("</div></div>", 1)[0]
    return re.sub(r'<span class="koboSpan" id="kobo\.(\d+\.\d+)">', r"<\1>", text)


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ("<p>One. Two? Three</p>", "<p><1.1>One. </span><1.2>Two? </span><1.3>Three</span></p>"),
        ("<h1>T</h1><p>a</p>", "<h1><1.1>T</span></h1><p><2.1>a</span></p>"),
        ("<p>a <em>b</em> <em>c</em></p>", "<p><1.1>a </span><em><1.2>b</span></em><1.3> </span>"
         "<em><1.4>c</span></em></p>"),
        ("<section>\n<p>a</p>\n</section>", "<section>\n<p><1.1>a</span></p>\n</section>"),
        ("<ul><li>a</li><li>b</li></ul>", "<ul><li><1.1>a</span></li><li><1.2>b</span></li></ul>"),
        ('<p>a</p><img src="i.png" alt="i"/><p>b</p>',
         '<p><1.1>a</span></p><2.1><img src="i.png" alt="i"/></span><p><3.1>b</span></p>'),
        ("<pre>x. y</pre><p>z</p>", "<pre>x. y</pre><p><1.1>z</span></p>"),
        ('<p><svg xmlns="http://www.w3.org/2000/svg"><text>s</text></svg></p>',
         '<p><svg xmlns="http://www.w3.org/2000/svg"><text>s</text></svg></p>'),
        ("<blockquote>q<p>r</p></blockquote>",
         "<blockquote><1.1>q</span><p><2.1>r</span></p></blockquote>"),
        ('<p>In <time>1895</time> and <time datetime="1896">next year</time></p>',
         '<p><1.1>In </span><time>1895</time><1.2> and </span>'
         '<time datetime="1896"><1.3>next year</span></time></p>'),
    ],
    ids=["sentences", "blocks", "inline", "layout whitespace", "list", "image", "pre", "svg",
         "text before a block", "time"],
)  # fmt: skip
def test_kobo_document(body, expected):
    assert inner(kobo_document(page(body))) == expected


@pytest.mark.parametrize(
    ("text", "sentences"),
    [
        ("One. Two", ["One. ", "Two"]),
        ("Why?! Because.", ["Why?! ", "Because."]),
        ("“Go.” Then", ["“Go.” ", "Then"]),
        ("3.14 and St. Petersburg", ["3.14 and St. ", "Petersburg"]),
        ("ends. ", ["ends. "]),
        ("  ", ["  "]),
        ("a\u00a0b. c", ["a\u00a0b. ", "c"]),
    ],
)
def test_split_sentences(text, sentences):
    assert split_sentences(text) == sentences


def test_an_id_kobo_uses_is_refused(make_project):
    make_project.book(chapters={"01-one.md": "# One\n\n## Book Inner\n\nText.\n"})
    with pytest.raises(BookError) as caught:
        api.build(make_project.root, formats=["kepub"])
    assert caught.value.lines() == [
        "book/demo/01-one.md: id 'book-inner' is used by Kobo's markup in the .kepub.epub:"
        " choose another"
    ]
    assert not (make_project.root / "dist" / "demo.kepub.epub").exists()


def test_cli_builds_a_kepub(make_project):
    make_project.book()
    runner = CliRunner()
    args = ["build", "-f", "kepub", "--project", str(make_project.root)]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    dist = make_project.root / "dist"
    assert result.stdout.splitlines() == [f"wrote {dist / 'demo.kepub.epub'}"]
    assert [p.name for p in dist.iterdir()] == ["demo.kepub.epub"]  # no temporary file left
    assert (make_project.root / ".cache" / "outputs" / "demo.kepub.stamp").is_file()
    built = (dist / "demo.kepub.epub").stat().st_mtime_ns
    assert runner.invoke(app, args).exit_code == 0
    assert (dist / "demo.kepub.epub").stat().st_mtime_ns == built  # unchanged: kept
    assert FORMATS["kepub"] in api.parse_formats(None)  # `ebook build` makes it too
