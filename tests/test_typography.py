"""Typography per language: quotes, French spacing and dashes, from Markdown to the EPUB."""

from __future__ import annotations

import re
import shutil
import zipfile
from html import escape
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from lxml import etree
from typer.testing import CliRunner

from ebook_builder import convert
from ebook_builder.cli import app
from ebook_builder.convert import convert_chapter
from ebook_builder.markup.xhtml import heading_entries, parse_fragment, tag
from ebook_builder.model import ChapterSource
from ebook_builder.typography import PANDOC, RULES, SWISS_GERMAN, rules_for, typeset
from tests.helpers import REPO

N = "\u202f"  # narrow no-break space
FIXTURE = REPO / "tests" / "fixtures" / "typography"
BOOKS = {"en": "typography-en", "fr": "typography-fr", "de": "typography-de"}


def chapter(markdown: str, language: str):
    source = ChapterSource(
        "01-one.md", Path("/p/book/demo/01-one.md"), Path("book/demo/01-one.md"), markdown
    )
    return convert_chapter(source, language=language)


def paragraph(markdown: str, language: str) -> str:
    """The text of the first paragraph, exactly as typeset (no whitespace folded)."""
    return "".join(chapter(markdown, language).body.find(f".//{tag('p')}").itertext())


@pytest.mark.parametrize(
    ("language", "markdown", "expected"),
    [
        # French: guillemets with narrow no-break spaces, “ ” inside them
        ("fr", '"Bonjour"', f"«{N}Bonjour{N}»"),
        ("fr", "\"Il a dit 'oui' hier\"", f"«{N}Il a dit “oui” hier{N}»"),
        ("fr", '"Quoi ?" dit-il', f"«{N}Quoi{N}?{N}» dit-il"),
        ("fr", "l'homme d'aujourd'hui, 'l'homme'", "l’homme d’aujourd’hui, “l’homme”"),
        ("fr", "'Tis l'été", "’Tis l’été"),
        # French: ; : ! ? get a narrow no-break space, replacing any space there
        ("fr", "Quoi? Quoi ? Oui\u00a0? Non\u2009?", f"Quoi{N}? Quoi{N}? Oui{N}? Non{N}?"),
        ("fr", "Voilà: fin; oui! Vraiment?!", f"Voilà{N}: fin{N}; oui{N}! Vraiment{N}?!"),
        ("fr", "«mot», « mot » et «\u00a0mot\u00a0»", f"«{N}mot{N}», «{N}mot{N}» et «{N}mot{N}»"),
        ("fr", "*mot*? et (ceci)!", f"mot{N}? et (ceci){N}!"),
        # …but not in times, URLs, addresses or code
        ("fr", "à 12:30, le ratio 3:2", "à 12:30, le ratio 3:2"),
        (
            "fr",
            "voir https://ex.fr/a?b=1;c=2 et <https://ex.fr/?q> ou <moi@ex.fr>",
            "voir https://ex.fr/a?b=1;c=2 et https://ex.fr/?q ou moi@ex.fr",
        ),
        ("fr", "tapez `a ; b?` ou `x:y`", "tapez a ; b? ou x:y"),
        # French: an incise dash is spaced, a dialogue dash followed by a space
        ("fr", "mot---mot et mot --- mot", "mot — mot et mot — mot"),
        ("fr", "de 1914---1918, ou 1914--1918", "de 1914—1918, ou 1914–1918"),
        ("fr", "---Bonjour, dit-il.", "— Bonjour, dit-il."),
        # German: „ “ and ‚ ‘; the Gedankenstrich is a spaced en dash
        ("de", '"Haus"', "„Haus“"),
        ("de", "Er sagte: \"Das ist 'ganz' einfach.\"", "Er sagte: „Das ist ‚ganz‘ einfach.“"),
        ("de", "Wie geht's? Peter's Buch", "Wie geht’s? Peter’s Buch"),
        ("de", "Schon „Haus“ und ‚Wort‘", "Schon „Haus“ und ‚Wort‘"),
        ("de", "Sie kam---endlich---heim", "Sie kam – endlich – heim"),
        ("de", "Er zögerte --- und ging", "Er zögerte – und ging"),
        ("de", "1914--1918, 1914---1918, 5,--- Euro", "1914–1918, 1914–1918, 5,– Euro"),
        ("de", "Er sagte---", "Er sagte –"),
        ("de", "Warum? Um 12:30; ja!", "Warum? Um 12:30; ja!"),
        ("de-AT", '"Haus"', "„Haus“"),
        ("de-CH", "\"Haus\" und 'Wort'", "«Haus» und ‹Wort›"),
        # English and languages without rules: pandoc's typography, untouched
        ("en", "\"a 'b' c\" -- --- ... it's", "“a ‘b’ c” – — … it’s"),
        ("en-GB", "'single' Really? a---b", "‘single’ Really? a—b"),
        ("es", '"hola" ¿qué?', "“hola” ¿qué?"),
    ],
)
def test_paragraph_typography(language, markdown, expected):
    assert paragraph(markdown, language) == expected


