"""An EPUB package document's people, series and rights, as the metadata file's keys.

`epub._metadata` reads the rest of the OPF; this reads what has a shape. A `dc:creator` who
is an author (no role, or `aut`) goes to `creators`, with the name a library sorts it by
(`file-as`, EPUB 3's refinement or EPUB 2's `opf:file-as`); every other creator and each
`dc:contributor` goes to `contributors` under its role's name (`relators.ROLE_OF_CODE`);
`belongs-to-collection` (else calibre's `calibre:series`) goes to `series`, and `dc:rights`
to `rights`. What fits no key is reported, and what is carried is checked as `ebook check`
checks it, so that the draft passes.
"""

from __future__ import annotations

from typing import Any

from ebook_builder import metadata_fields
from ebook_builder.importers.packaged import DC
from ebook_builder.relators import ROLE_OF_CODE

OPF = "{http://www.idpf.org/2007/opf}"
# The roles of an author: none stated, or MARC's `aut`.
AUTHOR_ROLES = {"", "aut"}


def people(
    meta: Any, refines: dict[str, dict[str, str]], roles: dict[str, set[str]], report: list[str]
) -> tuple[list[str | dict[str, str]], list[dict[str, str]]]:
    """The creators (a name, or `{name, file_as}`) and the contributors, in the OPF's order.

    A creator may have several roles (Standard Ebooks: `aut` and `dto`): an author's role
    among them makes it a creator. EPUB 2's `opf:role` is the one role it states.
    """
    creators: list[str | dict[str, str]] = []
    contributors: list[dict[str, str]] = []
    for element in (*meta.iter(f"{DC}creator"), *meta.iter(f"{DC}contributor")):
        name = _text(element)
        if not name:
            continue
        uid = element.get("id", "")
        file_as = element.get(f"{OPF}file-as") or refines.get(uid, {}).get("file-as", "")
        stated = roles.get(uid, set())
        if element.get(f"{OPF}role") is not None:
            stated = {element.get(f"{OPF}role")}
        sorted_as = {"file_as": file_as} if file_as else {}
        if element.tag == f"{DC}creator" and (not stated or stated & AUTHOR_ROLES):
            creators.append(({"name": name} | sorted_as) if file_as else name)
            continue
        for role in _role_names(name, stated, report):
            contributors.append({"name": name, "role": role} | sorted_as)
    return creators, contributors


def series(meta: Any, refines: dict[str, dict[str, str]], report: list[str]) -> dict[str, str]:
    """The series `{name, position}`: EPUB 3's collection of type series, else calibre's.

    calibre writes its index as a decimal ("2.0"); the position is written as the number
    it is ("2"). A second series, or a collection of another type (a `set`), is reported.
    """
    found: list[tuple[str, str]] = []
    for item in meta.iter(f"{OPF}meta"):
        if item.get("property") != "belongs-to-collection" or not _text(item):
            continue
        details = refines.get(item.get("id", ""), {})
        kind = details.get("collection-type", "series")
        if kind == "series":
            found.append((_text(item), details.get("group-position", "")))
        else:
            report.append(
                f"metadata: collection `{_text(item)}` ({kind}) not carried: not a series"
            )
    named = {item.get("name"): item.get("content", "").strip() for item in meta.iter(f"{OPF}meta")}
    if not found and named.get("calibre:series"):
        found.append((named["calibre:series"], named.get("calibre:series_index", "")))
    if not found:
        return {}
    (name, position), *others = found
    for other, _ in others:
        report.append(f"metadata: series `{other}` not carried: a book has one series, `{name}`")
    carried = {"name": name} | ({"position": _number(position)} if position else {})
    problems: list[str] = []
    metadata_fields.series(carried, lambda _, message: problems.append(message))
    if problems and "position" in carried:
        report.append(f"metadata: series position `{position}` not carried: not a number")
        del carried["position"]
    return carried


def rights(meta: Any, report: list[str]) -> str:
    """The first `dc:rights`; another, or one too long for the metadata file, is reported."""
    statements = [text for text in map(_text, meta.iter(f"{DC}rights")) if text]
    carried = ""
    for statement in statements:
        if carried or len(statement) > metadata_fields.TEXT_LIMIT:
            report.append(f"metadata: `rights` not carried: {statement[:80]}")
        else:
            carried = statement
    return carried


def _role_names(name: str, codes: set[str], report: list[str]) -> list[str]:
    """The role names of a contributor's MARC codes; a code without one is reported.

    A contributor without a role is MARC's catch-all, `contributor`; the deprecated `aui`
    (introduction, preface or foreword) is read as an introduction. Both are guesses.
    """
    if not codes:
        report.append(f"metadata: contributor `{name}` has the role `contributor`: none stated")
        return ["contributor"]
    roles = []
    for code in sorted(codes):
        role = ROLE_OF_CODE.get(code.strip().lower())
        if role is None:
            report.append(f"metadata: `{name}` ({code}) not carried: no role for `{code}`")
            continue
        if code.strip().lower() == "aui":
            report.append(f"metadata: `{name}` (aui) is an introduction's author: or a preface's?")
        roles.append(role)
    return roles


def _number(text: str) -> str:
    """A position as the number it is: "2.0" is 2; text that is no number stays as it is."""
    try:
        return f"{float(text):g}"
    except ValueError:
        return text


def _text(element: Any) -> str:
    return " ".join((element.text or "").split())
