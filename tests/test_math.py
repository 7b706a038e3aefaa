"""Math and raw TeX: MathML in the EPUB and KEPUB, Word equations in the DOCX, pictures in
the Kindle files, and a `warning:` line for each raw passage no format can show.

Judged by EPUBCheck, python-docx and LibreOffice, calibre and KindleUnpack.
"""

from __future__ import annotations

import subprocess
import zipfile
from pathlib import Path

import docx
import pytest
from lxml import etree
from typer.testing import CliRunner

from ebook_builder import api, pandoc
from ebook_builder.cli import app
from ebook_builder.convert import convert_chapter
from ebook_builder.markup import mathml
from ebook_builder.markup.xhtml import tag, text_of
from ebook_builder.model import ChapterSource
from tests.helpers import ProjectMaker, calibre_epubs, libreoffice_pdfs

MATH = mathml.MATH
CHAPTER = r"""# Energy $E=mc^2$

Inline $x^2$ and a sum $\sum_{i=0}^n i^2$ in prose.

$$\int_0^1 f(x)\,dx$$

\begin{equation}
a = b
\end{equation}
"""
RAW = r"""# Raw

Before.

\newpage

- \newpage
- kept

```{=latex}
\vspace{2cm}
```

Text \textbf{lost} here. Bad $x^$ math.
"""


def chapter(text: str):
    return convert_chapter(ChapterSource("a.md", Path("a.md"), Path("book/a.md"), text))


def test_the_server_is_asked_for_mathml():
    """The server ignores `"mathml": true`: the option is its `html-math-method`."""
    assert pandoc.server_options(["--mathml"]) == {"html-math-method": {"method": "mathml"}}


def test_formulas_are_mathml_with_their_tex_as_alttext():
    body = chapter(CHAPTER).body
    formulas = list(body.iter(MATH))
    assert [m.get("alttext") for m in formulas] == [
        "E=mc^2",
        "x^2",
        r"\sum_{i=0}^n i^2",
        r"\int_0^1 f(x)\,dx",
        "\\begin{equation}\na = b\n\\end{equation}",
    ]
    assert [m.get("display") for m in formulas] == ["inline"] * 3 + ["block"] * 2
    assert not list(body.iter(tag("span")))  # no plain-text fallback


def test_a_formula_in_a_heading_reads_as_its_tex():
    converted = chapter(CHAPTER)
    assert converted.title == "Energy E=mc^2"
    assert text_of(next(converted.body.iter(tag("h1")))) == "Energy E=mc^2"


def test_raw_tex_is_reported_at_its_own_line_and_leaves_no_empty_item():
    converted = chapter(RAW)
    lines = [(w.line, w.message.split(" is ")[0]) for w in converted.warnings]
    assert lines == [
        (5, r"raw TeX `\newpage`"),
        (7, r"raw TeX `\newpage`"),
        (11, r"raw LaTeX `\vspace{2cm}`"),
        (14, "could not convert TeX math x^, rendering as TeX"),  # pandoc's own warning
        (14, r"raw TeX `\textbf{lost}`"),
    ]
    items = list(converted.body.iter(tag("li")))
    assert [text_of(item) for item in items] == ["kept"]


def test_a_math_environment_is_carried_not_reported():
    assert chapter(CHAPTER).warnings == []


@pytest.fixture(scope="module")
def math_book(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("math") / "project"
    ProjectMaker(root).book("maths", chapters={"01.md": CHAPTER, "02.md": RAW})
    out = root / "dist"
    api.build(root, ["maths"], None, out, use_cache=False)
    return {p.name.split(".", 1)[1]: p for p in out.iterdir()}


def test_epub_and_kepub_pass_epubcheck_with_the_mathml_property(math_book, epubcheck):
    for name in ("epub", "kepub.epub"):
        report = epubcheck.check(math_book[name])
        assert report.clean, report
        with zipfile.ZipFile(math_book[name]) as archive:
            package = etree.fromstring(archive.read("EPUB/content.opf"))
        properties = {
            item.get("href"): item.get("properties", "")
            for item in package.iter("{http://www.idpf.org/2007/opf}item")
        }
        assert properties["01.xhtml"] == "mathml"
        assert "mathml" not in properties["nav.xhtml"]


def test_kepub_puts_no_sentence_span_inside_a_formula(math_book):
    with zipfile.ZipFile(math_book["kepub.epub"]) as archive:
        page = etree.fromstring(archive.read("EPUB/01.xhtml"))
    formulas = list(page.iter(MATH))
    assert len(formulas) == 5
    assert all(not list(m.iter(tag("span"))) for m in formulas)


def test_docx_has_word_equations(math_book, tmp_path):
    body = docx.Document(str(math_book["docx"])).element.body
    omml = "{http://schemas.openxmlformats.org/officeDocument/2006/math}"
    assert len(list(body.iter(f"{omml}oMath"))) == 5
    assert len(list(body.iter(f"{omml}oMathPara"))) == 2
    (pdf,) = libreoffice_pdfs([math_book["docx"]], tmp_path)
    text = subprocess.run(
        ["pdftotext", str(pdf), "-"], capture_output=True, text=True, check=True
    ).stdout
    assert "∑" in text and "∫" in text  # laid out as equations, not as TeX
    assert "\\sum" not in text


def test_kindle_files_show_each_formula_as_a_picture(math_book, tmp_path):
    backs = calibre_epubs({name: math_book[name] for name in ("azw3", "mobi")}, tmp_path)
    for name, back in backs.items():
        with zipfile.ZipFile(back) as archive:
            pages = [archive.read(n) for n in archive.namelist() if n.endswith("html")]
        alts = {
            image.get("alt")
            for page in pages
            for image in etree.fromstring(page).iter("{http://www.w3.org/1999/xhtml}img")
        }
        assert {"x^2", r"\int_0^1 f(x)\,dx", "E=mc^2"} <= alts, name
        assert not any(b"<math" in page for page in pages)


def test_formula_pictures_are_byte_identical_on_rebuild(math_book, tmp_path):
    mathml._render.cache_clear()
    root = math_book["epub"].parent.parent
    again = api.build(root, ["maths"], ["azw3"], tmp_path, use_cache=False)
    assert again[0].read_bytes() == math_book["azw3"].read_bytes()


def test_check_and_build_print_the_warnings(make_project):
    make_project.book("raw", chapters={"01.md": RAW})
    runner = CliRunner()
    for command in (["check"], ["build", "--format", "epub"]):
        result = runner.invoke(app, [*command, "--project", str(make_project.root)])
        assert result.exit_code == 0, result.output
        assert r"warning: book/raw/01.md:5: raw TeX `\newpage` is left out" in result.output
