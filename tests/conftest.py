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


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Run the tests that drive the session's Chromium last, keeping the order otherwise.

    While Playwright's sync API has a browser open it keeps an event loop running in the main
    thread, and asyncio.run() (the trusted check, kernel pools) refuses to start under it.
    """
    items.sort(key=lambda item: "browser" in getattr(item, "fixturenames", ()))
