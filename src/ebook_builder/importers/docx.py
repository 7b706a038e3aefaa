"""The DOCX reader of `ebook import`: Word, Google Docs and LibreOffice manuscripts.

Pandoc's DOCX reader, not mammoth: it is already bundled and pinned, and it gives what
the draft needs directly as its tree (footnotes and endnotes as notes, headings with
their bookmarks as ids, block quotes, small caps, superscript), so the DOCX goes the same
way as Markdown and HTML from there (`pandoc_markup.draft_from_tree`). Mammoth gives
HTML that would have to be read again and drops notes' placement.

What is Word's own is dropped, since the build makes its own: the title page (what comes
before the first chapter heading; its picture becomes the cover) and the table of
contents (pandoc gives a TOC field's cached result as a `TOC-Heading` heading and
paragraphs of links to the headings; calibre writes such paragraphs under a heading).
Metadata comes from `docProps/core.xml`.

Scene breaks are a paragraph of marks (`* * *`, `#`, `❦`, read in pandoc's tree) or a
run of empty paragraphs, which pandoc's reader drops: those are found in
`word/document.xml` itself, and the package pandoc reads has each such run replaced by one
paragraph holding a mark of ours, which the tree step turns into a break
(`_mark_empty_runs`, `_breaks_from_runs`).
"""

from __future__ import annotations

import re
import tempfile
import zipfile
from pathlib import Path
from typing import Any

from ebook_builder.errors import InputError
from ebook_builder.formats.docx import VERSE_STYLES
from ebook_builder.importers.docx_properties import custom_metadata
from ebook_builder.importers.draft import Draft
from ebook_builder.importers.packaged import (
    DC,
    cover_suffix,
    open_package,
    pandoc_tree,
    read_xml,
)
from ebook_builder.importers.pandoc_markup import draft_from_tree, raise_headings
from ebook_builder.importers.tree import (
    ATTR_AT,
    Node,
    attributed,
    broken_lines,
    elements,
    lists,
    plain_text,
)
from ebook_builder.importers.word_xml import (
    BREAK_RUN,
    DOCUMENT,
    back_into_quotes,
    for_pandoc,
    page_markers,
    run_mark,
)
from ebook_builder.matter import LABELS
from ebook_builder.sources import PICTURE_LIMIT, read_source

_CORE = "docProps/core.xml"
_CORE_NS = "{http://schemas.openxmlformats.org/package/2006/metadata/core-properties}"
_RELATIONSHIPS = "http://schemas.openxmlformats.org/package/2006/relationships"
_SIZES = ("width", "height")
_WORDS = (  # a chapter's number in words: "Chapter Twelve", "Part Twenty-One", "Part First"
    "one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|thirteen|fourteen|"
    "fifteen|sixteen|seventeen|eighteen|nineteen|twenty|thirty|forty|fifty|"
    "first|second|third|fourth|fifth|sixth|seventh|eighth|ninth|tenth"
)
# A roman numeral, upper case and not empty: IV, XII, MCMXIV.
_ROMAN = "(?-i:(?=[MDCLXVI])M{0,3}(?:CM|CD|D?C{0,3})(?:XC|XL|L?X{0,3})(?:IX|IV|V?I{0,3}))"
# A paragraph that reads as a chapter's title: "Chapter 1", "CHAPTER XII. The Storm",
# "Part Two: Winter", or a roman numeral alone ("IV", "IV.").
_TITLE_LINE = re.compile(
    rf"(?:chapter|part)\s+(?:\d+|{_ROMAN}|(?:{_WORDS})(?:-(?:{_WORDS}))?)\b"
    rf"[.:]?(?:\s*[\u2013\u2014-]?\s*\S.*)?|{_ROMAN}\.?",
    re.IGNORECASE,
)
# The paragraph styles of the build's DOCX (`formats.docx`): the kind of block each
# is for, by the style's first word (`Verse Stanza 2` is verse); the style that ends an
# epigraph (its source); the style of a stanza's first line.
_STYLED = {"epigraph": "Epigraph", "verse": "Verse", "signature": "Signature"}
_ENDING = {"Epigraph Source"}
_STANZA_START = VERSE_STYLES[1]
_TITLE_LENGTH = 100  # a longer paragraph is prose that happens to open with "Chapter"
# The marks a scene-break paragraph is made of: * # ~ • · ⁂ ⁕ ❦ ❧ ✻ ✦ ❖, the other
# asterisks ⁎ ⁑ ∗ ✱ ✳ ❋ ✢ ✣ ✤ ✥, the floral hearts and diamonds ☙ ◆ ◇ ♦, the palm
# branch ⸙, and § (alone on its line it is a section's ornament; "§ 12" is a heading).
_MARKS = (
    "[*#~\u2022\u00b7\u2042\u2055\u2766\u2767\u273b\u2726\u2756"
    "\u204e\u2051\u2217\u2731\u2733\u274b\u2722-\u2725"
    "\u2619\u25c6\u25c7\u2666\u2e19\u00a7]"
)
_BREAK_LINE = re.compile(rf"{_MARKS}(?:\s*{_MARKS}){{0,5}}")


