"""Running pandoc: many documents per process, through the batch interface of its server.

Started as `pandoc-server.cgi`, the pandoc binary answers one HTTP request read from its
standard input (CGI) and exits: no socket, no port. A `POST /batch` request converts a
list of documents in one process, so a book of a thousand chapters costs a few process
starts rather than a thousand. The server mode is pandoc's sandbox: it reads and writes
no file. Documents are grouped into batches of bounded size, one process per core at a
time, so that memory grows with the batch, not with the book.
"""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
import subprocess
from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from functools import cache
from typing import Any

from ebook_builder import __version__
from ebook_builder.cache.chapters import ChapterCache
from ebook_builder.cache.keys import cache_key
from ebook_builder.cores import usable_cores
from ebook_builder.errors import BookError, UsageError

# What a chapter cache entry holds: a new layout gets new keys, never an entry it cannot read.
ENTRY_LAYOUT = "json:output,warnings"
PROCESSES_VARIABLE = "EBOOK_PANDOC_PROCESSES"
BATCH_CHARACTERS = 1 << 19  # Markdown or HTML per process, before it starts a new batch
# How long pandoc may take on an input: far more than it needs on any book (it reads
# about 1.5 MB of Markdown a second), and a bound on what `limits` does not foresee.
TIMEOUT_BASE_SECONDS = 30
TIMEOUT_SECONDS_PER_MB = 10
CGI_NAME = "pandoc-server.cgi"  # the program name that makes the binary answer as CGI
CGI_ENVIRONMENT = {
    "REQUEST_METHOD": "POST",
    "PATH_INFO": "/batch",
    "CONTENT_TYPE": "application/json",
    "HTTP_ACCEPT": "application/json",
    "SERVER_NAME": "localhost",
    "SERVER_PORT": "0",
    "SERVER_PROTOCOL": "HTTP/1.1",
    "REMOTE_ADDR": "127.0.0.1",
    # The server gives up on a request after 2 s unless told otherwise; a batch of a large
    # book takes longer. `_run`'s own bound stops pandoc long before this day is over.
    "PANDOC_SERVER_TIMEOUT": "86400",
}
# Pandoc's runtime starts with a 64 MB heap (its build's `-with-rtsopts=-H64m`), though a
# batch's live data stays near 10 MB: started with none (`GHCRTS`, which every program
# built by GHC reads), it takes about 40 MB less memory, 177 against 138 MB writing a
# 50,000-word DOCX, in no more time. A catalog worker's pandoc is half its memory.
RUNTIME_OPTIONS = {"GHCRTS": "-H1m"}
# Flags whose server field is not their own name: the server ignores a field it does not
# know (`"mathml": true` would leave the math as pandoc's plain-text fallback).
SERVER_FLAGS: dict[str, dict[str, Any]] = {"mathml": {"html-math-method": {"method": "mathml"}}}


@cache
def pandoc_path() -> str:
    """The pandoc that the `pypandoc_binary` wheel carries (`PYPANDOC_PANDOC` overrides it).

    Always that one, not the newest on the machine as pypandoc would pick (asking each
    candidate its version, a process each): a build's output must not depend on what else
    is installed.
    """
    override = os.environ.get("PYPANDOC_PANDOC")
    if override:
        return override
    spec = importlib.util.find_spec("pypandoc")
    folders = (spec.submodule_search_locations or []) if spec is not None else []
    for folder in folders:
        for name in ("pandoc", "pandoc.exe"):
            path = os.path.join(folder, "files", name)
            if os.path.isfile(path):
                return path
    found = shutil.which("pandoc")
    if found is None:
        raise UsageError("pandoc not found: install ebook-builder with its pypandoc_binary")
    return found


def run_pandoc(args: Sequence[str], stdin: bytes) -> bytes:
    """Run pandoc once with `args` (always sandboxed and quiet): what it writes to standard
    output; `BookError` if it fails."""
    finished = _run([pandoc_path(), "--sandbox", "--quiet", *args], stdin)
    if finished.returncode != 0:
        raise _failed(finished.stderr)
    return finished.stdout


