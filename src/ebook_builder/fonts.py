"""The book face every design sets its text in, and the facts its colophon and README state.

Source Serif Pro (Adobe, SIL Open Font License 1.1), from the PyPI package
`font-source-serif-pro`: the OFL lets a book embed the face without obfuscation as long as
the licence travels with it.
"""

from __future__ import annotations

from importlib.resources import as_file, files
from pathlib import Path

FACE_NAME = "Source Serif Pro"
FACE_LICENCE = "SIL Open Font License 1.1"
FACE_FILES = {
    "regular": "SourceSerifPro-Regular.ttf",
    "italic": "SourceSerifPro-It.ttf",
    "bold": "SourceSerifPro-Bold.ttf",
    "bold-italic": "SourceSerifPro-BoldIt.ttf",
}


def face_file(style: str) -> Path:
    """The installed font file of one style of the face (a key of `FACE_FILES`)."""
    with as_file(files("font_source_serif_pro").joinpath("files", FACE_FILES[style])) as path:
        return path
