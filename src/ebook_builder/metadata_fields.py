"""Stage 1, continued: the metadata fields that have a shape, checked.

`load` reads the plain text fields itself; this module reads the fields that have a shape:
`creators` (names, or `{name, file_as}`), `contributors` (`{name, role, file_as}`, the role
one of `relators.RELATORS`), `series` (`{name, position}`), `isbn` (one ISBN, or one per
edition) and `cover_color` (`#rrggbb`, a colour text can be set on). Each problem is
reported through `problem(where, message)`, where `where` is the dotted path of the value in
the file (`contributors.2.role`), so that `load` can name its line.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from ebook_builder.cover import palette
from ebook_builder.errors import shorten
from ebook_builder.model import Contributor, Isbns, Person, Series
from ebook_builder.relators import RELATORS

Problem = Callable[[str, str], None]
# Far beyond any store's limit (Amazon KDP takes a title of 200 characters, a description
# of 4,000), yet short enough for every writer: a Kindle EXTH record, a drawn cover.
TEXT_LIMIT = 5_000
# A series position: a whole or decimal number, as calibre's series index and EPUB 3's
# `group-position` both read it ("2", "1.5").
POSITION = re.compile(r"\A\d{1,6}(\.\d{1,3})?\Z")
# How much of an unknown role the error quotes: the known roles must fit the line after it.
ROLE_SHOWN = 24
# How much of a wrong `cover_color` the error quotes.
COLOR_SHOWN = 24
ISBN_EDITIONS = ("epub", "kindle", "print")
# The separators publishers print an ISBN with: "978-0-306-40615-7", "978 0 306 40615 7".
ISBN_SEPARATORS = re.compile(r"[\s-]")
URN_ISBN = re.compile(r"\Aurn:isbn:", re.IGNORECASE)


def creators(value: Any, problem: Problem) -> tuple[Person, ...]:
    """`creators`: each a name, or `{name, file_as}` where a library sorts it otherwise."""
    if value is None:
        return ()
    if isinstance(value, str | dict):
        value = [value]
    if not isinstance(value, list):
        problem("creators", "'creators' must be a list of names or of {name, file_as}")
        return ()
    people = []
    for number, entry in enumerate(value):
        where = f"creators.{number}"
        if isinstance(entry, str):
            entry = {"name": entry}
        fields = _fields(entry, where, ("name", "file_as"), "a name or {name, file_as}", problem)
        if fields is not None and (name := _name(fields, where, problem)):
            people.append(Person(name, _text(fields, "file_as", where, problem)))
    return tuple(people)


def contributors(value: Any, problem: Problem) -> tuple[Contributor, ...]:
    """`contributors`: `{name, role, file_as}`, the role named in words (`RELATORS`)."""
    if value is None:
        return ()
    if not isinstance(value, list):
        problem("contributors", "'contributors' must be a list of {name, role}")
        return ()
    people = []
    for number, entry in enumerate(value):
        where = f"contributors.{number}"
        shape = "{name, role} such as {name: Jane Doe, role: translator}"
        fields = _fields(entry, where, ("name", "role", "file_as"), shape, problem)
        if fields is None:
            continue
        name = _name(fields, where, problem)
        role = _role(fields.get("role"), f"{where}.role", problem)
        file_as = _text(fields, "file_as", where, problem)
        if name and role:
            people.append(Contributor(name, role, file_as))
    return tuple(people)


def series(value: Any, problem: Problem) -> Series | None:
    """`series`: `{name, position}`; the position a number, which readers sort by."""
    if value is None:
        return None
    shape = "{name, position} such as {name: The Cycle, position: 2}"
    fields = _fields(value, "series", ("name", "position"), shape, problem)
    if fields is None:
        return None
    name = _name(fields, "series", problem)
    position = fields.get("position")
    if isinstance(position, int | float) and not isinstance(position, bool):
        position = f"{position:g}"
    if position is not None and not (isinstance(position, str) and POSITION.match(position)):
        shown = repr(position) if isinstance(position, str) else kind(position)
        problem(
            "series.position", f"'series' position must be a number such as 2 or 1.5, not {shown}"
        )
        return None
    return Series(name, position) if name else None


def cover_color(raw: dict[str, Any], problem: Problem) -> str | None:
    """`cover_color`: the generated cover's field, `#rrggbb`, on which some ink reaches 7:1.

    Unquoted, `#1f3a5f` is a YAML comment and the key is left empty: that is named, not
    taken for "no colour". A colour of middling luminance has less than WCAG's 7:1 with
    every ink, white and black included; the error offers the nearest that have it.
    """
    if "cover_color" not in raw:
        return None
    value = raw["cover_color"]
    if value is None:
        problem("cover_color", "'cover_color' is empty: quote the colour, as in \"#1f3a5f\"")
        return None
    if not (isinstance(value, str) and palette.HEX_COLOR.match(value)):
        shown = shorten(repr(value), COLOR_SHOWN) if isinstance(value, str) else kind(value)
        problem("cover_color", f"'cover_color' must be a colour such as \"#1f3a5f\", not {shown}")
        return None
    field = palette.parse_hex(value)
    if palette.ink_for(field) is None:
        darker, lighter = (palette.hex_color(c) for c in palette.usable_neighbours(field))
        problem(
            "cover_color",
            f"no text colour reaches a contrast of 7:1 on 'cover_color' {value}; "
            f"a darker {darker} or a lighter {lighter} would",
        )
        return None
    return value.lower()


def isbns(value: Any, problem: Problem) -> Isbns:
    """`isbn`: one ISBN for the e-book (EPUB and Kindle alike), or one per edition.

    Each is checked against its check digit, as stores do when a book is submitted.
    """
    if value is None:
        return Isbns()
    if not isinstance(value, dict):
        ebook = isbn(value, "isbn", problem)
        return Isbns(epub=ebook, kindle=ebook)
    for key in sorted(set(map(str, value)) - set(ISBN_EDITIONS)):
        known = ", ".join(ISBN_EDITIONS)
        problem(f"isbn.{key}", f"unknown edition {key!r} under 'isbn' (known: {known})")
    found = {key: isbn(value[key], f"isbn.{key}", problem) for key in ISBN_EDITIONS if key in value}
    return Isbns(**found)


def isbn(value: Any, where: str, problem: Problem) -> str | None:
    """An ISBN-10 or ISBN-13 as its digits, once its check digit is right; else None.

    A 13-digit ISBN written without quotes is a number to YAML, and is taken as one; a
    shorter number may have lost a leading zero (or been read as octal), so it is refused.
    """
    if isinstance(value, int) and not isinstance(value, bool) and len(str(value)) == 13:
        value = str(value)
    label = where.replace(".", " ")  # "isbn print"
    if not isinstance(value, str):
        problem(where, f"'{label}' must be an ISBN in quotes, such as \"978-0-306-40615-7\"")
        return None
    digits = ISBN_SEPARATORS.sub("", URN_ISBN.sub("", value)).upper()
    if not re.fullmatch(r"\d{9}[\dX]|\d{13}", digits):
        problem(where, f"ISBN {value!r} must have 10 or 13 digits (the last of 10 may be X)")
        return None
    if (expected := check_digit(digits[:-1])) != digits[-1]:
        message = (
            f"ISBN {value!r} ends in {digits[-1]}, but its check digit is {expected}: mistyped?"
        )
        problem(where, message)
        return None
    return digits


def check_digit(body: str) -> str:
    """The last character of the ISBN that starts with `body` (12 or 9 digits).

    ISBN-13: the digits weighted 1, 3, 1, … and the check digit sum to a multiple of 10.
    ISBN-10: weighted 10 down to 2, with the check digit a multiple of 11; 10 is written X
    (ISO 2108; the International ISBN Agency's Users' Manual).
    """
    if len(body) == 12:
        return str(-sum(int(d) * (3 if i % 2 else 1) for i, d in enumerate(body)) % 10)
    remainder = -sum(int(d) * (10 - i) for i, d in enumerate(body)) % 11
    return "X" if remainder == 10 else str(remainder)


def _fields(
    entry: Any, where: str, known: tuple[str, ...], shape: str, problem: Problem
) -> dict[str, Any] | None:
    """`entry` as a mapping of `known` keys; an unknown key or another shape is a problem."""
    if not isinstance(entry, dict):
        problem(where, f"'{_shown(where)}' must be {shape}, not {kind(entry)}")
        return None
    unknown = sorted(set(map(str, entry)) - set(known))
    for key in unknown:
        problem(
            f"{where}.{key}",
            f"unknown key {key!r} under '{_shown(where)}' (known: {', '.join(known)})",
        )
    return None if unknown else entry


def _name(fields: dict[str, Any], where: str, problem: Problem) -> str | None:
    """The entry's `name`, which every entry needs."""
    written = fields.get("name")
    if written is None or (isinstance(written, str) and not written.strip()):
        problem(where, f"'{_shown(where)}' needs a 'name'")
    return _text(fields, "name", where, problem)