def pandoc_fingerprint() -> str:
    """Which pandoc binary converts: part of every cache key.

    Its path, size and modification time identify it without starting it (asking its
    version costs a process); a new pandoc is a new file, so the cache never serves the
    output of an older one.
    """
    path = pandoc_path()
    stat = os.stat(path)
    return f"{path}:{stat.st_size}:{stat.st_mtime_ns}"


def server_options(args: Sequence[str]) -> dict[str, Any]:
    """Command-line options (`--wrap=none`, `--section-divs`) as the server's JSON fields.

    The server takes the long option names; a bare flag is `true` (or its field in
    `SERVER_FLAGS`), a number is a number.
    """
    options: dict[str, Any] = {}
    for arg in args:
        name, has_value, value = arg.removeprefix("--").partition("=")
        if has_value:
            options[name] = int(value) if value.isdigit() else value
        else:
            options.update(SERVER_FLAGS.get(name, {name: True}))
    return options


class TimedOut(BookError):
    """Pandoc did not finish within its bound (`timeout_seconds`) and was stopped."""

    def __init__(self, seconds: int) -> None:
        super().__init__(f"pandoc did not finish within {seconds} s")
        self.seconds = seconds


class Refused(BookError):
    """Pandoc refused one document of a batch: which one (`index`) and what it said
    (`reason`, which may run over several lines; the message is it on one line)."""

    def __init__(self, index: int, reason: str) -> None:
        super().__init__(f"pandoc failed: {' '.join(reason.split())}")
        self.index = index
        self.reason = reason


@dataclass(frozen=True)
class Conversion:
    """One document as pandoc converted it, with the warnings pandoc logged about it.

    The server answers each document with the messages of its log (`messages`, each with
    a `verbosity`): warnings are what pandoc could not carry into the output as written
    (TeX math it cannot parse, a note defined twice or never used); INFO messages are its
    commentary, and are left out.
    """

    output: str
    warnings: tuple[str, ...] = ()


def convert_texts(
    texts: Sequence[str], source: str, target: str, args: Sequence[str] = ()
) -> list[str]:
    """Each of `texts` converted from `source` to `target` (text formats), in order.

    Raises `Refused` naming the document pandoc refuses and pandoc's message.
    """
    return [conversion.output for conversion in convert_documents(texts, source, target, args)]


def convert_documents(
    texts: Sequence[str], source: str, target: str, args: Sequence[str] = ()
) -> list[Conversion]:
    """`convert_texts`, with each document's warnings."""
    options = server_options(args)
    requests = [{"text": text, "from": source, "to": target, **options} for text in texts]
    batches = _batches([len(text) for text in texts])
    workers = max(1, min(len(batches), processes()))
    with ThreadPoolExecutor(workers) as pool:
        answers = [pool.submit(_run_batch, [requests[i] for i in batch]) for batch in batches]
        outputs: dict[int, Conversion] = {}
        for batch, answer in zip(batches, answers, strict=True):
            try:
                documents = answer.result()
            except TimedOut as late:  # named by the largest document, the likeliest cause
                largest = max(batch, key=lambda index: len(texts[index]))
                raise Refused(largest, f"it did not finish within {late.seconds} s") from None
            for index, document in zip(batch, documents, strict=True):
                outputs[index] = _output(index, document)
    return [outputs[index] for index in range(len(texts))]


def convert_cached(
    texts: Sequence[str], source: str, target: str, args: Sequence[str], cache: ChapterCache
) -> list[Conversion]:
    """`convert_documents`, served from `cache` for every text whose conversion is stored.

    A key covers all that shapes the output: the text, the formats, the options and the
    versions of pandoc and ebook-builder. The texts the cache lacks go to pandoc together.
    An entry holds the output and its warnings, so that a cache hit warns as pandoc did.
    """
    keys = conversion_keys(texts, source, target, args)
    found = {index: _cached(cache, key) for index, key in enumerate(keys)}
    missing = [index for index, output in found.items() if output is None]
    if missing:
        try:
            made = convert_documents([texts[index] for index in missing], source, target, args)
        except Refused as refused:
            raise Refused(missing[refused.index], refused.reason) from None
        for index, conversion in zip(missing, made, strict=True):
            entry = {"output": conversion.output, "warnings": list(conversion.warnings)}
            cache.put(keys[index], json.dumps(entry, ensure_ascii=False))
            found[index] = conversion
    return [conversion for conversion in found.values() if conversion is not None]


