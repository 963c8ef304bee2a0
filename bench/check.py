"""Benchmark: `softmax-course check` beside `nbgrader validate`, on the same solved notebooks.

Both commands run as a student runs them, in a fresh process from a folder holding only the
notebook, one after the other, `--repeat` times each; the median wall time of each is printed
with their ratio (the target: the check takes at most half of validate's time).

    .venv/bin/python bench/check.py [--repeat 3]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from softmax_course.course import ASSIGNMENTS  # noqa: E402
from tests.harness import reference_submission  # noqa: E402

BIN = Path(sys.executable).parent


def wall_time(command: list[str], folder: Path) -> float:
    """Run `command` in `folder`; return its wall time in seconds (it must succeed)."""
    started = time.perf_counter()
    subprocess.run(command, cwd=folder, check=True, capture_output=True)
    return time.perf_counter() - started


def main() -> None:
    """Time both commands on each assignment's solved notebook and print the ratios."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    print(f"load average at the start: {os.getloadavg()[0]:.1f}")
    print(f"{'assignment':26} {'check (s)':>10} {'validate (s)':>13} {'ratio':>7}")
    ratios = []
    for name in ASSIGNMENTS:
        with tempfile.TemporaryDirectory() as scratch:
            folder = Path(scratch)
            nbformat.write(reference_submission(name), folder / f"{name}.ipynb")
            check, validate = [], []
            for _ in range(args.repeat):  # interleaved, so both see the same machine load
                check.append(
                    wall_time([str(BIN / "softmax-course"), "check", f"{name}.ipynb"], folder)
                )
                validate.append(
                    wall_time([str(BIN / "nbgrader"), "validate", f"{name}.ipynb"], folder)
                )
        ratio = statistics.median(check) / statistics.median(validate)
        ratios.append(ratio)
        print(
            f"{name:26} {statistics.median(check):10.2f} {statistics.median(validate):13.2f} "
            f"{ratio:6.2f}x"
        )
    print(f"\nworst ratio {max(ratios):.2f}x (target: at most 0.5x of nbgrader validate)")


if __name__ == "__main__":
    main()
