"""`ebook preview`'s server: the built files and nothing else, refused foreign hosts, events
after each rebuild, a server that outlives bad clients, and a reader page whose
Content-Security-Policy lets every format render."""

from __future__ import annotations

import http.client
import json
import queue
import shutil
import signal
import socket
import subprocess
import sys
import threading
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page
from typer.testing import CliRunner

from ebook_builder import preview as previewing
from ebook_builder.cli import app
from ebook_builder.watch import BuildResult
from tests.browser import frame_text, shown_text, wait_for_text
from tests.helpers import TOUR

INTERVAL = 0.01


@dataclass
class Running:
    """A preview on its own thread: its address and its builds as they finish."""

    port: int
    results: queue.Queue[BuildResult]

    def request(
        self, path: str, host: str | None = None, timeout: float = 10
    ) -> http.client.HTTPResponse:
        """GET `path` as sent, unnormalised, with `Host` as given (default: the server's)."""
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)
        connection.putrequest("GET", path, skip_host=True)
        connection.putheader("Host", host if host is not None else f"127.0.0.1:{self.port}")
        connection.endheaders()
        return connection.getresponse()

    def next_result(self) -> BuildResult:
        """One change's builds: the EPUB's, then after a good one the other formats'; the
        first that failed, or the last."""
        first = self.results.get(timeout=30)
        return first if first.error is not None else self.results.get(timeout=30)


@contextmanager
def previewed(root: Path, book_id: str | None = "demo") -> Iterator[Running]:
    results: queue.Queue[BuildResult] = queue.Queue()
    urls: queue.Queue[str] = queue.Queue()
    stop = threading.Event()
    failures: list[BaseException] = []

    def run() -> None:
        try:
            previewing.preview(root, book_id, 0, urls.put, results.put, stop, INTERVAL)
        except BaseException as exc:
            failures.append(exc)

    thread = threading.Thread(target=run)
    thread.start()
    try:
        url = urls.get(timeout=10)
        assert url.startswith("http://127.0.0.1:") and url.endswith("/")
        yield Running(int(url.rsplit(":", 1)[1].rstrip("/")), results)
    finally:
        stop.set()
        thread.join(timeout=30)
    assert not thread.is_alive()
    assert not failures, failures


class EventStream:
    """A client of `/events` on a plain socket, reading one `data:` line at a time."""

    def __init__(self, running: Running) -> None:
        self.socket = socket.create_connection(("127.0.0.1", running.port), timeout=10)
        host = f"127.0.0.1:{running.port}"
        self.socket.sendall(f"GET /events HTTP/1.1\r\nHost: {host}\r\n\r\n".encode())
        self.lines = self.socket.makefile("rb")
        head = iter(self.lines.readline, b"\r\n")
        assert next(head).startswith(b"HTTP/1.0 200")
        assert b"Content-Type: text/event-stream; charset=utf-8\r\n" in list(head)

    def next_event(self) -> dict[str, object]:
        while True:
            line = self.lines.readline().decode()
            if line.startswith("data: "):
                return json.loads(line[len("data: ") :])

    def assert_quiet(self) -> None:
        """No further event: long enough for a second build to have been seen and sent."""
        self.socket.settimeout(0.3)
        with pytest.raises(TimeoutError):
            self.next_event()


@pytest.fixture
def book(make_project) -> Path:
    return make_project.book(chapters={"01-one.md": "# One\n\nThe first text.\n"})


