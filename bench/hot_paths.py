"""Benchmark: the grading steps that see a hostile submission's whole input stay linear.

Each case is timed beside a baseline that touches the same input once (a copy, a count, a
serialisation), in the same run, and printed as a ratio; a case that became quadratic, or a
regular expression that backtracks, shows as a ratio that grows with the input size.

    .venv/bin/python bench/hot_paths.py
"""

from __future__ import annotations

import re
import sys
import time
from collections.abc import Callable
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from softmax_course.course import STDERR_WARNINGS_PATTERN  # noqa: E402
from softmax_course.grading.preprocessors.limit_output_bytes import LimitOutputBytes  # noqa: E402
from softmax_course.grading.preprocessors.restore_from_release import (  # noqa: E402
    cell_changes,
    restore_from_release,
)
from tests.harness import reference_submission  # noqa: E402

MB = 1 << 20


def best_of(run: Callable[[], object], repeat: int = 3) -> float:
    """Return the fastest of `repeat` runs, in seconds."""
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        run()
        times.append(time.perf_counter() - started)
    return min(times)


def stderr_pattern(size: int) -> tuple[float, float]:
    """The warnings-only stderr pattern on a flood of near-warnings, and a count of the text."""
    text = "Warning: " * size
    return best_of(lambda: re.search(STDERR_WARNINGS_PATTERN, text)), best_of(
        lambda: text.count("Warning")
    )


def output_cap(size: int) -> tuple[float, float]:
    """LimitOutputBytes on one stdout output of `size` MiB, and a copy of that output."""
    text = "x" * (size * MB)

    def capped() -> None:
        output = nbformat.v4.new_output("stream", name="stdout", text=text)
        nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(outputs=[output])])
        LimitOutputBytes().preprocess(nb, {})

    return best_of(capped), best_of(lambda: text.encode())


def changed_cells(cells: int) -> tuple[float, float]:
    """cell_changes and restore_from_release on a notebook with `cells` added cells."""
    released = nbformat.read(ROOT / "exercises" / "softmax" / "softmax.ipynb", 4)
    nb = reference_submission("softmax")
    nb.cells += [nbformat.v4.new_code_cell("y = 2\n" * 100) for _ in range(cells)]

    def compared() -> None:
        cell_changes(nb, released)
        restore_from_release(nb, released)

    return best_of(compared, 1), best_of(lambda: nbformat.writes(nb), 1)


CASES: list[tuple[str, Callable[[int], tuple[float, float]], list[int], str]] = [
    ("stderr warnings pattern", stderr_pattern, [50_000, 100_000, 200_000], "repeats"),
    ("LimitOutputBytes", output_cap, [25, 50, 100], "MiB"),
    ("cell_changes + restore", changed_cells, [500, 1_000, 2_000], "cells added"),
]


def main() -> None:
    """Print each case's time and its ratio to the baseline, for growing inputs."""
    print(f"{'case':<26}{'input':>22}{'seconds':>10}{'baseline':>10}{'ratio':>8}")
    for name, case, sizes, unit in CASES:
        for size in sizes:
            seconds, baseline = case(size)
            print(
                f"{name:<26}{f'{size:,} {unit}':>22}{seconds:>10.3f}{baseline:>10.3f}"
                f"{seconds / baseline:>8.1f}"
            )


if __name__ == "__main__":
    main()
