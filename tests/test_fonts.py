"""The book face embedded: subset by HarfBuzz, carried by the EPUB, the KEPUB and the
Kindle files, read back by fontTools, EPUBCheck, calibre and KindleUnpack."""

from __future__ import annotations

import io
import shutil
import zipfile
from pathlib import Path

import pytest
from fontTools.ttLib import TTFont
from lxml import etree

from ebook_builder import api, fonts
from ebook_builder.formats.epub import package_path
from ebook_builder.markup.xhtml import parse_fragment
from tests.helpers import SHIPPED_BOOKS, EpubCheck, ProjectMaker, run_calibre

OPF = "{http://www.idpf.org/2007/opf}"
MOST_BYTES = 150_000  # what the issue allows each embedded font
# A chapter that sets text in every style and asks for small capitals.
EVERY_STYLE = (
    "# One\n\nPlain, *italic*, **bold**, ***both***, and [Caps]{.smallcaps}.\n\n"
    "Greek αβγ, Cyrillic жизнь, and 漢字, which the face lacks.\n"
)


def _fonts_of(epub: Path) -> dict[str, tuple[str, bytes]]:
    """The book's fonts by their path in the archive: (media type, bytes)."""
    with zipfile.ZipFile(epub) as archive:
        opf_path = package_path(archive)
        base = opf_path.rpartition("/")[0]
        opf = etree.fromstring(archive.read(opf_path))
        return {
            f"{base}/{item.get('href')}": (
                item.get("media-type"),
                archive.read(f"{base}/{item.get('href')}"),
            )
            for item in opf.iter(f"{OPF}item")
            if item.get("href", "").endswith(".ttf")
        }


def _shown_characters(epub: Path) -> set[str]:
    """Every character of the text of every XHTML document of the EPUB."""
    shown: set[str] = set()
    with zipfile.ZipFile(epub) as archive:
        for name in archive.namelist():
            if name.endswith(".xhtml"):
                body = etree.fromstring(archive.read(name)).find(
                    "{http://www.w3.org/1999/xhtml}body"
                )
                for text in body.itertext():
                    shown.update(text)
    return shown


def _cmap(data: bytes) -> set[str]:
    return {chr(code) for code in TTFont(io.BytesIO(data)).getBestCmap()}


def _build(
    make_project: ProjectMaker, text: str, fmts: list[str], design: str | None = None
) -> dict[str, Path]:
    make_project.book(chapters={"01-one.md": text}, design=design)
    root = make_project.root
    built = api.build(root, ["demo"], fmts, root / "dist")
    return {path.name.split(".", 1)[1]: path for path in built}


@pytest.mark.parametrize("book_id", SHIPPED_BOOKS)
def test_the_subsets_hold_every_character_the_book_shows_that_the_face_has(
    shipped_build: dict[str, Path], book_id: str
) -> None:
    embedded = _fonts_of(shipped_build[book_id])
    assert embedded
    shown = _shown_characters(shipped_build[book_id]) - {"\n", "\t", "\r"}
    for path, (media_type, data) in embedded.items():
        style = next(s for s, name in fonts.FACE_FILES.items() if path.endswith(f"/{name}"))
        face = _cmap(fonts.face_file(style).read_bytes())
        subset = _cmap(data)
        assert media_type == "font/ttf"
        assert shown & face <= subset, f"{path} lacks {sorted(shown & face - subset)}"
        assert len(subset) < len(face) / 2, "a subset, not the whole face"
        assert len(data) < MOST_BYTES, f"{path}: {len(data)} bytes"


def test_only_the_styles_the_text_is_set_in_are_embedded(make_project: ProjectMaker) -> None:
    def embedded(text: str, design: str) -> list[str]:
        epub = _build(make_project, text, ["epub"], design)["epub"]
        return sorted(Path(path).name for path in _fonts_of(epub))

    # The classic design sets headings in normal weight, the modern one in bold; both set
    # some of the pages made from the metadata in italic.
    plain = "# One\n\nPlain text.\n"
    assert embedded(plain, "classic") == ["SourceSerifPro-It.ttf", "SourceSerifPro-Regular.ttf"]
    assert "SourceSerifPro-Bold.ttf" in embedded(plain, "modern")
    assert "SourceSerifPro-BoldIt.ttf" not in embedded(plain, "modern")
    assert embedded(EVERY_STYLE, "classic") == sorted(fonts.FACE_FILES.values())


def test_a_rule_that_sets_headings_in_normal_weight_leaves_bold_out() -> None:
    body = parse_fragment("<h1>Title</h1><p>Text <em>and</em> more.</p>")
    assert fonts.face_use("", [body]).styles == ("regular", "italic", "bold")
    css = "h1, h2 { font-weight: normal }\nem { font-style: normal }"
    assert fonts.face_use(css, [body]).styles == ("regular",)
    css = "h1 { font-weight: 400 }\n.epigraph { font-style: italic }\np::first-line { x: y }"
    assert fonts.face_use(css, [body]).styles == ("regular", "italic")
    epigraph = parse_fragment('<div class="epigraph"><p>Said.</p></div>')
    assert fonts.face_use(css, [epigraph]).styles == ("regular", "italic")