def test_serves_the_built_files_and_a_page(book, make_project):
    with previewed(make_project.root) as running:
        assert running.next_result().error is None
        dist = make_project.root / "dist"
        for name, media_type in [
            ("demo.epub", "application/epub+zip"),
            ("demo.kepub.epub", "application/epub+zip"),
            ("demo.azw3", "application/vnd.amazon.ebook"),
            ("demo.mobi", "application/x-mobipocket-ebook"),
        ]:
            response = running.request(f"/files/{name}")
            assert (response.status, response.headers["Content-Type"]) == (200, media_type)
            assert response.read() == (dist / name).read_bytes()
        opening = running.request("/")
        assert opening.status == 302
        assert opening.headers["Location"] == (
            "/index.html?book=/files/demo.epub&live=1&format=EPUB:/files/demo.epub"
            "&format=KEPUB:/files/demo.kepub.epub&format=AZW3:/files/demo.azw3"
            "&format=MOBI:/files/demo.mobi"
        )
        reader = running.request("/reader.js")
        assert reader.headers["Content-Type"].startswith(
            ("text/javascript", "application/javascript")
        )
        assert b"EventSource" in reader.read()
        assert running.request("/foliate-js/view.js").status == 200


TRAVERSALS = [
    "/files/../metadata/demo.yaml",
    "/files/%2e%2e/metadata/demo.yaml",
    "/files/%2E%2E%2Fmetadata%2Fdemo.yaml",
    "/files/..%2fmetadata%2fdemo.yaml",
    "/files/..\\metadata\\demo.yaml",
    "/files//etc/passwd",
    "/files/%2fetc%2fpasswd",
    "/../../etc/passwd",
    "/files/",
    "/files",
    "/files/demo.docx",
    "/files/demo.azw3.jpg",
    "/files/.demo.epub.1.tmp",
    "/files/demo.epub/",
    "/files/./demo.epub",
    "/files/demo%2eepub",
    "/files?demo.epub",
    "http://evil.example/files/../metadata/demo.yaml",
]
FOREIGN_HOSTS = ["evil.example", "evil.example:80", "127.0.0.1.evil.example", "localhost:1", ""]


def test_nothing_but_the_files_is_served(book, make_project):
    (make_project.root / "dist").mkdir()
    (make_project.root / "dist" / "demo.docx").write_bytes(b"not for the browser")
    with previewed(make_project.root) as running:
        running.next_result()
        refused = {path: running.request(path) for path in TRAVERSALS}
        assert {path: response.status for path, response in refused.items()} == dict.fromkeys(
            TRAVERSALS, 404
        )
        assert not any(b"Demo Book" in response.read() for response in refused.values())


def test_a_foreign_host_is_refused(book, make_project):
    """DNS rebinding: a page of another site that reaches the port names its own host."""
    with previewed(make_project.root) as running:
        running.next_result()
        for host in FOREIGN_HOSTS:
            for path in ("/", "/files/demo.epub", "/events"):
                assert running.request(path, host=host).status == 403, (host, path)
        assert running.request("/", host="localhost").status == 302
        assert running.request("/", host=f"LOCALHOST:{running.port}").status == 302


def test_bad_clients_do_not_stop_the_server(book, make_project, monkeypatch):
    monkeypatch.setattr(previewing.PreviewHandler, "timeout", 0.5)
    with previewed(make_project.root) as running:
        running.next_result()
        for garbage, answer in [
            (b"\x16\x03\x01 A TLS HELLO, NOT HTTP\r\n\r\n", b"Error code: 400"),
            (b"GET / HTTP/9.9\r\n\r\n", b"Error code: 505"),
            (b"GET /" + b"a" * 70_000 + b" HTTP/1.1\r\n\r\n", b"Error code: 414"),
        ]:
            with socket.create_connection(("127.0.0.1", running.port), timeout=5) as malformed:
                malformed.sendall(garbage)
                assert answer in malformed.makefile("rb").read()
        stalled = socket.create_connection(("127.0.0.1", running.port), timeout=5)
        stalled.sendall(b"GET /files/demo.epub HTT")  # and nothing more
        assert running.request("/files/demo.epub", timeout=2).status == 200
        assert stalled.recv(100) == b""  # dropped once its time is up
        stalled.close()
        assert running.request("/", timeout=2).status == 302


EPUB_BUILT = {"ok": True, "files": ["/files/demo.epub"], "problems": []}
OTHERS_BUILT = {
    "ok": True,
    "files": ["/files/demo.kepub.epub", "/files/demo.azw3", "/files/demo.mobi"],
    "problems": [],
}


