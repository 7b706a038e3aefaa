"""The `ebook` command: arguments in, library call, messages and an exit code out.

The exit codes are `errors.ExitCode`'s, documented in the README. Every library error
becomes one line per problem on stderr; a user never sees a traceback.
"""

from __future__ import annotations

import json
import os
import sys
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Literal, NoReturn

import typer

from ebook_builder import api, catalog
from ebook_builder import watch as watching
from ebook_builder.checks.accessibility import accessibility_problems
from ebook_builder.errors import Diagnostic, EbookError, ExitCode
from ebook_builder.formats import FORMATS

app = typer.Typer(
    help="Build EPUB 3 e-books from Markdown chapters, YAML metadata and covers.",
    no_args_is_help=True,
    add_completion=False,
    rich_markup_mode="markdown",
)
STATUS_STYLES = {"pass": "green", "warn": "yellow", "fail": "bold red"}

BookIds = Annotated[
    list[str] | None, typer.Argument(help="Book ids (default: every book in metadata/).")
]
OneBookId = Annotated[
    str | None, typer.Argument(help="Book id (default: the project's only book).")
]
ProjectDir = Annotated[
    Path, typer.Option("--project", "-C", help="Project folder (default: the current one).")
]
Formats = Annotated[
    list[str] | None,
    typer.Option(
        "--format",
        "-f",
        help=f"Formats, comma-separated: {', '.join(FORMATS)} (default: all).",
    ),
]
OutDir = Annotated[Path | None, typer.Option("--out", "-o", help="Output folder (default: dist/).")]


def _print_errors(lines: list[str]) -> None:
    for line in lines:
        typer.echo(f"error: {line}", err=True)


def _warn(warning: Diagnostic) -> None:
    """A warning (`api.Warn`): printed at once, so that it shows even when the build fails."""
    typer.echo(f"warning: {warning}", err=True)


def _fail(lines: list[str], code: int) -> NoReturn:
    _print_errors(lines)
    raise typer.Exit(code)


@contextmanager
def _reported() -> Iterator[None]:
    """Turn library errors, interrupts and surprises into messages and exit codes."""
    try:
        yield
    except typer.Exit:
        raise
    except EbookError as exc:
        _fail(exc.lines(), exc.exit_code)
    except KeyboardInterrupt:
        _fail(["interrupted; earlier outputs are unchanged"], ExitCode.INTERRUPTED)
    except Exception as exc:
        if os.environ.get("EBOOK_DEBUG"):
            raise
        _fail(
            [f"internal error: {exc!r} (a bug; set EBOOK_DEBUG=1 to see where)"],
            ExitCode.INTERNAL_ERROR,
        )


@contextmanager
def _terminal_task(
    indicator: Literal["spinner", "bar"], first: str
) -> Iterator[Callable[..., None]]:
    """One task of a rich progress display (a `spinner` or a `bar`, then its description
    and the time elapsed), shown only on an interactive terminal; what it yields updates
    the task (`description=`, `total=`, `completed=`).

    rich is loaded only then: a build run by a script or CI starts faster without it.
    """
    if not sys.stderr.isatty():
        yield lambda **_: None
        return
    from rich.console import Console
    from rich.progress import BarColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

    with Progress(
        SpinnerColumn() if indicator == "spinner" else BarColumn(),
        TextColumn("{task.description}"),
        TimeElapsedColumn(),
        console=Console(stderr=True),
        transient=True,
    ) as progress:
        task = progress.add_task(first, total=None)
        yield lambda **fields: progress.update(task, **fields)


@contextmanager
def _progress() -> Iterator[Callable[[str], None]]:
    """A spinner with the current step, on an interactive terminal only."""
    with _terminal_task("spinner", "starting") as update:
        yield lambda message: update(description=message)