def read_docx(source: Path, kind: str) -> Draft:
    """The draft of a DOCX: a chapter per Heading 1 (or, in a document without heading
    styles, per paragraph that reads as a chapter's title), Word's title page and TOC
    dropped, scene-break paragraphs and runs of empty paragraphs made breaks."""
    data, package = open_package(source, kind)
    if DOCUMENT not in package.namelist():
        raise InputError(f"not DOCX: no {DOCUMENT} in the package", path=source)
    _refuse_linked_pictures(package, source)
    report: list[str] = []
    metadata = _metadata(package, source, report)
    marked, spacing = for_pandoc(data, package, source)
    with tempfile.TemporaryDirectory(prefix="ebook-import-") as media:
        tree = pandoc_tree(marked, kind, Path(media), source, extensions="+styles")
        tree["blocks"] = _drop_made_pages(tree["blocks"], metadata, report)
        _paragraph_styles(tree["blocks"])
        page_markers(tree["blocks"], report)
        back_into_quotes(tree["blocks"], report)
        tree["blocks"] = _breaks_from_runs(tree["blocks"], spacing, report)
        _drop_toc(tree, report)
        _scene_breaks(tree["blocks"], report)
        if not elements(tree["blocks"], "Header"):
            _guess_headings(tree["blocks"], report)
        cover = _drop_title_page(tree, metadata["title"], Path(media), report)
        raise_headings(tree["blocks"])
        for image in elements(tree["blocks"], "Image"):  # Word's page size, not the book's
            image["c"][0][2] = [pair for pair in image["c"][0][2] if pair[0] not in _SIZES]
        if not metadata["title"]:
            first = next((h for h in elements(tree["blocks"], "Header") if h["c"][0] == 1), None)
            metadata["title"] = plain_text(first["c"][2]) if first else ""
            if metadata["title"]:
                report.append(
                    f"metadata: `title` taken from the first heading: {metadata['title']}"
                )
        draft = draft_from_tree(tree, metadata, source, Path(media), report)
    draft.cover = cover
    return draft


def _drop_made_pages(blocks: list[Node], metadata: dict[str, Any], report: list[str]) -> list[Node]:
    """`blocks` without the paragraphs of the pages the build's DOCX makes from the
    metadata (`matter`), each in the style named after its page (Imprint, Dedication,
    Colophon): the import carries their facts in the metadata, the dedication's text
    included, and the next build makes them again."""
    styles = {label: kind for kind, label in LABELS.items() if kind != "titlepage"}
    kept, dropped, dedication = [], set(), []
    for block in blocks:
        kind = styles.get(_style(block))
        if kind is None:
            kept.append(block)
            continue
        dropped.add(kind)
        if kind == "dedication":
            dedication.append(plain_text(block["c"][1]))
    for kind in (kind for kind in LABELS if kind in dropped):  # in reading order
        report.append(f"dropped the {LABELS[kind].lower()} the build makes from the metadata")
    if dedication and not metadata.get("dedication"):
        metadata["dedication"] = "\n\n".join(dedication)
    return kept


