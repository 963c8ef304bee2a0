"""axe-core (bundled by axe-playwright-python) finds no serious or critical accessibility
violation on any page of the built book, in light mode and in dark mode (the theme's toggle)."""

from __future__ import annotations

import pytest

from tests.harness import toc_files


@pytest.mark.parametrize("mode", ["light", "dark"])
@pytest.mark.parametrize("name", toc_files())
def test_no_serious_accessibility_violation(tour, name: str, mode: str) -> None:
    report = tour.report(name).modes[mode]
    assert report.theme == mode
    assert not report.violations, "\n".join(report.violations)