def _text(fields: dict[str, Any], key: str, where: str, problem: Problem) -> str | None:
    """A text value of an entry, stripped; None where absent or wrong (then a problem)."""
    value = fields.get(key)
    if value is None:
        return None
    if not isinstance(value, str):
        problem(f"{where}.{key}", f"'{key}' of '{_shown(where)}' must be text, not {kind(value)}")
        return None
    if len(value) > TEXT_LIMIT:
        length = f"{len(value):,} characters long; at most {TEXT_LIMIT:,}"
        problem(f"{where}.{key}", f"'{key}' of '{_shown(where)}' is {length}")
        return None
    return value.strip() or None


def _role(value: Any, where: str, problem: Problem) -> str | None:
    """A role in words, as `RELATORS` names it (any case); an unknown one lists the known."""
    role = " ".join(value.lower().split()) if isinstance(value, str) else None
    if role in RELATORS:
        return role
    known = ", ".join(RELATORS)
    if value is None:
        problem(where, f"a contributor needs a 'role': {known}")
    else:
        shown = shorten(repr(value), ROLE_SHOWN) if isinstance(value, str) else kind(value)
        problem(where, f"unknown role {shown}; known: {known}")
    return None


def _shown(where: str) -> str:
    """A dotted path as a user reads it: `contributors.0` is contributor 1."""
    key, _, rest = where.partition(".")
    if rest.isdigit():
        return f"{key} entry {int(rest) + 1}"
    return where


def kind(value: Any) -> str:
    """What YAML made of a value, in a user's words."""
    names = {list: "a list", dict: "a mapping", bool: "true or false", type(None): "empty"}
    return names.get(type(value), type(value).__name__)
