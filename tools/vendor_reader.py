"""Copies the in-browser reader, foliate-js, from its npm release into
`src/ebook_builder/data/reader/foliate-js/`, with its licence.

Not part of a build, nor of the package. `ebook preview` must work offline and show the
same reader every time, so the reader is package data, pinned here (`VERSION`) and
checked against the registry's own sha512 before a byte of it is copied. To move to a new
release: change `VERSION` and `INTEGRITY` (`npm view foliate-js@X.Y.Z dist.integrity`),
run `python tools/vendor_reader.py` and commit the new files.

Only the modules that `<foliate-view>` loads to paginate a reflowable EPUB (and so a
KEPUB) or a MOBI/KF8 (AZW3) file are copied: no tests, no build scripts, no demo reader,
no readers of formats we never write (FB2, comic books, dictionaries, OPDS), and no
fixed-layout renderer, whose one import is a bare npm name that a browser cannot resolve
and whose books we never make.
"""

from __future__ import annotations

import base64
import hashlib
import shutil
import subprocess
import tarfile
import tempfile
from pathlib import Path

PACKAGE = "foliate-js"
VERSION = "1.0.1"
# The registry's `dist.integrity` for that version: what `npm pack` must have fetched.
INTEGRITY = (
    "sha512-"
    "Cj4h2ub5aVA+yUgbhvVhCyxwi0GPF4pyNBa6Lw9+6WKY1ReBxipItn2kEBO6u7Vu/xYXjK711R74+t+yW/0u5w=="
)
# What view.js imports, at once or when a book needs it (paths inside the package).
FILES = (
    "LICENSE",
    "view.js",
    "epubcfi.js",
    "progress.js",
    "overlayer.js",
    "text-walker.js",
    "paginator.js",
    "epub.js",
    "mobi.js",
    "vendor/zip.js",
    "vendor/fflate.js",
)
TARGET = Path(__file__).resolve().parents[1] / "src" / "ebook_builder" / "data" / "reader" / PACKAGE


def npm_pack(into: Path) -> Path:
    """The release's tarball, fetched by npm itself (its registry, its proxy settings)."""
    name = subprocess.run(
        ["npm", "pack", f"{PACKAGE}@{VERSION}", "--pack-destination", str(into), "--silent"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout.split()[-1]
    return into / name


def check_integrity(tarball: Path) -> None:
    """Refuse a tarball whose sha512 is not the one the registry published for VERSION."""
    digest = base64.b64encode(hashlib.sha512(tarball.read_bytes()).digest()).decode()
    if f"sha512-{digest}" != INTEGRITY:
        raise SystemExit(f"{tarball.name}: sha512-{digest} is not the pinned {INTEGRITY}")


def copy_files(tarball: Path) -> int:
    """Replace TARGET with FILES from the tarball; returns their total size in bytes."""
    shutil.rmtree(TARGET, ignore_errors=True)
    total = 0
    with tarfile.open(tarball) as archive:
        for name in FILES:
            data = archive.extractfile(f"package/{name}").read()
            path = TARGET / name
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(data)
            total += len(data)
    return total


def main() -> None:
    with tempfile.TemporaryDirectory() as scratch:
        tarball = npm_pack(Path(scratch))
        check_integrity(tarball)
        total = copy_files(tarball)
    print(f"{PACKAGE} {VERSION}: {len(FILES)} files, {total} bytes in {TARGET}")


if __name__ == "__main__":
    main()
