"""The EPUB writer, judged by EPUBCheck and read back with ebooklib and zipfile."""

from __future__ import annotations

import zipfile
from pathlib import Path

import pytest
from ebooklib import epub
from lxml import etree

from ebook_builder import api

OPF = "{http://www.idpf.org/2007/opf}"
DC = "{http://purl.org/dc/elements/1.1/}"
XHTML = "{http://www.w3.org/1999/xhtml}"
EPUB_TYPE = "{http://www.idpf.org/2007/ops}type"


@pytest.fixture
def tour(tour_build: dict[str, Path]) -> Path:
    return tour_build["epub"]


def read_xml(path: Path, name: str) -> etree._Element:
    with zipfile.ZipFile(path) as archive:
        return etree.fromstring(archive.read(name))


def test_epubcheck_passes_without_warnings(tour, epubcheck):
    report = epubcheck.check(tour)
    assert report.clean, report.messages


def test_container_layout(tour):
    with zipfile.ZipFile(tour) as archive:
        first = archive.infolist()[0]
        assert first.filename == "mimetype"
        assert first.compress_type == zipfile.ZIP_STORED
        assert archive.read("mimetype") == b"application/epub+zip"
        names = archive.namelist()
        assert {"EPUB/images/circle.png", "EPUB/cover.jpg", "EPUB/toc.ncx"} <= set(names)
        assert {info.date_time for info in archive.infolist()} == {(2021, 5, 4, 0, 0, 0)}


def test_cover_image_is_named_both_ways(tour):
    """EPUB 3 readers find the cover by its manifest property, EPUB 2 readers and Kindle
    conversions by `<meta name="cover">` naming the same item."""
    opf = read_xml(tour, "EPUB/content.opf")
    (cover,) = [i for i in opf.iter(f"{OPF}item") if i.get("properties") == "cover-image"]
    assert (cover.get("href"), cover.get("media-type")) == ("cover.jpg", "image/jpeg")
    (named,) = [m for m in opf.iter(f"{OPF}meta") if m.get("name") == "cover"]
    assert named.get("content") == cover.get("id")


def test_package_metadata(tour):
    opf = read_xml(tour, "EPUB/content.opf")
    metadata = opf.find(f"{OPF}metadata")
    assert [t.text for t in metadata.findall(f"{DC}title")] == [
        "A Tour of Features",
        "Every Markdown construct the pipeline supports",
    ]
    assert [c.text for c in metadata.findall(f"{DC}creator")] == ["Test Author", "Second Author"]
    assert metadata.findtext(f"{DC}language") == "en"
    assert metadata.findtext(f"{DC}date") == "2021-05-04"
    assert metadata.findtext(f"{DC}publisher") == "The Test Press"
    assert metadata.findtext(f"{DC}source") == "A Tour of Features, print edition"
    properties = {}
    for meta in metadata.findall(f"{OPF}meta"):
        properties.setdefault(meta.get("property"), []).append(meta.text)
    assert properties["dcterms:modified"] == ["2021-05-04T00:00:00Z"]
    assert properties["schema:accessMode"] == ["textual", "visual"]
    assert "alternativeText" in properties["schema:accessibilityFeature"]
    assert "pageNavigation" in properties["schema:accessibilityFeature"]
    assert properties["schema:accessibilityHazard"] == ["none"]
    assert properties["pageBreakSource"] == ["A Tour of Features, print edition"]
    assert properties["schema:accessibilitySummary"][0].startswith("A text book")


def test_round_trip_with_ebooklib(tour):
    book = epub.read_epub(str(tour))
    spine = [book.get_item_with_id(idref).file_name for idref, _ in book.spine]
    assert spine == [
        "cover.xhtml",
        "titlepage.xhtml",
        "copyright-page.xhtml",
        "nav.xhtml",
        "01-opening.xhtml",
        "02-middle.xhtml",
        "03-colophon.xhtml",
        "colophon.xhtml",  # the one made from the metadata, after the book's own
    ]
    assert book.get_metadata("DC", "identifier")[0][0] == (
        "urn:uuid:9b5a4f0e-3c3e-5d8e-8f00-0a1b2c3d4e5f"
    )