def test_an_edit_announces_the_epub_then_the_other_formats(book, make_project):
    chapter = book / "01-one.md"
    with previewed(make_project.root) as running:
        running.next_result()
        dist = make_project.root / "dist"
        before = {
            name: running.request(f"/files/{name}").read() for name in ("demo.epub", "demo.azw3")
        }
        events = EventStream(running)
        chapter.write_text("# One\n\nThe edited text.\n", encoding="utf-8")
        assert events.next_event() == EPUB_BUILT
        assert events.next_event() == OTHERS_BUILT
        assert running.next_result().error is None
        for name, old in before.items():
            new = running.request(f"/files/{name}").read()
            assert new != old
            assert new == (dist / name).read_bytes()
        events.assert_quiet()


def test_a_broken_edit_sends_its_problem_and_the_last_good_file_stays(book, make_project):
    chapter = book / "01-one.md"
    with previewed(make_project.root) as running:
        running.next_result()
        good = running.request("/files/demo.epub").read()
        events = EventStream(running)
        chapter.write_text("# One\n\nSee [there](#gone).\n", encoding="utf-8")
        assert events.next_event() == {
            "ok": False,
            "files": [],
            "problems": [
                "book/demo/01-one.md:3: broken internal link '#gone': no such id in the book"
            ],
        }
        assert running.next_result().error is not None
        assert running.request("/files/demo.epub").read() == good
        chapter.write_text("# One\n\nThe text mended.\n", encoding="utf-8")
        assert events.next_event() == EPUB_BUILT
        assert b"The text mended." not in good
        assert running.request("/files/demo.epub").read() != good


