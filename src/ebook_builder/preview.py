"""Serve one book's built files to a browser on this machine, rebuilt as its sources change.

Not a stage: `ebook preview` runs `watch.watch` for one book and serves what it writes.
The server answers on 127.0.0.1 only, and only for a fixed list of names, the book's
files in the formats a browser reader can show: a request is matched against that list
as sent, undecoded, so no spelling of a path (`..`, `%2e%2e`, `%2f`, a backslash, an
absolute path) reaches the file system. A page of another site could still reach the
port through DNS rebinding (its own name resolved to 127.0.0.1): such a request carries
that name as its `Host`, and is refused.

The build is all or nothing (`api.build`), so after a failed build the folder still holds
the last good files, and those stay served; the failure goes to the page as an event.
The standard library's threading server is enough for one user: each connection has its
own daemon thread and a socket timeout, so a malformed request or a client that stops
half-way costs one thread for a few seconds, never the server.
"""

from __future__ import annotations

import json
import mimetypes
import queue
import threading
from collections.abc import Callable
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from importlib.resources import files
from pathlib import Path
from urllib.parse import urlencode, urlsplit

from ebook_builder import api
from ebook_builder import watch as watching
from ebook_builder.errors import UsageError
from ebook_builder.formats import FORMATS, OutputFormat
from ebook_builder.load import Project, chosen_book

HOST = "127.0.0.1"
# The formats a reader in the browser renders, the DOCX left out, which none shows; in the
# order they are built after a change. The EPUB, which the page opens first, is built on its
# own and announced at once: an edit reaches the page after one writer, not four.
PREVIEW_FORMATS = ("epub", "kepub", "azw3", "mobi")
BUILT_FIRST = PREVIEW_FORMATS[:1]
BUILT_NEXT = PREVIEW_FORMATS[1:]
# The names a browser may send in `Host` for this machine, with or without the port.
LOCAL_NAMES = ("localhost", HOST)
# Seconds a connection may stay silent while it sends its request: a slow or stalled
# client then holds one thread for this long, never the server.
REQUEST_TIMEOUT = 5.0
# Seconds between comments sent on an idle event stream: a write is how the server finds
# that the page has gone, and it ends that stream's thread.
KEEPALIVE = 15.0
# Seconds between polls of the sources: half `ebook watch`'s, as a save is watched for here
# (the page should show it within half a second) and a poll of one book costs under a
# millisecond.
POLL_INTERVAL = 0.05
# The bundled reader (foliate-js and our page, `data/reader/`), served at the site's root.
READER = "data/reader"
READER_PAGE = "/index.html"
# What the reader's page may load, sent with it: what foliate-js needs to show our books in
# every format, and nothing more (each source here, taken away, made Chromium refuse part
# of the tour book). The book's documents are blob: iframes, which inherit this policy:
# it also keeps a book's own scripts from running.
CONTENT_SECURITY_POLICY = "; ".join(
    (
        "default-src 'none'",  # anything not named below
        "script-src 'self'",  # our module and foliate-js's, from this server
        "connect-src 'self'",  # the book's file (fetch) and the build events
        "frame-src blob:",  # each book document, unpacked into a blob: address
        "img-src blob: data:",  # the book's pictures, unpacked; the page's empty icon
        "font-src blob:",  # the book's embedded fonts, unpacked
        # reader.css; the book's stylesheets, unpacked; and the <style> elements foliate-js
        # writes into its shadow roots and into the book's documents (theme, text size)
        "style-src 'self' blob: 'unsafe-inline'",
        "base-uri 'none'",
        "form-action 'none'",
        "frame-ancestors 'none'",  # no other site may frame the preview
    )
)