def test_small_capitals_keep_their_glyphs_only_where_the_book_asks_for_them(
    make_project: ProjectMaker,
) -> None:
    caps = _fonts_of(_build(make_project, EVERY_STYLE, ["epub"])["epub"])
    regular = next(data for path, (_, data) in caps.items() if path.endswith("Regular.ttf"))
    features = {
        r.FeatureTag for r in TTFont(io.BytesIO(regular))["GSUB"].table.FeatureList.FeatureRecord
    }
    assert {"smcp", "liga"} <= features
    kerning = TTFont(io.BytesIO(regular))["GPOS"].table.FeatureList.FeatureRecord
    assert "kern" in {r.FeatureTag for r in kerning}
    # The modern design sets no chapter opening in small capitals, as the classic one does.
    no_caps = _build(make_project, "# One\n\nNo capitals here.\n", ["epub"], "modern")
    plain = _fonts_of(no_caps["epub"])
    regular = next(data for path, (_, data) in plain.items() if path.endswith("Regular.ttf"))
    features = {
        r.FeatureTag for r in TTFont(io.BytesIO(regular))["GSUB"].table.FeatureList.FeatureRecord
    }
    assert "smcp" not in features


def test_a_character_the_face_lacks_is_left_to_the_reader(
    make_project: ProjectMaker, epubcheck: EpubCheck
) -> None:
    epub = _build(make_project, EVERY_STYLE, ["epub"])["epub"]
    for path, (_, data) in _fonts_of(epub).items():
        cmap = _cmap(data)
        style = next(s for s, name in fonts.FACE_FILES.items() if path.endswith(f"/{name}"))
        face = _cmap(fonts.face_file(style).read_bytes())
        # The roman styles have Greek and Cyrillic, the italics do not.
        assert {"α", "ж"} & face <= cmap
        assert ("α" in cmap) == (style in {"regular", "bold"})
        assert "漢" not in cmap
    report = epubcheck.check(epub)
    assert report.clean, report.messages


def test_the_epub_and_kepub_carry_fonts_licence_and_apple_display_options(
    make_project: ProjectMaker, epubcheck: EpubCheck
) -> None:
    built = _build(make_project, EVERY_STYLE, ["epub", "kepub"])
    for name in ("epub", "kepub.epub"):
        with zipfile.ZipFile(built[name]) as archive:
            options = etree.fromstring(
                archive.read("META-INF/com.apple.ibooks.display-options.xml")
            )
            assert options.xpath("string(platform[@name='*']/option[@name='specified-fonts'])") == (
                "true"
            )
            opf_path = package_path(archive)
            opf = etree.fromstring(archive.read(opf_path))
            base = opf_path.rpartition("/")[0]
            licence = next(i for i in opf.iter(f"{OPF}item") if i.get("id") == "font-licence")
            assert licence.get("media-type") == "text/plain"
            text = archive.read(f"{base}/{licence.get('href')}")
            assert text == fonts.licence_text()
            assert b"SIL OPEN FONT LICENSE Version 1.1" in text
            css = archive.read(f"{base}/style/book.css").decode()
        for path, (_, data) in _fonts_of(built[name]).items():
            assert f"url(../fonts/{Path(path).name})" in css
            names = TTFont(io.BytesIO(data))["name"]
            assert "Adobe" in str(names.getDebugName(0))  # copyright
            assert "Open Font License" in str(names.getDebugName(13))  # licence
        assert css.count("@font-face") == len(fonts.FACE_FILES)
        assert f'font-family: "{fonts.FACE_NAME}"' in css
        report = epubcheck.check(built[name])
        assert report.clean, report.messages


def test_the_subset_keeps_what_the_licence_and_the_reader_need_and_is_the_same_twice() -> None:
    """HarfBuzz's subset: the characters asked for and no others, the name table whole
    (the OFL's copyright and licence), small caps only when asked, the same bytes twice."""
    plain = fonts.subset("regular", "Ab", ())
    small_caps = fonts.subset("regular", "Ab", ("smcp",))
    assert plain == fonts.subset("regular", "Ab", ())
    font = TTFont(io.BytesIO(plain))
    assert set(font.getBestCmap()) == {ord("A"), ord("b")}
    assert "Open Font License" in str(font["name"].getDebugName(13))
    assert "Adobe" in str(font["name"].getDebugName(0))
    assert (
        TTFont(io.BytesIO(plain))["head"].created
        == TTFont(fonts.face_file("regular"))["head"].created
    )

    def features(data: bytes) -> set[str]:
        table = TTFont(io.BytesIO(data))["GSUB"].table
        return {record.FeatureTag for record in table.FeatureList.FeatureRecord}

    assert "smcp" in features(small_caps) and "smcp" not in features(plain)


def test_calibre_and_kindleunpack_read_the_kindle_fonts_back(
    make_project: ProjectMaker, tmp_path: Path
) -> None:
    built = _build(make_project, EVERY_STYLE, ["epub", "azw3", "mobi"])
    ours = sorted(data for _, data in _fonts_of(built["epub"]).values())
    epubs = {fmt: tmp_path / f"calibre-{fmt}.epub" for fmt in ("azw3", "mobi")}
    run_calibre(
        {fmt: ["ebook-convert", str(built[fmt]), str(epub)] for fmt, epub in epubs.items()},
        tmp_path / "calibre",
    )
    for epub in epubs.values():
        with zipfile.ZipFile(epub) as archive:
            read = sorted(archive.read(n) for n in archive.namelist() if n.endswith(".ttf"))
            css = "".join(
                archive.read(n).decode() for n in archive.namelist() if n.endswith(".css")
            )
        assert read == ours
        assert css.count("@font-face") == len(ours)
        assert css.count("url(fonts/") == len(ours)

    import mobi
    from loguru import logger

    logger.disable("mobi")
    for fmt in ("azw3", "mobi"):
        folder, _ = mobi.extract(str(built[fmt]))
        try:
            unpacked = Path(folder) / "mobi8" / "OEBPS"
            read = sorted(p.read_bytes() for p in (unpacked / "Fonts").glob("*.ttf"))
            assert read == ours
            css = "".join(p.read_text() for p in (unpacked / "Styles").glob("*.css"))
            assert css.count("../Fonts/") == len(ours)
        finally:
            shutil.rmtree(folder, ignore_errors=True)