def test_language_of_an_element_wins_over_the_book():
    text = paragraph('Il dit [say "hi": now]{lang=en} ? et "oui"', "fr")
    assert text == f"Il dit say “hi”: now{N}? et «{N}oui{N}»"
    text = paragraph('He said [il a dit "oui"]{lang=fr-CA}!', "en")
    assert text == f"He said il a dit «{N}oui{N}»!"


def test_code_keyboard_and_sample_text_are_left_alone():
    markdown = 'Tapez <kbd>Ctrl ?</kbd> et <samp>"ok" : fini!</samp>.\n\n    code: "x" -- y?\n'
    french, english = chapter(markdown, "fr").body, chapter(markdown, "en").body
    for path in (f".//{tag('kbd')}", f".//{tag('samp')}", f".//{tag('pre')}/{tag('code')}"):
        assert french.findtext(path) == english.findtext(path)
    assert french.findtext(f".//{tag('kbd')}") == "Ctrl ?"
    assert french.findtext(f".//{tag('pre')}/{tag('code')}") == 'code: "x" -- y?'


def test_attributes_keep_pandocs_marks_and_text_gets_the_languages():
    body = chapter(
        '![un "dessin" ?](x.png)\n\n[lien](https://ex.fr/?a=b "un \'titre\' : ici")\n', "fr"
    ).body
    image = body.find(f".//{tag('img')}")
    assert image.get("alt") == "un “dessin” ?"
    assert "".join(body.find(f".//{tag('figcaption')}").itertext()) == f"un «{N}dessin{N}»{N}?"
    link = body.find(f".//{tag('a')}")
    assert (link.get("href"), link.get("title")) == ("https://ex.fr/?a=b", "un 'titre' : ici")


def test_headings_are_typeset_and_keep_their_ids():
    french = chapter('# "Titre" -- deux ?\n\n## L\'été---enfin\n', "fr")
    english = chapter('# "Titre" -- deux ?\n\n## L\'été---enfin\n', "en")
    anchors = [h.anchor for h in heading_entries(french.body)]
    assert anchors == [h.anchor for h in heading_entries(english.body)]
    assert anchors == ["titre-deux", "l-été-enfin"]
    assert "".join(french.body.find(f".//{tag('h1')}").itertext()) == f"«{N}Titre{N}» – deux{N}?"
    assert "".join(french.body.find(f".//{tag('h2')}").itertext()) == "L’été — enfin"
    assert french.title == f"«{N}Titre{N}» – deux{N}?"  # the contents keep the spaces


def test_footnotes_are_typeset():
    body = chapter('Texte.[^1]\n\n[^1]: La note : "citée" !\n', "fr").body
    note = "".join(body.find(tag("aside")).itertext())
    assert note.startswith(f"1. La note{N}: «{N}citée{N}»{N}!")  # after its number