class Events:
    """Each open event stream's queue; `publish` puts one message in every queue."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._queues: list[queue.SimpleQueue[str | None]] = []

    def subscribe(self) -> queue.SimpleQueue[str | None]:
        stream: queue.SimpleQueue[str | None] = queue.SimpleQueue()
        with self._lock:
            self._queues.append(stream)
        return stream

    def unsubscribe(self, stream: queue.SimpleQueue[str | None]) -> None:
        with self._lock:
            self._queues.remove(stream)

    def publish(self, message: str | None) -> None:
        """Send `message` to every stream; None ends them (the server is closing)."""
        with self._lock:
            for stream in self._queues:
                stream.put(message)


def build_event(result: watching.BuildResult, files: list[str]) -> str:
    """A finished build as the JSON the page reads: ok, the addresses of the files it made
    (`/files/<name>`: a page reloads only when its own file is among them), and the
    problems as `file:line: message`."""
    ok = result.error is None
    event = {"ok": ok, "files": files if ok else [], "problems": [] if ok else result.error.lines()}
    return json.dumps(event, ensure_ascii=False)


def reader_assets() -> dict[str, Path]:
    """The reader's files by the path the site serves each at (`/foliate-js/view.js`)."""
    root = Path(str(files("ebook_builder").joinpath(READER)))
    return {
        "/" + path.relative_to(root).as_posix(): path for path in root.rglob("*") if path.is_file()
    }


class PreviewServer(ThreadingHTTPServer):
    """The HTTP server of one book's preview: its files, its events and the reader."""

    daemon_threads = True

    def __init__(self, book_id: str, outputs: Path, port: int = 0) -> None:
        self.book_id = book_id
        self.outputs = outputs
        self.files: dict[str, OutputFormat] = {
            book_id + FORMATS[name].suffix: FORMATS[name] for name in PREVIEW_FORMATS
        }
        self.assets = reader_assets()
        self.events = Events()
        super().__init__((HOST, port), PreviewHandler)

    @property
    def url(self) -> str:
        return f"http://{HOST}:{self.server_address[1]}/"

    def file_address(self, format_name: str) -> str:
        """Where the book's file in a format is served: `/files/<book-id><suffix>`."""
        return f"/files/{self.book_id}{FORMATS[format_name].suffix}"

    def reader_url(self, format_name: str) -> str:
        """The reader's page on the book's file in a format, not following the builds."""
        return f"{self.url.rstrip('/')}{READER_PAGE}?book={self.file_address(format_name)}"

    def start(self) -> None:
        """Answer requests on a thread of its own, until `close`."""
        threading.Thread(target=self.serve_forever, daemon=True).start()

    def allowed_hosts(self) -> set[str]:
        port = self.server_address[1]
        return {*LOCAL_NAMES, *(f"{name}:{port}" for name in LOCAL_NAMES)}

    def close(self) -> None:
        """Stop answering, end the open event streams and free the port."""
        self.shutdown()
        self.events.publish(None)
        self.server_close()


