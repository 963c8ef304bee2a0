"""Shared fixtures: the repository root and one book build per test session."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

pytest_plugins = ["tests.chromium", "tests.postgres_server"]

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent


@pytest.fixture(scope="session")
def built_book() -> Path:
    """Build the book as `make book` does (warnings are errors) and return _build/html."""
    result = subprocess.run(
        [str(BIN / "jupyter-book"), "build", ".", "-n", "-W", "--keep-going"],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stdout[-5000:] + result.stderr[-5000:]
    return ROOT / "_build" / "html"
