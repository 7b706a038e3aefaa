"""A DOCX's custom properties (`docProps/custom.xml`) as the metadata file's keys.

Word's core properties have no field for a publisher, rights, a series or the people who
helped make a book; Word keeps them as custom properties (File › Properties › Custom, whose
own list offers "Publisher" and "Editor"), and ebook-builder's DOCX writes them there under
the names of the metadata keys ("rights", "series", "series position", a role such as
"translator"). A property is matched by its name, in any case; one that names no key is
reported, and what is carried is checked as `ebook check` checks it.
"""

from __future__ import annotations

import zipfile
from pathlib import Path
from typing import Any

from ebook_builder import metadata_fields
from ebook_builder.importers.packaged import read_xml
from ebook_builder.load import DATE
from ebook_builder.relators import RELATORS

CUSTOM = "docProps/custom.xml"
CUSTOM_NS = "{http://schemas.openxmlformats.org/officeDocument/2006/custom-properties}"
TEXT_KEYS = ("publisher", "rights", "edition")
# The creators' sort names, in the creators' order, as ebook-builder's DOCX writes them.
SORT_NAMES = "creators, sorted as"


def custom_metadata(
    package: zipfile.ZipFile, source: Path, creators: list[str], report: list[str]
) -> dict[str, Any]:
    """The keys the custom properties state; `creators` (names, from the core properties)
    take their sort names from "creators, sorted as" when it lists one for each."""
    if CUSTOM not in package.namelist():
        return {}
    properties: dict[str, str] = {}
    for prop in read_xml(package, CUSTOM, source, "docx").iter(f"{CUSTOM_NS}property"):
        value = " ".join("".join(prop.itertext()).split())
        if value:
            properties[" ".join(prop.get("name", "").lower().split())] = value
    stated: dict[str, Any] = {key: properties.pop(key) for key in TEXT_KEYS if key in properties}
    if DATE.match(properties.get("date", "")):
        stated["date"] = properties.pop("date")
    stated |= _series(properties, report)
    stated["contributors"] = [
        {"name": name.strip(), "role": role}
        for role in RELATORS
        for name in properties.pop(role, "").split(";")
        if name.strip()
    ]
    sort_names = [name.strip() for name in properties.get(SORT_NAMES, "").split(";")]
    if SORT_NAMES in properties and len(sort_names) == len(creators):
        del properties[SORT_NAMES]
        stated["creators"] = [
            {"name": name, "file_as": sort} if sort and sort != name else name
            for name, sort in zip(creators, sort_names, strict=True)
        ]
    for name, value in properties.items():
        report.append(f"metadata: custom property `{name}` not carried: {value[:80]}")
    for key in TEXT_KEYS:
        if len(stated.get(key, "")) > metadata_fields.TEXT_LIMIT:
            report.append(f"metadata: `{key}` not carried: longer than the metadata file takes")
            del stated[key]
    return stated


def _series(properties: dict[str, str], report: list[str]) -> dict[str, Any]:
    """`series` from "series" and "series position"; a position that is no number reported."""
    name, position = properties.pop("series", ""), properties.pop("series position", "")
    if not name:
        return {}
    series = {"name": name} | ({"position": position} if position else {})
    problems: list[str] = []
    metadata_fields.series(series, lambda _, message: problems.append(message))
    if problems and "position" in series:
        report.append(f"metadata: series position `{position}` not carried: not a number")
        del series["position"]
    return {"series": series}