@app.command()
def build(
    book_ids: BookIds = None,
    formats: Formats = None,
    out: OutDir = None,
    no_cache: Annotated[
        bool, typer.Option("--no-cache", help="Convert every chapter again (a cold build).")
    ] = False,
    workers: Annotated[
        str | None,
        typer.Option(
            "--workers",
            help="Build the books on a local Dask cluster of N processes (`auto`: one per "
            "core), book by book; needs `pip install 'ebook-builder[cluster]'`.",
        ),
    ] = None,
    scheduler: Annotated[
        str | None,
        typer.Option(
            "--scheduler",
            envvar="DASK_SCHEDULER_ADDRESS",
            help="Build the books on the Dask cluster of this scheduler (`tcp://HOST:PORT`); "
            "it wins over --workers.",
        ),
    ] = None,
    as_json: Annotated[
        bool,
        typer.Option(
            "--json",
            help="Each book's files or problems as JSON; builds book by book, as --workers does.",
        ),
    ] = False,
    project: ProjectDir = Path("."),
) -> None:
    """Build books into `dist/<book-id>.<ext>`.

    Converted chapters are cached in `.cache/` and unchanged outputs are kept, so a rebuild
    after an edit only redoes what changed.

    With `--workers` or `--scheduler`, each book is built on a Dask cluster and written as it
    is finished: a book with problems stops no other (exit 1 when any has problems).

    Examples:

    - `ebook build` — every book, every format, into dist/
    - `ebook build russian-revolution-1917 --format epub`
    - `ebook build --out /tmp/books`
    - `ebook build --no-cache` — convert everything again
    - `ebook build --workers auto` — a catalog on every core
    - `ebook build --scheduler tcp://10.0.0.5:8786 --json` — on a cluster; `{"<book-id>":
      {"written": […], "problems": [{"path", "line", "message"}]}}`
    """
    if workers is not None or scheduler or as_json:
        _build_catalog(project, book_ids, formats, out, not no_cache, workers, scheduler, as_json)
    with _reported(), _progress() as step:
        written = api.build(
            project, book_ids, formats, out, progress=step, use_cache=not no_cache, warn=_warn
        )
    for path in written:
        typer.echo(f"wrote {path}")


def _build_catalog(
    project: Path,
    book_ids: list[str] | None,
    formats: list[str] | None,
    out: Path | None,
    use_cache: bool,
    workers: str | None,
    scheduler: str | None,
    as_json: bool,
) -> NoReturn:
    """`build --workers/--scheduler` (or `--json` alone: book by book in this process): each
    book's files or problems as it is finished (or all of them as JSON at the end); the
    gravest exit code of any book."""

    def finished(outcome: catalog.BookOutcome) -> None:
        if not as_json:
            for path in outcome.written:
                typer.echo(f"wrote {path}")
            _print_errors([str(problem) for problem in outcome.problems])

    with _reported(), _tally_bar() as show:
        outcomes = catalog.build(
            catalog.connector(workers, scheduler) if workers is not None or scheduler else None,
            project,
            book_ids,
            formats,
            out,
            here_below=catalog.cluster_pays_from(workers, scheduler),
            progress=show,
            finished=finished,
            use_cache=use_cache,
            warn=_warn,
        )
    if as_json:
        report = {
            o.book_id: {
                "written": [str(path) for path in o.written],
                "problems": [d.as_dict() for d in o.problems],
            }
            for o in outcomes
        }
        print(json.dumps(report, ensure_ascii=False))
    raise typer.Exit(max([ExitCode.OK, *(o.exit_code for o in outcomes)]))


@contextmanager
def _tally_bar() -> Iterator[Callable[[catalog.Tally], None]]:
    """A bar over the books of a catalog build, on an interactive terminal only."""
    with _terminal_task("bar", "planning") as update:

        def show(tally: catalog.Tally) -> None:
            finished = tally.done + tally.failed
            update(total=tally.total, completed=finished, description=str(tally))

        yield show


@app.command()
def watch(
    book_ids: BookIds = None,
    formats: Formats = None,
    out: OutDir = None,
    interval: Annotated[
        float, typer.Option("--interval", min=0.01, help="Seconds between looks at the inputs.")
    ] = watching.DEFAULT_INTERVAL,
    project: ProjectDir = Path("."),
) -> None:
    """Build books, then rebuild a book each time its chapters, metadata or cover change.

    One process stays up, so a rebuild skips the start of a new command, and converts only
    the chapters that changed. A failed build prints its problems and the watch goes on;
    the earlier outputs stay as they were. Ctrl-C stops it.

    Examples:

    - `ebook watch russian-revolution-1917 --format epub` — rebuild the EPUB on every save
    - `ebook watch` — every book, every format, into dist/
    """
    with _reported():
        try:
            watching.watch(
                project, book_ids, formats, out, _build_reporter(), threading.Event(), interval
            )
        except KeyboardInterrupt:
            typer.echo("stopped watching")


def _build_reporter() -> Callable[[watching.BuildResult], None]:
    """What `watch` and `preview` print of each build: a line, its files, or its problems."""
    reported: set[str] = set()

    def report(result: watching.BuildResult) -> None:
        if not reported:
            typer.echo("watching for changes; press Ctrl-C to stop", err=True)
        verb = "rebuilt" if result.book_id in reported else "built"
        reported.add(result.book_id)
        for warning in result.warnings:
            _warn(warning)
        if result.error is not None:
            _print_errors(result.error.lines())
            return
        count = len(result.written)
        plural = "" if count == 1 else "s"
        typer.echo(f"{verb} {result.book_id} in {result.seconds:.2f} s: {count} file{plural}")
        for path in result.written:
            typer.echo(f"wrote {path}")

    return report


