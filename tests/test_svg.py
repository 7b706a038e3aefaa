"""SVG pictures in every format: SVG in the EPUB and KEPUB, a PNG drawn by resvg in the
Kindle files and the DOCX, each with its alt text; unsafe SVG refused by `ebook check`.

Every verdict is a real reader's: EPUBCheck, calibre and KindleUnpack, python-docx and
LibreOffice.
"""

from __future__ import annotations

import io
import shutil
import subprocess
import zipfile
from pathlib import Path

import docx
import pytest
from lxml import etree
from PIL import Image

from ebook_builder import api
from ebook_builder.checks.stores import read_epub
from ebook_builder.errors import BookError
from ebook_builder.formats import FORMATS
from ebook_builder.markup.svg import raster_png, svg_problem
from tests.helpers import ProjectMaker, calibre_epubs, libreoffice_pdfs, mobi6_half

ALL_FORMATS = ("epub", "kepub", "azw3", "mobi", "docx")
ALT = "A red circle beside the word Hi"
# 100 × 50 CSS pixels, with text (drawn with the system's fonts) and a gradient.
PICTURE = (
    '<?xml version="1.0" encoding="UTF-8"?>\n'
    '<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink"'
    ' width="100" height="50" viewBox="0 0 100 50">'
    '<defs><linearGradient id="g"><stop offset="0" stop-color="red"/>'
    '<stop offset="1" stop-color="orange"/></linearGradient></defs>'
    '<circle cx="25" cy="25" r="20" fill="url(#g)"/><use xlink:href="#t"/>'
    '<text id="t" x="55" y="32" font-size="16">Hi</text></svg>'
)
INLINE = (
    '<svg xmlns="http://www.w3.org/2000/svg" width="40" height="40" role="img"'
    ' aria-label="A black dot"><circle cx="20" cy="20" r="10"/></svg>'
)
CHAPTERS = {
    "01-one.md": f"# One\n\n![{ALT}](images/circle.svg)\n\nText.\n",
    "02-two.md": f"# Two\n\nA dot drawn in the page: {INLINE} and text after it.\n",
}
OPF = "{http://www.idpf.org/2007/opf}"


def svg_book(maker: ProjectMaker) -> Path:
    book_dir = maker.book(chapters=CHAPTERS)
    (book_dir / "images").mkdir()
    (book_dir / "images" / "circle.svg").write_text(PICTURE, encoding="utf-8")
    return maker.root


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = svg_book(ProjectMaker(tmp_path_factory.mktemp("svg") / "project"))
    out = tmp_path_factory.mktemp("svg-dist")
    api.build(root, ["demo"], list(ALL_FORMATS), out)
    return {fmt: out / f"demo{FORMATS[fmt].suffix}" for fmt in ALL_FORMATS}


