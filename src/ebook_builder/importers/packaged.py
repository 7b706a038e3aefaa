"""What the DOCX and EPUB readers share: the zip package checked, then pandoc's tree of it.

Both are zip files, and pandoc would unpack whatever it is given. So the package is
opened here first, with `zipfile`, and refused in one line before pandoc sees it when it
is not a zip, declares more members or more bytes than any book needs (a zip bomb), names
a member outside the package (`../`, an absolute path: zip slip), or does not unpack to
the sizes it declares. Only then does pandoc read it: a DOCX whole (`pandoc_tree`),
its pictures extracted into a temporary folder that `pandoc_markup.draft_from_tree`
copies them from; an EPUB a content document at a time (`epub.read_epub`).
"""

from __future__ import annotations

import io
import re
import zipfile
from pathlib import Path, PurePosixPath
from typing import Any

from lxml import etree

from ebook_builder.errors import BookError, InputError
from ebook_builder.importers.pandoc_markup import read_tree
from ebook_builder.markup.xhtml import safe_parser
from ebook_builder.pandoc import run_pandoc
from ebook_builder.sources import MB, read_input

PACKAGE_LIMIT = 200 * MB  # the file itself: a long illustrated book is a few tens of MB
UNPACKED_LIMIT = 500 * MB  # every member unpacked, as the central directory declares
MEMBER_LIMIT = 10_000  # members: a book has a file per chapter and picture
_NAMES = {"docx": "DOCX", "epub": "EPUB"}
# Dublin Core, in which a DOCX's core properties and an EPUB's OPF state the metadata.
DC = "{http://purl.org/dc/elements/1.1/}"
# An OLE compound file (Word 97-2003's container): Office saves a password-protected
# package as one, its zip encrypted in a stream named "EncryptedPackage" (MS-OFFCRYPTO).
_OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_ENCRYPTED_STREAM = "EncryptedPackage".encode("utf-16-le")


def open_package(source: Path, kind: str) -> tuple[bytes, zipfile.ZipFile]:
    """The package's bytes and its zip, every member read once and found as declared."""
    name = _NAMES[kind]
    data = read_input(source, PACKAGE_LIMIT, source)
    if data.startswith(_OLE_MAGIC):
        raise InputError(_ole_problem(data, name), path=source)
    try:
        package = zipfile.ZipFile(io.BytesIO(data))
    except zipfile.BadZipFile:
        raise InputError(f"not {name}: not a zip package", path=source) from None
    members = package.infolist()
    if len(members) > MEMBER_LIMIT:
        message = f"refused: {len(members):,} members in the package; at most {MEMBER_LIMIT:,}"
        raise InputError(message, path=source)
    declared = sum(member.file_size for member in members)
    if declared > UNPACKED_LIMIT:
        size = f"{declared / MB:,.0f} MB"
        raise InputError(
            f"refused: unpacks to {size}; at most {UNPACKED_LIMIT // MB} MB", path=source
        )
    for member in members:
        if _escapes(member.filename):
            message = f"refused: member {member.filename!r} lies outside the package (zip slip)"
            raise InputError(message, path=source)
    for member in members:  # zipfile stops at the declared size; the CRC catches a lie
        try:
            package.read(member)
        except (zipfile.BadZipFile, NotImplementedError, RuntimeError, OSError) as exc:
            message = f"not {name}: member {member.filename!r} cannot be read ({exc})"
            raise InputError(message, path=source) from None
    return data, package


def _ole_problem(data: bytes, name: str) -> str:
    """Why an OLE compound file is not read: "not a zip package" would send the user
    looking for a damaged file, when the cure is to save it again without a password (or,
    for a Word 97-2003 `.doc`, as `.docx`)."""
    if _ENCRYPTED_STREAM in data:
        return f"refused: the {name} is encrypted (password-protected); save it without a password"
    return f"not {name}: a Word 97-2003 document (.doc); save it as .docx"


def _escapes(member: str) -> bool:
    """A member name that would land outside a folder it is unpacked into."""
    path = PurePosixPath(member.replace("\\", "/"))
    return path.is_absolute() or ".." in path.parts or bool(re.match(r"[A-Za-z]:", member))


def read_xml(package: zipfile.ZipFile, member: str, source: Path, kind: str) -> Any:
    """A member of the package parsed by the safe parser (no entities, DTDs or network)."""
    try:
        return etree.fromstring(package.read(member), safe_parser())
    except KeyError:
        raise InputError(f"not {_NAMES[kind]}: no {member} in the package", path=source) from None
    except etree.XMLSyntaxError as exc:
        message = f"not {_NAMES[kind]}: {member} is not XML ({exc.msg})"
        raise InputError(message, path=source) from None


def cover_suffix(name: str) -> str | None:
    """The suffix a cover is written with (`covers/<id>.jpg|png`), or None for a picture
    the build cannot take as a cover."""
    return {".jpg": ".jpg", ".jpeg": ".jpg", ".png": ".png"}.get(PurePosixPath(name).suffix.lower())


def pandoc_tree(
    data: bytes, kind: str, media: Path, source: Path, extensions: str = ""
) -> dict[str, Any]:
    """Pandoc's JSON tree of the package (a DOCX), its pictures extracted under `media`;
    `extensions` of pandoc's reader (`+styles`) added."""
    args = [f"--from={kind}{extensions}", "--to=json", f"--extract-media={media}"]
    try:
        output = run_pandoc(args, data)
    except BookError as exc:
        raise InputError(f"not {_NAMES[kind]}: {exc}", path=source) from None
    return read_tree(output.decode("utf-8"), source)
