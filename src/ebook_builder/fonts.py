"""The book face every design sets its text in, and the facts its colophon and README state.

Source Serif Pro (Adobe, SIL Open Font License 1.1), from the PyPI package
`font-source-serif-pro`: the OFL lets a book embed the face without obfuscation as long as
the licence travels with it.
"""

FACE_NAME = "Source Serif Pro"
FACE_LICENCE = "SIL Open Font License 1.1"
