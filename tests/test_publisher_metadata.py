"""The metadata a publisher adds: series, contributors, sort names, rights, edition,
dedication and ISBNs — checked at their line when wrong, and read back from every format
by readers nobody here wrote (EPUBCheck, calibre, KindleUnpack, python-docx, LibreOffice).
"""

from __future__ import annotations

import zipfile
from pathlib import Path

import pytest
import yaml
from docx import Document
from lxml import etree

from ebook_builder import api
from ebook_builder.errors import BookError
from ebook_builder.formats import FORMATS
from ebook_builder.importers import import_book, package_credits
from ebook_builder.load import Project, load_book
from ebook_builder.metadata_fields import check_digit
from ebook_builder.model import Contributor, Isbns, Person, Series
from tests.helpers import (
    EVERY_FIELD,
    REPO,
    SHIPPED_BOOKS,
    ProjectMaker,
    libreoffice_convert,
    run_calibre,
)

OPF = "{http://www.idpf.org/2007/opf}"
DC = "{http://purl.org/dc/elements/1.1/}"
ODF_META = "{urn:oasis:names:tc:opendocument:xmlns:meta:1.0}"
CUSTOM = "{http://schemas.openxmlformats.org/officeDocument/2006/custom-properties}"


# --- Checked at load --------------------------------------------------------------------


def test_every_field_is_read_into_the_model(make_project):
    make_project.book(**EVERY_FIELD)
    meta = load_book(Project(make_project.root), "demo").metadata
    assert meta.creators == (Person("Ursula Writer", "Writer, Ursula"), Person("B. Second"))
    assert meta.contributors == (
        Contributor("Tom Translator", "translator", "Translator, Tom"),
        Contributor("Ian Intro", "introduction"),
        Contributor("Cora Cover", "cover designer"),
    )
    assert meta.series == Series("The Cycle", "2")
    assert (meta.rights, meta.edition, meta.dedication) == (
        EVERY_FIELD["rights"],
        "Second edition",
        "For the readers.",
    )
    assert meta.isbn == Isbns("9780306406157", "080442957X", "9781861972712")


def test_one_isbn_is_the_ebooks_and_a_position_may_be_a_fraction(make_project):
    make_project.book(isbn="978 0 306 40615 7", series={"name": "S", "position": 1.5})
    meta = load_book(Project(make_project.root), "demo").metadata
    assert meta.isbn == Isbns(epub="9780306406157", kindle="9780306406157")
    assert meta.series == Series("S", "1.5")


@pytest.mark.parametrize(
    ("body", "check"),
    [("978030640615", "7"), ("080442957", "X"), ("030640615", "2"), ("978186197271", "2")],
)
def test_check_digits(body, check):
    assert check_digit(body) == check


@pytest.mark.parametrize(
    ("fields", "at", "message"),
    [
        (
            {"series": {"name": "S", "position": "two"}},
            "position: two",
            "'series' position must be a number such as 2 or 1.5, not 'two'",
        ),
        ({"series": "The Cycle"}, "series: The Cycle", "'series' must be {name, position}"),
        ({"series": {"position": 2}}, "series:", "'series' needs a 'name'"),
        (
            {"series": {"name": "S", "volume": 2}},
            "volume: 2",
            "unknown key 'volume' under 'series'",
        ),
        (
            {"contributors": [{"name": "A", "role": "transltor"}]},
            "role: transltor",
            "unknown role 'transltor'; known: editor, translator, illustrator, introduction",
        ),
        ({"contributors": [{"name": "A"}]}, "- name: A", "a contributor needs a 'role': editor,"),
        (
            {"contributors": ["Just A Name"]},
            "- Just A Name",
            "'contributors entry 1' must be {name, role}",
        ),
        (
            {"contributors": {"name": "A", "role": "editor"}},
            "contributors:",
            "'contributors' must be a list of {name, role}",
        ),
        (
            {"creators": ["A", {"name": "B", "file_as": 5}]},
            "file_as: 5",
            "'file_as' of 'creators entry 2' must be text, not int",
        ),
        (
            {"creators": [{"file_as": "B, A"}]},
            "- file_as: B, A",
            "'creators entry 1' needs a 'name'",
        ),
        (
            {"isbn": "978-0-306-40615-8"},
            "isbn: 978",
            "ISBN '978-0-306-40615-8' ends in 8, but its check digit is 7",
        ),
        ({"isbn": {"epub": "0-306-40615-3"}}, "epub: 0-306", "ends in 3, but its check digit is 2"),
        (
            {"isbn": {"print": 306406152}},
            "print: 306406152",
            "'isbn print' must be an ISBN in quotes",
        ),
        (
            {"isbn": {"hardback": "9780306406157"}},
            "hardback:",
            "unknown edition 'hardback' under 'isbn' (known: epub, kindle, print)",
        ),
        ({"isbn": "12345"}, "isbn: '12345'", "ISBN '12345' must have 10 or 13 digits"),
        ({"identifier": "urn:isbn:9780306406158"}, "identifier:", "its check digit is 7"),
        ({"rights": ["a"]}, "rights:", "'rights' must be text, not a list"),
        ({"edition": 2}, "edition: 2", "'edition' must be text, not int"),
        ({"dedication": {"to": "you"}}, "dedication:", "'dedication' must be text, not a mapping"),
    ],
)
def test_a_bad_value_is_one_line_naming_file_and_line(make_project, fields, at, message):
    make_project.book(**fields)
    lines = make_project.metadata_path().read_text(encoding="utf-8").splitlines()
    line = next(number for number, text in enumerate(lines, 1) if text.lstrip().startswith(at))
    with pytest.raises(BookError) as caught:
        load_book(Project(make_project.root), "demo")
    [problem] = caught.value.lines()
    assert problem.startswith(f"metadata/demo.yaml:{line}: ")
    assert message in problem


