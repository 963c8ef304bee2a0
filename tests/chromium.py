"""A pytest fixture that provides Debian's Chromium, installing it with apt-get when missing."""

from __future__ import annotations

import shutil
import subprocess

import pytest

CHROMIUM = "/usr/bin/chromium"


def ensure_chromium() -> str:
    """Return the path of Debian's Chromium, installing the package first if it is missing."""
    if shutil.which(CHROMIUM):
        return CHROMIUM
    if not shutil.which("apt-get"):
        pytest.fail("browser tests need Debian's chromium package: apt-get install chromium")
    for command in (["apt-get", "update", "-qq"], ["apt-get", "install", "-y", "-qq", "chromium"]):
        done = subprocess.run(command, capture_output=True, text=True)
        if done.returncode != 0:
            pytest.fail(f"could not install chromium ({' '.join(command)}): {done.stderr[-300:]}")
    return CHROMIUM


@pytest.fixture(scope="session")
def chromium_path() -> str:
    """Return the path of a Chromium the tests may drive with Playwright."""
    return ensure_chromium()