def test_navigation_document(tour):
    nav = read_xml(tour, "EPUB/nav.xhtml")
    navs = {n.get(EPUB_TYPE): n for n in nav.iter(f"{XHTML}nav")}
    toc = [
        (len(a.xpath("ancestor::x:li", namespaces={"x": XHTML[1:-1]})), a.text, a.get("href"))
        for a in navs["toc"].iter(f"{XHTML}a")
    ]
    assert toc == [
        (1, "Opening", "01-opening.xhtml"),
        (2, "Conclusion", "01-opening.xhtml#conclusion"),
        (1, "The Middle Part", "02-middle.xhtml"),
        (2, "Conclusion", "02-middle.xhtml#conclusion-2"),
        (3, "A Deeper Section", "02-middle.xhtml#own-id"),
        (1, "Contact Us", "03-colophon.xhtml"),
    ]
    landmarks = {a.get(EPUB_TYPE): a.get("href") for a in navs["landmarks"].iter(f"{XHTML}a")}
    assert landmarks == {
        "cover": "cover.xhtml",
        "titlepage": "titlepage.xhtml",
        "copyright-page": "copyright-page.xhtml",
        "toc": "nav.xhtml#toc",
        "bodymatter": "01-opening.xhtml",
        "colophon": "colophon.xhtml",
    }
    pages = [(a.text, a.get("href")) for a in navs["page-list"].iter(f"{XHTML}a")]
    assert pages == [
        ("1", "01-opening.xhtml#page-1"),
        ("2", "02-middle.xhtml#page-2"),
        ("3", "03-colophon.xhtml#page-3"),
    ]


def test_toc_depth_chooses_what_the_contents_page_shows(make_project, epubcheck):
    """The contents page lists chapters unless `toc_depth` says deeper; the reader's
    navigation keeps every section, the deeper lists `hidden` (EPUB 3.3)."""
    chapters = {"01-one.md": "# One\n\n## Part\n\n### Deep\n\nText.\n", "02-two.md": "# Two\n"}
    shown = {}
    for depth in (None, 2, 3):
        make_project.book("demo", chapters, toc_depth=depth)
        [epub] = [
            p for p in api.build(make_project.root, ["demo"], ["epub"]) if p.suffix == ".epub"
        ]
        assert epubcheck.check(epub).clean
        toc = next(n for n in read_xml(epub, "EPUB/nav.xhtml").iter(f"{XHTML}nav"))
        hidden = {
            a.text
            for ol in toc.iter(f"{XHTML}ol")
            if ol.get("hidden")
            for a in ol.iter(f"{XHTML}a")
        }
        assert [a.text for a in toc.iter(f"{XHTML}a")] == ["One", "Part", "Deep", "Two"]
        shown[depth] = [a.text for a in toc.iter(f"{XHTML}a") if a.text not in hidden]
    assert shown == {
        None: ["One", "Two"],
        2: ["One", "Part", "Two"],
        3: ["One", "Part", "Deep", "Two"],
    }


def test_ncx_lists_the_same_entries(tour):
    ncx = read_xml(tour, "EPUB/toc.ncx")
    ns = "{http://www.daisy.org/z3986/2005/ncx/}"
    labels = [p.findtext(f"{ns}navLabel/{ns}text") for p in ncx.iter(f"{ns}navPoint")]
    assert labels == [
        "Opening",
        "Conclusion",
        "The Middle Part",
        "Conclusion",
        "A Deeper Section",
        "Contact Us",
    ]
    orders = [int(p.get("playOrder")) for p in ncx.iter(f"{ns}navPoint")]
    assert orders == list(range(1, 7))


def test_cross_chapter_links_point_at_the_right_file(tour):
    chapter = read_xml(tour, "EPUB/01-opening.xhtml")
    hrefs = [a.get("href") for a in chapter.iter(f"{XHTML}a")]
    assert "02-middle.xhtml#the-middle-part" in hrefs
    assert "02-middle.xhtml" in hrefs
    assert "02-middle.xhtml#own-id" in hrefs
    assert chapter.get("{http://www.w3.org/XML/1998/namespace}lang") == "en"


def test_two_builds_are_byte_identical(fixture_project, tmp_path):
    first = api.build(fixture_project, ["feature-tour"], ["epub"], tmp_path / "a")[0]
    second = api.build(fixture_project, ["feature-tour"], ["epub"], tmp_path / "b")[0]
    assert first.read_bytes() == second.read_bytes()


def test_source_date_epoch_sets_every_timestamp(fixture_project, tmp_path, monkeypatch):
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1262304000")
    (path,) = api.build(fixture_project, ["feature-tour"], ["epub"], tmp_path)
    with zipfile.ZipFile(path) as archive:
        assert {i.date_time for i in archive.infolist()} == {(2010, 1, 1, 0, 0, 0)}
    opf = read_xml(path, "EPUB/content.opf")
    modified = opf.find(f"{OPF}metadata/{OPF}meta[@property='dcterms:modified']")
    assert modified.text == "2010-01-01T00:00:00Z"