def test_the_command_prints_its_address_first_and_stops_cleanly_on_ctrl_c(book, make_project):
    command = [sys.executable, "-m", "ebook_builder", "preview", "--no-browser"]
    process = subprocess.Popen(
        command, cwd=make_project.root, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    try:
        assert process.stdout is not None
        url = process.stdout.readline().strip()
        assert url.startswith("http://127.0.0.1:")
        assert process.stdout.readline().startswith("built demo in ")
        with urllib.request.urlopen(url + "files/demo.epub", timeout=10) as response:
            assert response.read() == (make_project.root / "dist" / "demo.epub").read_bytes()
        process.send_signal(signal.SIGINT)
        assert process.wait(timeout=10) == 0
    finally:
        process.kill()


def test_a_port_in_use_is_bad_usage(book, make_project):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        args = ["preview", "--no-browser", "--port", str(port), "-C", str(make_project.root)]
        result = CliRunner().invoke(app, args)
    assert result.exit_code == 2
    assert f"error: cannot serve on 127.0.0.1:{port}: Address already in use" in result.output
    assert not (make_project.root / "dist").exists()


# In the browser: the bundled reader as `ebook preview` opens it, following the builds.

LONG_CHAPTER = "# Two\n\n" + "".join(f"Paragraph {n} of the second chapter.\n\n" for n in range(60))


@contextmanager
def preview_page(browser: Browser, root: Path, first_text: str) -> Iterator[Page]:
    """The preview of `root`'s book open in Chromium, once its first build shows `first_text`."""
    with previewed(root) as running:
        running.next_result()
        context = browser.new_context(viewport={"width": 800, "height": 600})
        try:
            page = context.new_page()
            page.goto(f"http://127.0.0.1:{running.port}/")
            wait_for_text(page, first_text)
            yield page
        finally:
            context.close()


def book_backgrounds(page: Page) -> list[str]:
    """The computed background of each book document shown (foliate-js's iframes)."""
    return [
        frame.evaluate("getComputedStyle(document.body).backgroundColor")
        for frame in page.frames
        if frame is not page.main_frame and frame_text(frame)
    ]


NIGHT = "rgb(18, 18, 18)"  # reader.js's night background


def test_the_browser_shows_an_edit_at_the_same_place_without_a_manual_reload(
    browser: Browser, make_project
):
    """The reopened book also keeps the reader's settings (night, here)."""
    book = make_project.book(
        chapters={"01-one.md": "# One\n\nThe first text.\n", "02-two.md": LONG_CHAPTER}
    )
    with preview_page(browser, make_project.root, "The first text.") as page:
        page.get_by_label("Theme").select_option(label="Night")
        page.get_by_role("button", name="Next page").click()
        page.wait_for_timeout(300)
        page.get_by_role("button", name="Next page").click()
        page.wait_for_function(
            "() => document.getElementById('place').textContent.startsWith('Two')"
        )
        page.wait_for_timeout(300)
        place = page.locator("#place").text_content()
        (book / "02-two.md").write_text(
            LONG_CHAPTER.replace("Paragraph 0 of", "Paragraph zero of"), encoding="utf-8"
        )
        wait_for_text(page, "Paragraph zero of the second chapter.")
        page.wait_for_function(f"() => document.getElementById('place').textContent === {place!r}")
        assert book_backgrounds(page) == [NIGHT]


def test_the_format_switch_shows_the_kindle_files_as_a_reader_reads_them(
    browser: Browser, book, make_project
):
    """The reader's settings (kept in localStorage) follow from one file to the next."""
    with preview_page(browser, make_project.root, "The first text.") as page:
        page.get_by_label("Device").select_option(label="Phone")
        page.get_by_label("Theme").select_option(label="Night")
        for label in ("AZW3", "MOBI", "KEPUB"):
            page.get_by_label("Format").select_option(label=label)
            page.wait_for_url(f"**book=%2Ffiles%2Fdemo.{label.lower()}*")
            wait_for_text(page, "The first text.")
            assert page.locator("#problem").count() == 0
            assert page.get_by_label("Device").input_value() == "phone"
            assert book_backgrounds(page) == [NIGHT]


def test_the_browser_shows_a_broken_edits_problem_over_the_last_good_book(
    browser: Browser, book, make_project
):
    with preview_page(browser, make_project.root, "The first text.") as page:
        (book / "01-one.md").write_text("# One\n\nSee [there](#gone).\n", encoding="utf-8")
        problems = page.locator("#problems")
        problems.wait_for(state="visible")
        assert problems.text_content() == (
            "book/demo/01-one.md:3: broken internal link '#gone': no such id in the book"
        )
        assert "The first text." in shown_text(page)


def test_the_reader_page_has_a_content_security_policy_that_every_format_keeps(
    browser: Browser, fixture_project: Path, tmp_path: Path
):
    """The whole tour book (pictures, fonts, notes, tables), read in the EPUB and the AZW3,
    with no request or style that the page's policy refuses."""
    root = tmp_path / "project"
    shutil.copytree(fixture_project, root, ignore=shutil.ignore_patterns("dist"))
    with previewed(root, TOUR) as running:
        running.next_result()
        policy = running.request("/index.html").headers["Content-Security-Policy"]
        assert "default-src 'none'" in policy and "script-src 'self'" in policy
        context = browser.new_context(viewport={"width": 800, "height": 600})
        refusals: list[str] = []
        context.add_init_script(
            "document.addEventListener('securitypolicyviolation', event =>"
            " console.error(`refused ${event.violatedDirective} ${event.blockedURI}`))"
        )
        try:
            page = context.new_page()
            page.on("console", lambda message: refusals.append(message.text))
            page.goto(f"http://127.0.0.1:{running.port}/")
            for book_format in ("EPUB", "AZW3"):
                page.get_by_label("Format").select_option(label=book_format)
                wait_for_text(page, "This chapter has")
                page.get_by_role("button", name="Contents").click()
                for entry in page.locator("#contents button").all():
                    entry.click()
                    page.wait_for_timeout(300)  # foliate-js's page-turn lock
                assert "Write to" in shown_text(page)
        finally:
            context.close()
    assert [text for text in refusals if "refused" in text or "Security Policy" in text] == []