def _paragraph_styles(blocks: list[Node]) -> None:
    """Paragraphs in the styles the build's DOCX gives its epigraphs, verse and signatures
    (`formats.docx`) made those blocks again, at any depth; every other style's as pandoc
    reads them without `+styles` (Word's Quote styles are block quotes already).

    Pandoc's reader gives a paragraph's style only with `+styles`, as a div around it (a
    figure's and a run's as an attribute), so this takes those off too, and joins back
    the block quotes it then gives a paragraph each."""
    for node in attributed(blocks):
        attrs = node["c"][ATTR_AT[node["t"]]]
        if node["t"] != "Div":
            attrs[2] = [pair for pair in attrs[2] if pair[0] != "custom-style"]
    for held in lists(blocks):
        if any(_style(item) for item in held if isinstance(item, dict)):
            held[:] = _styled_blocks(held)


def _styled_blocks(blocks: list[Node]) -> list[Node]:
    """`blocks` with each styled div made its block (`_styled_block`) or opened."""
    kept: list[Node] = []
    run: list[Node] = []  # consecutive paragraphs of one styled kind, each in its div
    for block in blocks:
        style = _style(block)
        kind = _kind(style)
        if run and (kind != _kind(_style(run[-1])) or _style(run[-1]) in _ENDING):
            kept.append(_styled_block(run))
            run = []
        if kind:
            run.append(block)
        elif style:
            for inner in _styled_blocks(block["c"][1]):
                if inner["t"] == "BlockQuote" and kept and kept[-1]["t"] == "BlockQuote":
                    kept[-1]["c"] += inner["c"]
                else:
                    kept.append(inner)
        else:
            kept.append(block)
    if run:
        kept.append(_styled_block(run))
    return kept


def _style(block: Node) -> str:
    """The paragraph style `+styles` gives a block, or ""."""
    return str(dict(block["c"][0][2]).get("custom-style", "")) if block["t"] == "Div" else ""


def _kind(style: str) -> str:
    """The kind of block of the build's that a paragraph style is for, or ""."""
    return next((kind for kind, first in _STYLED.items() if style.split(" ")[0] == first), "")


def _styled_block(run: list[Node]) -> Node:
    """The block the build writes a run of styled paragraphs from: an epigraph a quote in
    an `epigraph` div; verse a line block, a blank line before each `Verse Stanza`; a
    signature a line block in a `signature` div."""
    kind = _kind(_style(run[0]))
    paragraphs = [
        (_style(div), block)
        for div in run
        for inner in div["c"][1]
        for block in (inner["c"] if inner["t"] == "BlockQuote" else [inner])
    ]
    if kind == "epigraph":
        quote = {"t": "BlockQuote", "c": [block for _, block in paragraphs]}
        return {"t": "Div", "c": [["", ["epigraph"], []], [quote]]}
    lines: list[list[Node]] = []
    for style, paragraph in paragraphs:
        if lines and style.startswith(_STANZA_START):
            lines.append([])
        lines += broken_lines(paragraph["c"] if paragraph["t"] in ("Para", "Plain") else [])
    verse = {"t": "LineBlock", "c": lines}
    return verse if kind == "verse" else {"t": "Div", "c": [["", ["signature"], []], [verse]]}


def _guess_headings(blocks: list[Node], report: list[str]) -> None:
    """A document without heading styles split where a paragraph reads as a chapter's
    title ("Chapter 1", "PART TWO", "IV"): many manuscripts are typed in Normal style
    throughout, and without this they would import as one chapter. A guess, so reported
    with the paragraphs it took."""
    taken = []
    for at, block in enumerate(blocks):
        text = plain_text([block]) if block["t"] in ("Para", "Plain") else ""
        if _reads_as_title(text):
            blocks[at] = {"t": "Header", "c": [1, ["", [], []], block["c"]]}
            taken.append(text)
    if taken:
        shown = ", ".join(f"`{text}`" for text in taken[:5]) + (", …" if len(taken) > 5 else "")
        report.append(
            f"no heading styles: {len(taken)} paragraph{'s' * (len(taken) > 1)} that read as "
            f"chapter titles made level-1 headings ({shown}); check the split"
        )


def _reads_as_title(text: str) -> bool:
    """Whether a paragraph's text reads as a chapter's title ("Chapter 1", "IV")."""
    return bool(text) and len(text) <= _TITLE_LENGTH and bool(_TITLE_LINE.fullmatch(text))