def conversion_keys(
    texts: Sequence[str], source: str, target: str, args: Sequence[str]
) -> list[str]:
    """The chapter-cache key of each text's conversion (see `convert_cached`)."""
    fingerprint = pandoc_fingerprint()
    return [
        cache_key(t, source, target, *args, fingerprint, __version__, ENTRY_LAYOUT) for t in texts
    ]


def _cached(cache: ChapterCache, key: str) -> Conversion | None:
    entry = cache.get(key)
    if entry is None:
        return None
    stored = json.loads(entry)
    return Conversion(stored["output"], tuple(stored["warnings"]))


def processes() -> int:
    """How many pandoc processes a conversion runs at once: one per core, or the share of
    the cores that `EBOOK_PANDOC_PROCESSES` gives a build where several builds share the
    machine (the workers of a catalog build), so that they neither crowd one another's
    cores nor hold a pandoc's memory each per core.
    """
    share = os.environ.get(PROCESSES_VARIABLE, "")
    return int(share) if share.isdigit() and int(share) > 0 else usable_cores()


def _batches(sizes: list[int]) -> list[list[int]]:
    """The documents (by index) each process converts: balanced, and bounded in size.

    There are at least as many batches as processes, and enough that none holds much more
    than `BATCH_CHARACTERS`; the largest documents are placed first, each in the lightest
    batch, so the cores finish together.
    """
    total = sum(sizes)
    count = max(processes(), -(-total // BATCH_CHARACTERS))
    batches: list[list[int]] = [[] for _ in range(min(count, len(sizes)))]
    loads = [0] * len(batches)
    for index in sorted(range(len(sizes)), key=lambda i: -sizes[i]):
        lightest = loads.index(min(loads))
        batches[lightest].append(index)
        loads[lightest] += sizes[index]
    return [sorted(batch) for batch in batches if batch]


def _run_batch(requests: list[dict[str, Any]]) -> list[dict[str, Any]]:
    body = json.dumps(requests).encode("utf-8")
    environment = {**CGI_ENVIRONMENT, "CONTENT_LENGTH": str(len(body))}
    finished = _run([CGI_NAME], body, executable=pandoc_path(), env=environment)
    head, _, answer = finished.stdout.partition(b"\n\n")
    if finished.returncode != 0 or not head.startswith(b"Status: 200"):
        raise _failed(finished.stderr or answer or head)
    return json.loads(answer)


def timeout_seconds(size: int) -> int:
    """How long pandoc may run on an input of `size` bytes or characters."""
    return TIMEOUT_BASE_SECONDS + TIMEOUT_SECONDS_PER_MB * size // 1_000_000


def _run(
    command: list[str],
    stdin: bytes,
    env: Mapping[str, str] = os.environ,
    **options: Any,
) -> subprocess.CompletedProcess[bytes]:
    """Run pandoc to the end, within `timeout_seconds`, in `env` with `RUNTIME_OPTIONS`:
    `TimedOut` when it takes longer, `BookError` when it cannot even start."""
    seconds = timeout_seconds(len(stdin))
    try:
        return subprocess.run(
            command,
            input=stdin,
            capture_output=True,
            check=False,
            timeout=seconds,
            env={**env, **RUNTIME_OPTIONS},
            **options,
        )
    except subprocess.TimeoutExpired:
        raise TimedOut(seconds) from None
    except OSError as exc:
        raise BookError(f"pandoc could not be started: {exc.strerror or exc}") from None


def _failed(reason: bytes) -> BookError:
    """Pandoc's complaint, its first line, as the one line a user sees."""
    text = reason.decode("utf-8", "replace").strip()
    return BookError(f"pandoc failed: {text.splitlines()[0] if text else 'no message'}")


def _output(index: int, answer: dict[str, Any]) -> Conversion:
    """The server's answer for document `index` of the request; `Refused` for an error."""
    if "error" in answer:
        raise Refused(index, answer["error"])
    messages = answer.get("messages", [])
    warnings = tuple(m["message"] for m in messages if m.get("verbosity") == "WARNING")
    return Conversion(answer["output"], warnings)