@app.command()
def preview(
    book_id: OneBookId = None,
    port: Annotated[
        int,
        typer.Option("--port", min=0, max=65535, help="Port on 127.0.0.1 (default: a free one)."),
    ] = 0,
    no_browser: Annotated[
        bool, typer.Option("--no-browser", help="Do not open the system's browser.")
    ] = False,
    project: ProjectDir = Path("."),
) -> None:
    """Serve a book to the browser on this machine, rebuilt each time its files change.

    Prints the address as its first line, then each build as `ebook watch` does; the page
    reloads after each good build and shows the problems of a failed one, while the last
    good files stay served. Ctrl-C stops it.

    Examples:

    - `ebook preview russian-revolution-1917`
    - `ebook preview --port 8000 --no-browser` — the only book, at http://127.0.0.1:8000/
    """
    from ebook_builder.preview import preview as serve

    report = _build_reporter()
    url: list[str] = []

    def on_url(address: str) -> None:
        url.append(address)
        typer.echo(address)

    def on_result(result: watching.BuildResult) -> None:
        report(result)
        if not no_browser and len(url) == 1:
            import webbrowser

            webbrowser.open(url.pop())

    with _reported():
        try:
            serve(project, book_id, port, on_url, on_result, threading.Event())
        except KeyboardInterrupt:
            typer.echo("stopped the preview")


@app.command()
def check(
    book_ids: BookIds = None,
    as_json: Annotated[
        bool, typer.Option("--json", help="Print the result as JSON, for editors and CI.")
    ] = False,
    stores: Annotated[
        list[str] | None,
        typer.Option(
            "--store",
            "-s",
            help="Check the built `<book-id>.epub` against a store's rules instead: kdp, apple, "
            "kobo, google or all; comma-separated or repeated. All four stores take the .epub "
            "(the .kepub.epub is for sideloading to Kobo devices, not for Kobo Writing Life).",
        ),
    ] = None,
    out: Annotated[
        Path | None,
        typer.Option("--out", "-o", help="With --store: the built files' folder (default: dist/)."),
    ] = None,
    project: ProjectDir = Path("."),
) -> None:
    """Load, convert and validate books without writing anything; list every problem.

    With `--store`, check the built EPUBs against what each store accepts instead: EPUBCheck,
    file size, metadata, cover and image sizes; exit 1 when a store would refuse a file.

    Examples:

    - `ebook check` — every book
    - `ebook check revolutionary-heritage-1917`
    - `ebook check --json` — `{"ok": …, "books": […], "problems": [{"path", "line", "message"}],
      "warnings": [{"path", "line", "message"}]}`
    - `ebook check --store all` — a table of every rule of every store, for each book in dist/
    - `ebook check --store kdp,apple --json` — `{"ok": …, "checks": [{"book", "store", "rule",
      "status", "reason", "file"}], "problems": […]}`
    """
    if stores:
        with _reported():
            _check_stores(project, book_ids, stores, out, as_json)
    if out is not None:
        _fail(["--out applies to --store checks only"], ExitCode.BAD_USAGE)
    if as_json:
        with _reported():
            _check_json(project, book_ids)
    with _reported(), _progress() as step:
        books = api.check(project, book_ids, progress=step, warn=_warn)
    for converted in books:
        count = len(converted.chapters)
        typer.echo(f"{converted.book.book_id}: ok ({count} chapters)")
        for problem in accessibility_problems(converted):  # no conformance claim, no error
            typer.echo(f"warning: {problem}", err=True)


def _check_json(project: Path, book_ids: list[str] | None) -> NoReturn:
    """`check --json`: the same verdict and exit code, as one JSON document on stdout;
    pandoc's and the pipeline's warnings under `warnings`, in the problems' form."""
    warnings: list[Diagnostic] = []
    try:
        books = api.check(project, book_ids, warn=warnings.append)
    except EbookError as exc:
        _json_failure(exc, "books", warnings)
    listed = [{"id": b.book.book_id, "chapters": len(b.chapters)} for b in books]
    found = [w.as_dict() for w in warnings]
    report = {"ok": True, "books": listed, "problems": [], "warnings": found}
    print(json.dumps(report, ensure_ascii=False))
    raise typer.Exit(ExitCode.OK)


def _json_failure(
    exc: EbookError, listing: str, warnings: list[Diagnostic] | None = None
) -> NoReturn:
    """A failed `--json` check: nothing under `listing`, every problem, the error's code."""
    problems = [d.as_dict() for d in exc.all_diagnostics()]
    report: dict[str, object] = {"ok": False, listing: [], "problems": problems}
    if warnings is not None:
        report["warnings"] = [w.as_dict() for w in warnings]
    print(json.dumps(report, ensure_ascii=False))
    raise typer.Exit(exc.exit_code) from None


