"""Debian's Chromium, headless, driven by Playwright: how `ebook proof`, the rendering tests,
tools/screenshots.py and the benchmark open a browser, in one place.

Not a stage: a tool the stages' checks and pictures use. `playwright install` would
download a browser of its own, which these machines and CI cannot, so Playwright launches
/usr/bin/chromium (`apt-get install chromium`) with the switches that keep it off the
network. Playwright is an optional extra (`pip install 'ebook-builder[proof]'`): a build
never needs a browser, so it is imported only when one is launched.
"""

from __future__ import annotations

import importlib.util
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from playwright.sync_api import Browser

CHROMIUM = Path("/usr/bin/chromium")
# No sandbox (containers run as root); nothing that phones home or updates itself.
LAUNCH_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
# A phone's viewport, in CSS pixels: most e-books are read on phones, and a narrow screen
# is where a layout's faults (a wide table, a long word, a large picture) show first.
PHONE = {"width": 412, "height": 915}
# Seconds to wait for a page that renders a book asynchronously (unzip, lay out, paginate).
RENDER_TIMEOUT_S = 15


def missing() -> str | None:
    """What to install before a browser can be launched here, or None when nothing is."""
    if importlib.util.find_spec("playwright") is None:
        return "pip install 'ebook-builder[proof]'"
    if not CHROMIUM.is_file():
        return "apt-get install chromium"
    return None


@contextmanager
def chromium() -> Iterator[Browser]:
    """Debian's Chromium, headless, for as long as the block runs."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=LAUNCH_ARGS
        )
        try:
            yield browser
        finally:
            browser.close()
