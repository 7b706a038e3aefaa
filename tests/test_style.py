"""The code stays ruff-clean: a style slip fails the suite like any other bug."""

from __future__ import annotations

import subprocess
import sys

from tests.helpers import REPO


def test_ruff_check_is_clean():
    result = subprocess.run(
        [sys.executable, "-m", "ruff", "check", "src", "tests"],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