def test_spaces_across_inline_markup_and_in_declared_languages():
    body = parse_fragment(
        '<p><em>mot </em>? et <span xml:lang="fr">« <b>gras</b>»</span></p><p>?</p>'
    )
    typeset(body, "en")
    assert etree.tostring(body, encoding="unicode").split(">", 1)[1] == (
        f'<p><em>mot </em>? et <span xml:lang="fr">«{N}<b>gras</b>{N}»</span></p><p>?</p></body>'
    )
    body = parse_fragment("<p><em>mot </em>?</p><p>? début</p>")
    typeset(body, "fr")
    paragraphs = ["".join(p.itertext()) for p in body.iter(tag("p"))]
    assert paragraphs == [f"mot{N}?", "? début"]


def test_english_is_left_exactly_as_pandoc_wrote_it(monkeypatch):
    markdown = (FIXTURE / "book" / BOOKS["en"] / "01-quotes.md").read_text(encoding="utf-8")
    typeset_body = etree.tostring(chapter(markdown, "en").body)
    monkeypatch.setattr(convert, "typeset", lambda body, language: None)
    assert typeset_body == etree.tostring(chapter(markdown, "en").body)


@pytest.mark.parametrize(
    ("tag_", "rules"),
    [
        ("fr", RULES["fr"]),
        ("fr-CA", RULES["fr"]),
        ("FR-be", RULES["fr"]),
        ("de", RULES["de"]),
        ("de-AT", RULES["de"]),
        ("de-1996", RULES["de"]),
        ("de-u-co-phonebk", RULES["de"]),
        ("de-CH", SWISS_GERMAN),
        ("de-Latn-CH", SWISS_GERMAN),
        ("de-LI", SWISS_GERMAN),
        ("en", PANDOC),
        ("en-GB", PANDOC),
        ("zh-Hant", PANDOC),
        ("", PANDOC),
    ],
)
def test_rules_follow_the_language_and_region(tag_, rules):
    assert rules_for(tag_) is rules


# --- the fixture books, built by the command line and checked by EPUBCheck ---


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("typography") / "project"
    shutil.copytree(FIXTURE, root)
    out = root / "dist"
    result = CliRunner().invoke(
        app, ["build", "--format", "epub", "--out", str(out), "--project", str(root)]
    )
    assert result.exit_code == 0, result.output
    return {language: out / f"{book_id}.epub" for language, book_id in BOOKS.items()}


def xhtml(path: Path, name: str) -> str:
    with zipfile.ZipFile(path) as archive:
        return archive.read(f"EPUB/{name}").decode("utf-8")


@pytest.mark.parametrize("language", BOOKS)
def test_fixture_books_pass_epubcheck(built, language, epubcheck):
    report = epubcheck.check(built[language])
    assert report.clean, report.messages