class PreviewHandler(BaseHTTPRequestHandler):
    """Routes, each matched exactly: `/` (sent on to the reader with the book's EPUB),
    the reader's own files, `/events` and `/files/<name>`."""

    server: PreviewServer
    timeout = REQUEST_TIMEOUT

    def do_GET(self) -> None:  # the name http.server calls
        if self.headers.get("Host", "").lower() not in self.server.allowed_hosts():
            self.send_error(HTTPStatus.FORBIDDEN, "not a local address")
            return
        path = urlsplit(self.path).path
        name = path.removeprefix("/files/")
        if path == "/":
            self._send_to_reader()
        elif path in self.server.assets:
            self._send_asset(path)
        elif path == "/events":
            self._stream_events()
        elif name != path and name in self.server.files:
            self._send_file(name)
        else:
            self.send_error(HTTPStatus.NOT_FOUND)

    def _send(
        self, status: HTTPStatus, media_type: str, body: bytes, policy: str | None = None
    ) -> None:
        self.send_response(status)
        self.send_header("Content-Type", media_type)
        if policy is not None:
            self.send_header("Content-Security-Policy", policy)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-store")  # a rebuild changes the file, not its name
        self.send_header("X-Content-Type-Options", "nosniff")
        self.end_headers()
        self.wfile.write(body)

    def _send_file(self, name: str) -> None:
        """One built file, read whole: a rebuild renames its files into place, so an open
        file is always one complete build's."""
        try:
            body = (self.server.outputs / name).read_bytes()
        except OSError:
            self.send_error(HTTPStatus.NOT_FOUND, "not built")
            return
        self._send(HTTPStatus.OK, self.server.files[name].media_type, body)

    def _stream_events(self) -> None:
        """Server-Sent Events: one `data:` line of JSON per finished build, until the page
        goes or the server closes."""
        self.send_response(HTTPStatus.OK)
        self.send_header("Content-Type", "text/event-stream; charset=utf-8")
        self.send_header("Cache-Control", "no-store")
        self.end_headers()
        stream = self.server.events.subscribe()
        try:
            self.wfile.flush()
            while True:
                try:
                    message = stream.get(timeout=KEEPALIVE)
                except queue.Empty:
                    self.wfile.write(b": keepalive\n\n")
                else:
                    if message is None:
                        return
                    self.wfile.write(f"data: {message}\n\n".encode())
                self.wfile.flush()
        except OSError:  # the page went away (closed, reloaded, timed out)
            return
        finally:
            self.server.events.unsubscribe(stream)

    def _send_to_reader(self) -> None:
        """`/` opens the reader on the book's EPUB, live (it reloads after each rebuild),
        with a switch to each format's file (`format=AZW3:/files/<book-id>.azw3`)."""
        address = self.server.file_address
        choices = [("format", f"{name.upper()}:{address(name)}") for name in PREVIEW_FORMATS]
        query = urlencode([("book", address("epub")), ("live", "1"), *choices], safe="/:")
        self.send_response(HTTPStatus.FOUND)
        self.send_header("Location", f"{READER_PAGE}?{query}")
        self.send_header("Content-Length", "0")
        self.end_headers()

    def _send_asset(self, path: str) -> None:
        """One of the reader's files. Module scripts must come as JavaScript (`nosniff`)."""
        media_type = mimetypes.guess_type(path)[0] or "application/octet-stream"
        if media_type.startswith("text/") or media_type.endswith("javascript"):
            media_type += "; charset=utf-8"
        policy = CONTENT_SECURITY_POLICY if media_type.startswith("text/html") else None
        self._send(HTTPStatus.OK, media_type, self.server.assets[path].read_bytes(), policy)

    def log_message(self, format: str, *args: object) -> None:
        """Say nothing: the library never prints (the CLI reports the builds)."""


def preview(
    root: Path,
    book_id: str | None,
    port: int,
    on_url: Callable[[str], None],
    on_result: Callable[[watching.BuildResult], None],
    stop: threading.Event,
    interval: float = POLL_INTERVAL,
) -> None:
    """Serve the book on `port` (0: a free one), then build it and rebuild it on every
    change, until `stop` is set or the caller is interrupted.

    `on_url` hears the address once the port is bound, before the first build; each build
    goes to `on_result` and, as an event, to the open pages.
    """
    chosen = chosen_book(Project(root), book_id, "preview")
    try:
        server = PreviewServer(chosen, (root / api.DEFAULT_OUT).resolve(), port)
    except OSError as exc:
        raise UsageError(f"cannot serve on {HOST}:{port}: {exc.strerror or exc}") from None

    def announce(result: watching.BuildResult, formats: tuple[str, ...]) -> None:
        files = [server.file_address(name) for name in formats]
        server.events.publish(build_event(result, files))
        on_result(result)

    def finished(result: watching.BuildResult) -> None:
        """The EPUB is built: announce it, then build and announce the other formats."""
        announce(result, BUILT_FIRST)
        if result.error is None:
            announce(watching.build_book(root, chosen, list(BUILT_NEXT), None), BUILT_NEXT)

    server.start()
    try:
        on_url(server.url)
        watching.watch(root, [chosen], list(BUILT_FIRST), None, finished, stop, interval)
    finally:
        server.close()
