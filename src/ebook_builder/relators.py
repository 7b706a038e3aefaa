"""The contributor roles a metadata file may name, and their MARC relator codes.

EPUB 3 states a contributor's role as a code of the MARC Code List for Relators
(`<meta refines="#id" property="role" scheme="marc:relators">trl</meta>`); readers and
stores translate the code into their own words. A metadata file names the role in words
("translator"), which this table turns into the code.

The Library of Congress deprecated "author of introduction, etc." (`aui`) in 2025 in favour
of one code each for a foreword (`wfw`), an introduction (`win`) and a preface (`wpr`); we
write the new codes, and read `aui` in a source as an introduction.

The roles are those a book's credits name; the list is kept short enough to be quoted
whole in the one-line error for a role it lacks (`contributor` is the catch-all).
"""

from __future__ import annotations

RELATORS: dict[str, str] = {
    "editor": "edt",
    "translator": "trl",
    "illustrator": "ill",
    "introduction": "win",
    "foreword": "wfw",
    "preface": "wpr",
    "afterword": "aft",
    "cover designer": "cov",
    "photographer": "pht",
    "annotator": "ann",
    "compiler": "com",
    "adapter": "adp",
    "contributor": "ctb",
}

# A code a source may use for a role this table names in words: the deprecated `aui`.
ROLE_OF_CODE: dict[str, str] = {code: role for role, code in RELATORS.items()} | {
    "aui": "introduction"
}

# How an imprint credits each role: "Translated by A and B."
CREDITS: dict[str, str] = {
    "editor": "Edited by",
    "translator": "Translated by",
    "illustrator": "Illustrated by",
    "introduction": "Introduction by",
    "foreword": "Foreword by",
    "preface": "Preface by",
    "afterword": "Afterword by",
    "cover designer": "Cover design by",
    "photographer": "Photographs by",
    "annotator": "Notes by",
    "compiler": "Compiled by",
    "adapter": "Adapted by",
    "contributor": "With contributions by",
}