EXPECTED = {
    "en": [
        "<h1>“Quotes” and Dashes?</h1>",
        "“It’s ‘obvious’ – isn’t it?” Then she left—quietly.",
        "the students’ books: all here! Really?",
        "https://example.org/page?id=3;x=4 at 12:30.",
        '<code>echo "a; b?"</code>',
        '<pre><code>code: "not typeset" -- ok?</code></pre>',
        "The note: “quoted” too!",
    ],
    "fr": [
        f"<h1>«{N}Pourquoi{N}?{N}» – un essai</h1>",
        f"Il a dit{N}: «{N}Je pense que c’est “évident”{N}!{N}» Puis il s’est tu.",
        f"Voilà{N}; c’est tout{N}! Vraiment{N}?! Oui{N}: à 12:30, pas avant{N};",
        "l’horaire d’aujourd’hui.",
        "Elle répondit — sans hésiter — qu’il fallait partir. De 1914—1918.",
        "<p>— Bonjour, dit-il.</p>",
        f"«{N}à la main{N}», «{N}avec des espaces{N}» et «{N}insécables{N}»",
        "https://exemple.fr/page?id=3;x=4 est fermé.",
        '<code>echo "a; b?"</code> ou <code>x:y</code> et <kbd>Ctrl ?</kbd>',
        '<pre><code>code: "non traité" -- ok?</code></pre>',
        '<span lang="en">phrase en anglais, “quoted”</span>',
        f"La note{N}: «{N}citée{N}»{N}!",
    ],
    "de": [
        "<h1>Was heißt „Heimat“?</h1>",
        "Er sagte: „Das ist ‚ganz‘ einfach.“ Dann ging er. Wie geht’s?",
        "Sie kam – endlich – nach Hause. Er zögerte – und ging. Die Jahre 1914–1918.",
        "Preis 5,– Euro.",
        "Schon geschrieben: „Haus“ und ‚Wort‘. Um 12:30 Uhr; pünktlich!",
        "https://beispiel.de/seite?x=1;y=2",
        '<pre><code>code "bleibt" --- so</code></pre>',
        "Die Notiz: „zitiert“.",
    ],
}
CHAPTERS = {"en": "01-quotes.xhtml", "fr": "01-guillemets.xhtml", "de": "01-anfuehrung.xhtml"}
FOREIGN = {"en": "«»„‚\u202f", "fr": "„‚", "de": "«»\u202f—"}


@pytest.mark.parametrize("language", BOOKS)
def test_fixture_books_have_their_languages_marks(built, language):
    page = xhtml(built[language], CHAPTERS[language])
    for expected in EXPECTED[language]:
        assert expected in page
    body = page.split("<body", 1)[1].replace('<span lang="en">phrase en anglais, “quoted”', "")
    assert not set(FOREIGN[language]) & set(body)


@pytest.mark.parametrize(
    ("language", "entry"),
    [
        ("en", "“Quotes” and Dashes?"),
        ("fr", f"«{N}Pourquoi{N}?{N}» – un essai"),
        ("de", "„Heimat“"),
    ],
)
def test_contents_take_the_typeset_headings(built, language, entry):
    assert entry in xhtml(built[language], "nav.xhtml")


# --- whatever the text, only marks, spaces and dashes change ---

PROSE = st.text(st.sampled_from(list("ab1 .,;:!?'\"“”‘’«»—–-/@\u00a0\u202f")), max_size=30)
INLINE_TAGS = st.sampled_from(["em", "a", "span", "code", "kbd", "sup"])


@st.composite
def paragraphs(draw: st.DrawFn) -> str:
    parts = []
    for _ in range(draw(st.integers(1, 4))):
        parts.append(escape(draw(PROSE)))
        name = draw(INLINE_TAGS)
        parts.append(f"<{name}>{escape(draw(PROSE))}</{name}>")
    return f"<p>{''.join(parts)}</p><p>{escape(draw(PROSE))}</p>"


@settings(max_examples=300, deadline=None)
@given(html=paragraphs(), language=st.sampled_from(["fr", "de", "de-CH", "en"]))
def test_only_marks_spaces_and_dashes_change(html, language):
    body = parse_fragment(html)
    before = etree.tostring(body, encoding="unicode")
    codes = [e.text for e in body.iter(tag("code"), tag("kbd"))]
    typeset(body, language)
    words = re.compile(r"[\w./@-]")
    assert words.findall("".join(body.itertext())) == words.findall(
        "".join(parse_fragment(html).itertext())
    )
    assert [e.text for e in body.iter(tag("code"), tag("kbd"))] == codes
    if language == "en":  # only a closing mark turned into an opening one, if anything

        def turned(xml: str) -> str:
            return xml.replace("“", "”").replace("‘", "’")

        assert turned(etree.tostring(body, encoding="unicode")) == turned(before)