@pytest.fixture(scope="module")
def calibre(built: dict[str, Path], tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """calibre's EPUB of the .azw3 and of the .mobi's MOBI 6 half, converted side by side."""
    out = tmp_path_factory.mktemp("svg-calibre")
    sources = {"azw3": built["azw3"], "mobi7": out / "demo.mobi7.mobi"}
    sources["mobi7"].write_bytes(mobi6_half(built["mobi"]))
    return calibre_epubs(sources, out)


@pytest.mark.parametrize("fmt", ["epub", "kepub"])
def test_epub_and_kepub_carry_the_svg_and_pass_epubcheck(built, epubcheck, fmt):
    report = epubcheck.check(built[fmt])
    assert report.clean, report.messages
    with zipfile.ZipFile(built[fmt]) as archive:
        opf_name = next(n for n in archive.namelist() if n.endswith(".opf"))
        opf = etree.fromstring(archive.read(opf_name))
        svg_name = next(n for n in archive.namelist() if n.endswith("circle.svg"))
        assert archive.read(svg_name).decode("utf-8") == PICTURE
        page = next(n for n in archive.namelist() if n.endswith("01-one.xhtml"))
        assert f'alt="{ALT}"' in archive.read(page).decode("utf-8")
    properties = {
        item.get("href").rsplit("/", 1)[-1]: item.get("properties", "")
        for item in opf.iter(f"{OPF}item")
    }
    assert properties["02-two.xhtml"] == "svg"  # inline SVG in the page
    assert properties["01-one.xhtml"] == ""  # an <img> of an SVG needs no property


def test_store_checks_count_the_svg_picture(built):
    (picture,) = read_epub(built["epub"]).images
    assert picture.href.endswith("circle.svg") and picture.kind == "SVG"


def test_the_raster_is_the_svg_drawn_on_white_at_kindle_density():
    data = PICTURE.encode()
    with Image.open(io.BytesIO(raster_png(data))) as png:
        assert png.format == "PNG" and png.size == (300, 150) and png.mode == "RGB"
        assert round(png.info["dpi"][0]) == 288  # three times 96: Word shows it 100 px wide
        assert png.getpixel((5, 5)) == (255, 255, 255)
        red, _, blue = png.getpixel((75, 75))  # the middle of the circle
        assert red > 200 and blue < 60


@pytest.mark.parametrize(
    ("size", "expected"),
    [
        ('width="100000" height="10"', (1072, 1)),  # never wider than a Kindle's screen
        ('width="2in" height="1in"', (576, 288)),
        ('viewBox="0 0 10 40"', (30, 120)),
        ('width="50%" viewBox="0 0 600 300"', (1072, 536)),
    ],
)
def test_raster_size(size, expected):
    data = f'<svg xmlns="http://www.w3.org/2000/svg" {size}><rect width="9" height="9"/></svg>'
    with Image.open(io.BytesIO(raster_png(data.encode()))) as png:
        assert png.size == expected


def test_a_nonsense_size_is_drawn_within_css_default_box():
    """No size to read: the box is CSS's 300 × 150 for a replaced element, times three."""
    data = b'<svg xmlns="http://www.w3.org/2000/svg" width="1e999" height="nan"><rect/></svg>'
    with Image.open(io.BytesIO(raster_png(data))) as png:
        assert png.width <= 900 and png.height <= 450


def test_kindleunpack_finds_the_png_in_both_halves(built):
    import mobi
    from loguru import logger

    logger.disable("mobi")
    expected = raster_png(PICTURE.encode())
    for fmt, halves in (("azw3", ["mobi8"]), ("mobi", ["mobi7", "mobi8"])):
        folder, _ = mobi.extract(str(built[fmt]))
        try:
            for half in halves:
                images = Path(folder) / half / ("Images" if half == "mobi7" else "OEBPS/Images")
                found = [p.read_bytes() for p in images.iterdir() if not p.name.startswith("cover")]
                assert expected in found, (fmt, half, sorted(p.name for p in images.iterdir()))
        finally:
            shutil.rmtree(folder, ignore_errors=True)


@pytest.mark.readers
@pytest.mark.parametrize("name", ["azw3", "mobi7"])
def test_calibre_reads_the_picture_with_its_alt_text(calibre, name):
    with zipfile.ZipFile(calibre[name]) as archive:
        pages = [n for n in archive.namelist() if n.endswith((".html", ".xhtml"))]
        documents = [etree.HTML(archive.read(n)) for n in pages]
        images = {n.rsplit("/", 1)[-1]: archive.read(n) for n in archive.namelist()}
    pictures = [img for page in documents for img in page.iter("img")]
    (picture,) = [img for img in pictures if img.get("alt") == ALT]
    data = images[picture.get("src").rsplit("/", 1)[-1]]
    with Image.open(io.BytesIO(data)) as png:
        assert png.size == (300, 150)


@pytest.mark.readers
@pytest.mark.parametrize("name", ["azw3", "mobi7"])
def test_calibre_reads_the_inline_svg_as_a_picture(calibre, name):
    """SVG written into the text is drawn too: MOBI 6 shows no SVG, and the Kindle files
    carry pictures as PNG."""
    with zipfile.ZipFile(calibre[name]) as archive:
        pages = [n for n in archive.namelist() if n.endswith((".html", ".xhtml"))]
        documents = [etree.HTML(archive.read(n)) for n in pages]
        images = {n.rsplit("/", 1)[-1]: archive.read(n) for n in archive.namelist()}
    (picture,) = [
        img for page in documents for img in page.iter("img") if img.get("alt") == "A black dot"
    ]
    with Image.open(io.BytesIO(images[picture.get("src").rsplit("/", 1)[-1]])) as png:
        assert png.format == "PNG" and png.size == (120, 120)
    # (calibre draws its own cover page as an SVG: the dot's circle is what must be gone)
    assert [e for page in documents for e in page.iter("circle", "{*}circle")] == []


def test_docx_draws_the_inline_svg(built):
    document = docx.Document(str(built["docx"]))
    shapes = {shape._inline.docPr.get("descr"): shape for shape in document.inline_shapes}
    picture = shapes["A black dot"]
    assert (picture.width, picture.height) == (381000, 381000)  # 40 × 40 px at 96 dpi


def test_docx_holds_the_png_with_its_alt_text(built, tmp_path):
    document = docx.Document(str(built["docx"]))
    shapes = {shape._inline.docPr.get("descr"): shape for shape in document.inline_shapes}
    picture = shapes[ALT]
    assert (picture.width, picture.height) == (952500, 476250)  # 100 × 50 px at 96 dpi
    blip = picture._inline.graphic.graphicData.pic.blipFill.blip
    part = document.part.related_parts[blip.embed]
    assert part.content_type == "image/png" and part.blob == raster_png(PICTURE.encode())
    (pdf,) = libreoffice_pdfs([built["docx"]], tmp_path)
    images = subprocess.run(["pdfimages", "-list", str(pdf)], capture_output=True, text=True)
    sizes = {tuple(line.split()[3:5]) for line in images.stdout.splitlines()[2:]}
    assert ("300", "150") in sizes


def test_rebuilds_are_byte_identical(built, tmp_path):
    """Every file, the drawn PNG included, is the same in a second build from scratch."""
    raster_png.cache_clear()
    root = svg_book(ProjectMaker(tmp_path / "project"))
    api.build(root, ["demo"], list(ALL_FORMATS), tmp_path / "dist", use_cache=False)
    for path in built.values():
        assert (tmp_path / "dist" / path.name).read_bytes() == path.read_bytes(), path.name


UNSAFE = {
    "script": ("<script>alert(1)</script>", "holds a <script> element"),
    "event handler": ('<rect onload="alert(1)" width="9" height="9"/>', "event handler"),
    "javascript link": (
        '<a xlink:href="javascript:alert(1)"><rect width="9" height="9"/></a>',
        "href='javascript:alert(1)'",
    ),
    "remote image": (
        '<image xlink:href="http://example.com/x.png" width="9" height="9"/>',
        "refers to 'http://example.com/x.png'",
    ),
    "other file": ('<image href="other.png" width="9" height="9"/>', "refers to 'other.png'"),
    "css import": ("<style>@import url(http://example.com/a.css);</style>", "@import"),
    "css url": (
        '<rect style="fill: url(http://example.com/p.svg#p)" width="9" height="9"/>',
        "url(http://example.com/p.svg#p)",
    ),
    "foreign object": (
        "<foreignObject><p xmlns='http://www.w3.org/1999/xhtml'>x</p></foreignObject>",
        "<foreignObject>",
    ),
    "animated link": (
        '<a><set attributeName="href" to="javascript:alert(1)"/></a>',
        "animates a link",
    ),
}


@pytest.mark.parametrize("markup", UNSAFE.values(), ids=UNSAFE.keys())
def test_unsafe_svg_is_refused_in_one_line(make_project, markup):
    inner, message = markup
    svg = (
        '<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink"'
        f' width="9" height="9">{inner}</svg>'
    )
    assert_refused(make_project, svg, message)


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("<svg xmlns='http://www.w3.org/2000/svg'><rect></svg>", "is not well-formed XML"),
        (
            '<?xml version="1.0"?><!DOCTYPE svg [<!ENTITY a "aaaa">]>'
            '<svg xmlns="http://www.w3.org/2000/svg"><text>&a;</text></svg>',
            "declares entities or elements in its DOCTYPE",
        ),
        ("<svg><rect/></svg>", "is not an SVG picture: its root element is <svg>"),
        ("<html xmlns='http://www.w3.org/1999/xhtml'/>", "its root element is <html>"),
    ],
    ids=["not well-formed", "entities", "no namespace", "not svg"],
)
def test_malformed_svg_is_refused_in_one_line(make_project, content, message):
    assert_refused(make_project, content, message)


