"""Softmax, Step by Step: the course's code, in four parts.

- `lessons`: what the chapters and graded notebooks import (running example, maths, figures).
- `grading`: the pipeline `softmax-course grade` runs: intake → execute → grade → feedback → report.
- `sandbox`: what contains student code: the kernel's sandbox, its launcher, zygote, memory cap.
- `trusted`: the re-check of every test cell outside the student's kernel.

Top-level modules hold what the parts share (`course`, `notebooks`) and the commands' entry
points (`cli`, `check`, `release`). This file imports nothing: the sandbox launcher runs through it.
"""

__version__ = "0.1.0"