def _scene_breaks(blocks: list[Node], report: list[str]) -> None:
    """A paragraph that is only a scene-break mark (`* * *`, `#`, a centred `❦` or `⁂`)
    becomes a horizontal rule, which the build renders as its scene break (`<hr>`, styled
    by the book's design), rather than as a line of text."""
    count = 0
    for at, block in enumerate(blocks):
        if block["t"] in ("Para", "Plain") and _BREAK_LINE.fullmatch(plain_text([block])):
            blocks[at] = {"t": "HorizontalRule"}
            count += 1
    if count:
        paragraphs = f"{count} paragraph{'s' * (count > 1)}"
        report.append(f"{paragraphs} of a scene-break mark (`* * *`, `#`, ❦) made breaks")


def _breaks_from_runs(blocks: list[Node], spacing: int, report: list[str]) -> list[Node]:
    """`blocks` with each `BREAK_RUN` paragraph a horizontal rule (the build's scene
    break) where it stands between paragraphs of text, and every other mark of ours
    dropped: a run before or after a heading (by style, or a paragraph that reads as a
    chapter's title, which `_guess_headings` may make one) or at the start or end of the
    text (pandoc takes a title page's Title and Author paragraphs into the metadata) is
    spacing. A `SPACING_RUN` between paragraphs of text is reported with the words that
    follow it, since an author may have meant it as a break."""
    kept: list[Node] = []
    breaks = 0
    slips: list[str] = []
    for at, block in enumerate(blocks):
        mark = run_mark(block)
        if mark is None:
            kept.append(block)
            continue
        before, after = blocks[at - 1 : at], blocks[at + 1 : at + 2]
        if not (before and after and _continues_text(before[0]) and _continues_text(after[0])):
            continue
        if mark == BREAK_RUN:
            kept.append({"t": "HorizontalRule"})
            breaks += 1
        else:
            words = plain_text(after).split()
            slips.append(" ".join(words[:4]) + ("…" if len(words) > 4 else ""))
    _report_runs(spacing, breaks, slips, report)
    return kept


def _report_runs(spacing: int, breaks: int, slips: list[str], report: list[str]) -> None:
    """The report's lines on the document's spacing, the runs made breaks, and the runs
    one paragraph longer than the spacing that were not (with the words after them)."""
    if spacing:
        report.append(
            f"typed spacing: most paragraphs are followed by {spacing} empty "
            f"paragraph{'s' * (spacing > 1)}, taken as spacing, not as scene breaks"
        )
    if breaks:
        runs = f"{breaks} run{'s' * (breaks > 1)} of {spacing + 2} or more empty paragraphs"
        report.append(f"{runs} between paragraphs of text made scene breaks")
    if slips:
        shown = ", ".join(f"`{words}`" for words in slips[:5]) + (", …" if len(slips) > 5 else "")
        count = f"{len(slips)} run{'s' * (len(slips) > 1)} of {spacing + 1} empty paragraphs"
        if not spacing:
            count = f"{len(slips)} single empty paragraph{'s' * (len(slips) > 1)}"
        report.append(
            f"{count} between paragraphs of text taken as spacing, not scene breaks "
            f"(before {shown}): write `* * *` where one is a break"
        )


def _continues_text(block: Node) -> bool:
    """Whether a block may border a scene break: not a heading, a rule, a mark of ours,
    or a paragraph that reads as a chapter's title or is a scene-break mark itself."""
    if block["t"] in ("Header", "HorizontalRule") or run_mark(block) is not None:
        return False
    text = plain_text([block]) if block["t"] in ("Para", "Plain") else ""
    return not _reads_as_title(text) and not _BREAK_LINE.fullmatch(text)


def _refuse_linked_pictures(package: zipfile.ZipFile, source: Path) -> None:
    """A picture the DOCX links to rather than holds (`TargetMode="External"`) is refused:
    fetching it would reach out to the network or the disk, and dropping it loses it."""
    for name in package.namelist():
        if not (name.startswith("word/_rels/") and name.endswith(".rels")):
            continue
        rels = read_xml(package, name, source, "docx")
        for rel in rels.iter(f"{{{_RELATIONSHIPS}}}Relationship"):
            if rel.get("TargetMode") == "External" and rel.get("Type", "").endswith("/image"):
                target = rel.get("Target", "")
                message = f"refused: a picture linked outside the file ({target}): insert it"
                raise InputError(message, path=source)