def _check_stores(
    project: Path, book_ids: list[str] | None, stores: list[str], out: Path | None, as_json: bool
) -> NoReturn:
    """`check --store`: a row per book, store and rule; exit 1 when a store would refuse."""
    try:
        with _progress() as step:
            rows = api.check_stores(project, book_ids, stores, out, progress=step)
    except EbookError as exc:
        if not as_json:
            raise
        _json_failure(exc, "checks")
    refused = any(row.status == "fail" for row in rows)
    if as_json:
        checks = [row.as_dict() for row in rows]
        print(json.dumps({"ok": not refused, "checks": checks, "problems": []}, ensure_ascii=False))
    else:
        from rich.console import Console
        from rich.table import Table
        from rich.text import Text

        table = Table("book", "store", "rule", "result", "reason")
        for row in rows:
            result = Text(row.status, style=STATUS_STYLES[row.status])
            table.add_row(row.book_id, row.store, row.rule, result, Text(row.reason))
        Console().print(table)
    raise typer.Exit(ExitCode.BOOK_PROBLEMS if refused else ExitCode.OK)


@app.command("import")
def import_(
    file: Annotated[Path, typer.Argument(help="Manuscript to import (or a folder of HTML files).")],
    book_id: Annotated[str, typer.Option("--book-id", help="Id of the new book.")],
    kind: Annotated[
        str | None,
        typer.Option(
            "--kind",
            help="markdown, html, docx, epub, web (plain text, a paragraph per line) or "
            "pdf-text (hard-wrapped); default: from the file's suffix (.md, "
            ".html/.htm/.xhtml, .docx, .epub, .txt).",
        ),
    ] = None,
    project: ProjectDir = Path("."),
) -> None:
    """Make a first draft of a book from a manuscript, then check it.

    Writes `book/<id>/*.md`, pictures under `book/<id>/images/`, `metadata/<id>.yaml` and
    an import report `book/<id>/IMPORT.md` (and `covers/<id>.jpg|png` from a DOCX or
    EPUB that has a cover); never overwrites a book. Exits 0 once the
    draft is written, even if `ebook check` still finds problems in it (they are printed).

    Examples:

    - `ebook import manuscript.md --book-id my-novel` — split at `#` headings
    - `ebook import page.html --book-id my-essay` — split at `<h1>`
    - `ebook import site/ --book-id my-essay --kind html` — its HTML files in name order
    - `ebook import draft.docx --book-id my-novel` — split at Heading 1
    - `ebook import old.epub --book-id my-reissue` — metadata and cover from the OPF
    - `ebook import pamphlet.txt --book-id my-pamphlet --kind web`
    - `ebook import extracted.txt --book-id my-book --kind pdf-text`
    """
    from ebook_builder.importers import import_book

    with _reported():
        result = import_book(file, book_id, kind, project)
    for path in [*result.chapters, result.metadata, *result.others]:
        typer.echo(f"wrote {path}")
    if not result.problems:
        typer.echo("ebook check: the book is ready to build")
    else:
        count = len(result.problems)
        typer.echo(f"ebook check: {count} problem{'s' * (count > 1)} to fix before a build:")
    for line in result.problems:
        typer.echo(f"  {line}")


@app.command()
def new(
    book_id: Annotated[str, typer.Argument(help="Id of the new book (lower-case, hyphens).")],
    title: Annotated[str, typer.Option("--title", help="The book's title.")] = "Untitled",
    project: ProjectDir = Path("."),
) -> None:
    """Scaffold a new book: a first chapter, its metadata and a generated cover.

    Example: `ebook new my-novel --title "My Novel"`
    """
    with _reported():
        written = api.new_book(project, book_id, title)
    for path in written:
        typer.echo(f"wrote {path}")


@app.command()
def cover(
    book_id: Annotated[str, typer.Argument(help="Book id.")], project: ProjectDir = Path(".")
) -> None:
    """Draw a typographic cover from the metadata into `covers/<book-id>.jpg`.

    Example: `ebook cover russian-revolution-1917`
    """
    with _reported():
        path = api.write_cover(project, book_id)
    typer.echo(f"wrote {path}")


@app.command()
def proof(
    book_id: OneBookId = None,
    out: Annotated[
        Path | None,
        typer.Option("--out", "-o", help="Output folder (default: `dist/proof/<book-id>/`)."),
    ] = None,
    project: ProjectDir = Path("."),
) -> None:
    """Build a book and write proof sheets: the cover at its sizes, the EPUB's and the
    AZW3's pages in the bundled reader, the DOCX's first pages, and one PDF of them all.

    Then prints what a proofreader should look at (blank pages, text running off the
    page, pictures wider than the page), one line each, also written to `flags.txt`.

    Example: `ebook proof russian-revolution-1917`
    """
    from ebook_builder import proof as proofing

    with _reported():
        result = proofing.proof(project, book_id, out, progress=typer.echo)
    for flag in result.flags:
        typer.echo(f"flag: {flag}")
    typer.echo(f"wrote {result.folder}")