def test_the_shipped_books_state_none_of_it():
    """The pamphlets name no series, contributor, rights, edition, dedication or ISBN."""
    for book_id in SHIPPED_BOOKS:
        meta = load_book(Project(REPO), book_id).metadata
        assert meta.contributors == () and meta.series is None and meta.isbn == Isbns()
        assert meta.rights is meta.edition is meta.dedication is None
        assert all(creator.file_as is None for creator in meta.creators)


# --- Read back from every format ----------------------------------------------------------


@pytest.fixture(scope="module")
def every_field(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """A book that uses every field, built in every format once for the module."""
    root = tmp_path_factory.mktemp("publisher") / "project"
    ProjectMaker(root).book(**EVERY_FIELD)
    out = root / "dist"
    api.build(root, ["demo"], list(FORMATS), out)
    return {fmt: out / f"demo{FORMATS[fmt].suffix}" for fmt in FORMATS}


def test_epubcheck_passes_with_every_field(every_field, epubcheck):
    for fmt in ("epub", "kepub"):
        report = epubcheck.check(every_field[fmt])
        assert report.clean, report.messages


def _opf(path: Path) -> etree._Element:
    with zipfile.ZipFile(path) as archive:
        name = next(n for n in archive.namelist() if n.endswith(".opf"))
        return etree.fromstring(archive.read(name))


def test_the_package_document_states_every_field(every_field):
    opf = _opf(every_field["epub"])
    metadata = opf.find(f"{OPF}metadata")
    refines: dict[tuple[str, str], str] = {
        (m.get("refines"), m.get("property")): m.text
        for m in metadata.iter(f"{OPF}meta")
        if m.get("refines")
    }
    named = {m.get("name"): m.get("content") for m in metadata.iter(f"{OPF}meta") if m.get("name")}
    # The project's identifier stays the unique one; the EPUB's ISBN is a second identifier.
    unique = opf.get("unique-identifier")
    identifiers = {i.get("id"): i.text for i in metadata.iter(f"{DC}identifier")}
    assert identifiers[unique].startswith("urn:uuid:")
    assert "urn:isbn:9780306406157" in identifiers.values()
    assert [s.text for s in metadata.iter(f"{DC}source")] == ["urn:isbn:9781861972712"]
    creators = {c.text: c.get("id") for c in metadata.iter(f"{DC}creator")}
    assert refines[f"#{creators['Ursula Writer']}", "file-as"] == "Writer, Ursula"
    assert (f"#{creators['B. Second']}", "file-as") not in refines
    contributors = {c.text: c.get("id") for c in metadata.iter(f"{DC}contributor")}
    roles = {name: refines[f"#{uid}", "role"] for name, uid in contributors.items()}
    assert roles == {"Tom Translator": "trl", "Ian Intro": "win", "Cora Cover": "cov"}
    assert refines[f"#{contributors['Tom Translator']}", "file-as"] == "Translator, Tom"
    [collection] = [
        m for m in metadata.iter(f"{OPF}meta") if m.get("property") == "belongs-to-collection"
    ]
    assert collection.text == "The Cycle"
    assert refines[f"#{collection.get('id')}", "collection-type"] == "series"
    assert refines[f"#{collection.get('id')}", "group-position"] == "2"
    assert named["calibre:series"] == "The Cycle" and named["calibre:series_index"] == "2"
    assert metadata.findtext(f"{DC}rights") == EVERY_FIELD["rights"]
    editions = [
        m.text for m in metadata.iter(f"{OPF}meta") if m.get("property") == "schema:bookEdition"
    ]
    assert editions == ["Second edition"]


@pytest.fixture(scope="module")
def calibre_reads(every_field, tmp_path_factory) -> dict[str, dict[str, str]]:
    """What calibre's `ebook-meta` reads from each e-book file, field by field."""
    out = tmp_path_factory.mktemp("calibre-meta")
    formats = ("epub", "kepub", "azw3", "mobi")
    runs = run_calibre({fmt: ["ebook-meta", str(every_field[fmt])] for fmt in formats}, out)
    fields = {}
    for fmt, run in runs.items():
        pairs = (line.partition(":") for line in run.stdout.splitlines())
        fields[fmt] = {name.strip(): value.strip() for name, colon, value in pairs if colon}
    return fields


@pytest.mark.parametrize("fmt", ["epub", "kepub"])
def test_calibre_reads_series_sort_name_and_isbn_from_the_epub(calibre_reads, fmt):
    fields = calibre_reads[fmt]
    assert fields["Series"] == "The Cycle #2"
    assert fields["Author(s)"] == "Ursula Writer & B. Second [Writer, Ursula]"
    assert "isbn:9780306406157" in fields["Identifiers"]
    # calibre's EPUB 3 reader reads no dc:rights and no contributor but a book producer
    # (`bkp`): the package document test above checks those.


@pytest.mark.parametrize("fmt", ["azw3", "mobi"])
def test_calibre_reads_the_kindle_isbn_rights_and_a_contributor(calibre_reads, fmt):
    fields = calibre_reads[fmt]
    assert "isbn:080442957X" in fields["Identifiers"]
    assert fields["Rights"] == EVERY_FIELD["rights"]
    assert fields["Book Producer"] == "Cora Cover"  # calibre's name for the last EXTH 108


def test_kindleunpack_reads_contributors_rights_and_isbn(every_field):
    import mobi
    from loguru import logger

    logger.disable("mobi")
    folder, _ = mobi.extract(str(every_field["azw3"]))
    opf = etree.parse(str(Path(folder) / "mobi8" / "OEBPS" / "content.opf")).getroot()
    metadata = opf.find(f"{OPF}metadata")
    assert [c.text for c in metadata.iter(f"{DC}contributor")] == [
        "Tom Translator",
        "Ian Intro",
        "Cora Cover",
    ]
    assert metadata.findtext(f"{DC}rights") == EVERY_FIELD["rights"]
    assert "080442957X" in [i.text for i in metadata.iter(f"{DC}identifier")]


def test_python_docx_and_libreoffice_read_the_docx_properties(every_field, tmp_path):
    core = Document(str(every_field["docx"])).core_properties
    assert core.author == "Ursula Writer; B. Second"
    assert core.identifier.startswith("urn:uuid:")
    with zipfile.ZipFile(every_field["docx"]) as archive:
        custom = etree.fromstring(archive.read("docProps/custom.xml"))
    ours = {p.get("name"): "".join(p.itertext()) for p in custom.iter(f"{CUSTOM}property")}
    [odt] = libreoffice_convert([every_field["docx"]], tmp_path, "odt")
    with zipfile.ZipFile(odt) as archive:
        meta = etree.fromstring(archive.read("meta.xml"))
    theirs = {m.get(f"{ODF_META}name"): m.text for m in meta.iter(f"{ODF_META}user-defined")}
    expected = {
        "rights": EVERY_FIELD["rights"],
        "edition": "Second edition",
        "series": "The Cycle",
        "series position": "2",
        "ISBN epub": "9780306406157",
        "ISBN kindle": "080442957X",
        "ISBN print": "9781861972712",
        "translator": "Tom Translator",
        "introduction": "Ian Intro",
        "cover designer": "Cora Cover",
        "creators, sorted as": "Writer, Ursula; B. Second",
    }
    assert expected.items() <= ours.items()
    assert expected.items() <= theirs.items()


# --- Carried by `ebook import` --------------------------------------------------------------


def test_an_imported_epub_keeps_the_people_series_and_rights(every_field, tmp_path, epubcheck):
    project = tmp_path / "project"
    result = import_book(every_field["epub"], "again", project=project)
    assert result.problems == []
    metadata = yaml.safe_load(result.metadata.read_text(encoding="utf-8"))
    assert metadata["creators"] == [
        {"name": "Ursula Writer", "file_as": "Writer, Ursula"},
        "B. Second",
    ]
    assert metadata["contributors"] == [
        {"name": "Tom Translator", "role": "translator", "file_as": "Translator, Tom"},
        {"name": "Ian Intro", "role": "introduction"},
        {"name": "Cora Cover", "role": "cover designer"},
    ]
    assert metadata["series"] == {"name": "The Cycle", "position": "2"}
    assert metadata["rights"] == EVERY_FIELD["rights"]
    report = (project / "book" / "again" / "IMPORT.md").read_text(encoding="utf-8")
    assert "not carried: no roles" not in report and "The Cycle" not in report
    api.build(project, ["again"], ["epub"], project / "dist")
    assert epubcheck.check(project / "dist" / "again.epub").clean


OTHER_OPF = """<package xmlns="http://www.idpf.org/2007/opf" version="3.0">
<metadata xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:opf="http://www.idpf.org/2007/opf">
<dc:creator id="a">Ann Author</dc:creator><meta refines="#a" property="role">aut</meta>
<dc:creator id="t">Tess Both</dc:creator><meta refines="#t" property="role">trl</meta>
<meta refines="#t" property="role">ill</meta>
<dc:contributor opf:role="bkp">calibre (7.0)</dc:contributor>
<dc:contributor>No Role</dc:contributor>
<dc:contributor opf:role="aui" opf:file-as="Old, Intro">Intro Old</dc:contributor>
<meta property="belongs-to-collection" id="set">Boxed Set</meta>
<meta refines="#set" property="collection-type">set</meta>
<meta property="belongs-to-collection" id="s1">First Series</meta>
<meta refines="#s1" property="group-position">three</meta>
<meta property="belongs-to-collection" id="s2">Second Series</meta>
<meta name="calibre:series" content="First Series"/>
<meta name="calibre:series_index" content="3.0"/>
<dc:rights>One</dc:rights><dc:rights>Two</dc:rights>
</metadata></package>"""


def test_what_fits_no_key_is_reported():
    meta = etree.fromstring(OTHER_OPF.encode()).find(f"{OPF}metadata")
    refines: dict[str, dict[str, str]] = {}
    roles: dict[str, set[str]] = {}
    for item in meta.iter(f"{OPF}meta"):
        if target := item.get("refines", "").lstrip("#"):
            refines.setdefault(target, {})[item.get("property")] = item.text
            if item.get("property") == "role":
                roles.setdefault(target, set()).add(item.text)
    report: list[str] = []
    creators, contributors = package_credits.people(meta, refines, roles, report)
    assert creators == ["Ann Author"]
    assert contributors == [
        {"name": "Tess Both", "role": "illustrator"},
        {"name": "Tess Both", "role": "translator"},
        {"name": "No Role", "role": "contributor"},
        {"name": "Intro Old", "role": "introduction", "file_as": "Old, Intro"},
    ]
    assert package_credits.series(meta, refines, report) == {"name": "First Series"}
    assert package_credits.rights(meta, report) == "One"
    assert report == [
        "metadata: `calibre (7.0)` (bkp) not carried: no role for `bkp`",
        "metadata: contributor `No Role` has the role `contributor`: none stated",
        "metadata: `Intro Old` (aui) is an introduction's author: or a preface's?",
        "metadata: collection `Boxed Set` (set) not carried: not a series",
        "metadata: series `Second Series` not carried: a book has one series, `First Series`",
        "metadata: series position `three` not carried: not a number",
        "metadata: `rights` not carried: Two",
    ]


def test_an_imported_docx_keeps_what_its_custom_properties_state(every_field, tmp_path):
    project = tmp_path / "project"
    result = import_book(every_field["docx"], "again", project=project)
    assert result.problems == []
    metadata = yaml.safe_load(result.metadata.read_text(encoding="utf-8"))
    assert metadata["creators"] == [
        {"name": "Ursula Writer", "file_as": "Writer, Ursula"},
        "B. Second",
    ]
    assert metadata["contributors"] == [
        {"name": "Tom Translator", "role": "translator"},
        {"name": "Ian Intro", "role": "introduction"},
        {"name": "Cora Cover", "role": "cover designer"},
    ]
    assert metadata["series"] == {"name": "The Cycle", "position": "2"}
    assert (metadata["rights"], metadata["edition"], metadata["date"]) == (
        EVERY_FIELD["rights"],
        "Second edition",
        "2020",
    )
    report = (project / "book" / "again" / "IMPORT.md").read_text(encoding="utf-8")
    assert "custom property `isbn print` not carried: 9781861972712" in report