def assert_refused(maker: ProjectMaker, svg: str, message: str) -> None:
    book_dir = maker.book(chapters={"01-one.md": "# One\n\n![A picture](pic.svg)\n"})
    (book_dir / "pic.svg").write_text(svg, encoding="utf-8")
    with pytest.raises(BookError) as raised:
        api.check(maker.root, ["demo"])
    (line,) = raised.value.lines()
    assert line.startswith("book/demo/01-one.md:3: image 'pic.svg': "), line
    assert message in line and "\n" not in line, line


def test_unsafe_inline_svg_is_refused(make_project):
    svg = '<svg xmlns="http://www.w3.org/2000/svg"><image href="http://example.com/x.png"/></svg>'
    make_project.book(chapters={"01-one.md": f"# One\n\nText.\n\n{svg}\n"})
    with pytest.raises(BookError) as raised:
        api.check(make_project.root, ["demo"])
    assert raised.value.lines() == [
        "book/demo/01-one.md:5: an inline <svg> refers to 'http://example.com/x.png':"
        " a picture must hold all it shows (use a data: URI)"
    ]


def test_safe_svg_features_pass():
    """Links inside the picture, gradients by id and embedded raster images are its own."""
    pixel = (
        "data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8"
        "z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg=="
    )
    svg = (
        '<svg xmlns="http://www.w3.org/2000/svg" width="9" height="9">'
        '<a href="https://example.com/"><rect fill="url(#g)" width="9" height="9"/></a>'
        f'<image href="{pixel}" width="1" height="1"/></svg>'
    )
    assert svg_problem(svg.encode()) is None


def test_a_drawing_programs_doctype_is_accepted(make_project, epubcheck, tmp_path):
    """Adobe Illustrator writes SVG 1.1's document type: no DTD is read, EPUBCheck takes it."""
    book_dir = make_project.book(chapters={"01-one.md": f"# One\n\n![{ALT}](images/x.svg)\n"})
    (book_dir / "images").mkdir()
    doctype = (
        '<!DOCTYPE svg PUBLIC "-//W3C//DTD SVG 1.1//EN"'
        ' "http://www.w3.org/Graphics/SVG/1.1/DTD/svg11.dtd">\n'
    )
    (book_dir / "images" / "x.svg").write_text(
        PICTURE.replace("<svg ", doctype + "<svg ", 1), encoding="utf-8"
    )
    epub, docx_file = api.build(make_project.root, formats=["epub", "docx"], out=tmp_path)
    assert epubcheck.check(epub).clean
    shapes = {s._inline.docPr.get("descr") for s in docx.Document(str(docx_file)).inline_shapes}
    assert ALT in shapes