def _metadata(package: zipfile.ZipFile, source: Path, report: list[str]) -> dict[str, Any]:
    """Title, creators, language, description and subjects (the keywords) as the core
    properties state them; Word's Subject field is reported, since it may be a subtitle
    or a topic. Then what the custom properties state (`docx_properties`)."""
    stated: dict[str, Any] = {"title": "", "language": "", "creators": [], "description": ""}
    if _CORE in package.namelist():
        core = read_xml(package, _CORE, source, "docx")
        for key in ("title", "language", "description"):
            stated[key] = " ".join(core.findtext(f"{DC}{key}", "").split())
        creators = [" ".join((c.text or "").split()) for c in core.iter(f"{DC}creator")]
        stated["creators"] = _listed(";".join(creators), ";")  # "Doe, Jane" is one name
        stated["subjects"] = _listed(core.findtext(f"{_CORE_NS}keywords", ""), ";,")
        subject = " ".join(core.findtext(f"{DC}subject", "").split())
        if subject:
            report.append(f"metadata: Word's Subject not carried (a subtitle? a topic?): {subject}")
    stated |= custom_metadata(package, source, stated["creators"], report)
    if not stated["language"]:
        stated["language"] = "en"
        report.append("metadata: `language` set to `en`: the document does not state it")
    return stated


def _listed(text: str, separators: str) -> list[str]:
    """The names or keywords in a core property, cut at any of `separators`."""
    parts = (" ".join(part.split()) for part in re.split(f"[{separators}]", text))
    return [part for part in parts if part]


def _drop_title_page(
    tree: Node, title: str, media: Path, report: list[str]
) -> tuple[str, bytes] | None:
    """Drop what comes before the first chapter heading (Word's title page: title,
    creators, cover); its first picture that is a JPEG or PNG is the cover, returned.

    A chapter heading is one at the top level of the headings other than the book's
    title: a title page may state the title as a heading above that level (calibre's DOCX
    of an EPUB whose title page is `<h1>` and chapters `<h2>`)."""
    blocks = tree["blocks"]
    heads = [(n, b["c"][0]) for n, b in enumerate(blocks) if b["t"] == "Header"]
    others = [level for n, level in heads if plain_text(blocks[n]["c"][2]) != title]
    top = min(others, default=1)  # a first chapter may share the book's title
    first = next((n for n, level in heads if level == top), None)
    if first is None or first == 0:
        return None
    page, tree["blocks"] = blocks[:first], blocks[first:]
    dropped = " / ".join(filter(None, (plain_text([block]) for block in page)))[:80]
    report.append(f"dropped the title page (what came before the first chapter heading): {dropped}")
    for image in elements(page, "Image"):
        path = Path(image["c"][2][0])
        suffix = cover_suffix(path.name)
        if suffix is None:
            continue
        try:
            data = read_source(path, PICTURE_LIMIT, inside=media)
        except OSError:
            continue
        report.append("the title page's picture is the cover")
        return suffix, data
    return None


def _drop_toc(tree: Node, report: list[str]) -> None:
    """Drop a table of contents: Word's (a `TOC-Heading` heading, as pandoc gives a TOC
    field's cached result) or another program's (calibre's: a heading followed only by
    two or more paragraphs of links to places in the document), with its entries."""
    blocks = tree["blocks"]
    for at, block in enumerate(blocks):
        if block["t"] != "Header":
            continue
        end = at + 1
        while end < len(blocks) and _is_toc_entry(blocks[end]):
            end += 1
        ends_section = end == len(blocks) or blocks[end]["t"] == "Header"
        if "TOC-Heading" in block["c"][1][1] or (end - at > 2 and ends_section):
            del blocks[at:end]
            report.append(f"dropped the table of contents ({end - at - 1} entries)")
            return


def _is_toc_entry(block: Node) -> bool:
    """A paragraph that is only links within the document (and the page numbers)."""
    if block["t"] not in ("Para", "Plain"):
        return False
    links = [node for node in block["c"] if node["t"] == "Link"]
    rest = [node for node in block["c"] if node["t"] not in ("Link", "Space", "SoftBreak")]
    return (
        bool(links)
        and all(link["c"][2][0].startswith("#") for link in links)
        and not plain_text(rest)
    )
