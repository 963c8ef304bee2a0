"""Runs a notebook's code cells in this Python process, one after another, as a kernel would.

The self-check (`softmax_course.check`) starts it in a fresh interpreter,
`python -m softmax_course.cell_runner`, writes the cells' sources and a per-cell time limit as
JSON to its standard input, and reads one JSON line per cell from its standard output: the
outputs nbgrader would score, in nbformat's shape (stdout and stderr streams, the value of a
last expression as `execute_result`, an `error`). Output written at the file-descriptor level
(C extensions, `!shell` commands) is captured as an ipykernel captures it. Cells written with
IPython syntax (`%magic`, `!command`) run through IPython when it is installed, and otherwise
fail with a message that says so. Standard library only, until a cell needs IPython.
"""

from __future__ import annotations

import ast
import builtins
import json
import linecache
import os
import re
import signal
import sys
import tempfile
import traceback
import types
from typing import Any

IPYTHON_SYNTAX = re.compile(r"^\s*(%|!)|\?\s*$", re.M)
"""Lines only IPython understands: magics, shell escapes, `name?` help."""


class Shell:
    """The namespace cells share, and IPython's syntax transformer once a cell needs it."""

    def __init__(self) -> None:
        self.main = types.ModuleType("__main__")
        builtins.display = display  # IPython puts `display` among the builtins too
        sys.modules["__main__"] = self.main  # classes defined in cells pickle as in a kernel
        self.ipython: Any = None

    def compile(self, source: str, name: str) -> tuple[types.CodeType, types.CodeType | None]:
        """Return the code of a cell's statements and of its last expression (or None).

        `name` stands for the cell's file name (a kernel gives each cell a file of its own);
        its source is kept where tracebacks and warnings look for lines of code.
        """
        linecache.cache[name] = (len(source), None, source.splitlines(keepends=True), name)
        try:
            tree = ast.parse(source, name)
        except SyntaxError:
            if not IPYTHON_SYNTAX.search(source):
                raise
            tree = ast.parse(self.transform(source), name)
        last = None
        if tree.body and isinstance(tree.body[-1], ast.Expr) and not quiet(source):
            last = compile(ast.Expression(tree.body.pop().value), name, "eval")
        return compile(tree, name, "exec"), last

    def transform(self, source: str) -> str:
        """Return a cell with IPython syntax as plain Python calling IPython's shell."""
        try:
            from IPython.core.inputtransformer2 import TransformerManager
            from IPython.core.interactiveshell import InteractiveShell
        except ImportError:
            found = IPYTHON_SYNTAX.search(source)
            line = source[source.rfind("\n", 0, found.start()) + 1 :].splitlines()[0].strip()
            raise SyntaxError(
                f"this cell uses IPython syntax ({line!r}), which runs only in Jupyter or with "
                "IPython installed (pip install ipython)"
            ) from None
        if self.ipython is None:
            self.ipython = InteractiveShell.instance(user_module=self.main)
        return TransformerManager().transform_cell(source)


def display(*objects: object) -> None:
    """Print each object's repr: what IPython's `display` shows outside a notebook."""
    for thing in objects:
        print(repr(thing))


def quiet(source: str) -> bool:
    """Return True when the cell's last code line ends with `;` (IPython then shows no value)."""
    lines = [line.split("#")[0].rstrip() for line in source.splitlines()]
    code = [line for line in lines if line]
    return bool(code) and code[-1].endswith(";")


def error_output(exc: BaseException) -> dict[str, Any]:
    """Return an exception as an nbformat error output, its traceback without this module."""
    frames = [f for f in traceback.extract_tb(exc.__traceback__) if f.filename != __file__]
    lines = [
        "Traceback (most recent call last):\n",
        *traceback.format_list(frames),
        *traceback.format_exception_only(type(exc), exc),
    ]
    return {
        "output_type": "error",
        "ename": type(exc).__name__,
        "evalue": str(exc),
        "traceback": [line.rstrip("\n") for line in lines],
    }


def run_cell(shell: Shell, source: str, name: str, timeout: float) -> list[dict[str, Any]]:
    """Run one cell in `shell`; return its value or error as outputs (streams are added later)."""

    def expire(signum: int, frame: object) -> None:
        raise TimeoutError(f"the cell ran longer than {timeout:g} s")

    signal.signal(signal.SIGALRM, expire)
    signal.setitimer(signal.ITIMER_REAL, timeout)
    try:
        body, last = shell.compile(source, name)
        exec(body, shell.main.__dict__)
        value = eval(last, shell.main.__dict__) if last is not None else None
    except BaseException as exc:  # a cell may raise anything, SystemExit included
        return [error_output(exc)]
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
    if value is None:
        return []
    return [{"output_type": "execute_result", "data": {"text/plain": repr(value)}}]


def captured(capture: Any) -> str:
    """Return what was written to a capture file since the last call, and empty it."""
    capture.seek(0)
    text = capture.read().decode("utf-8", "replace")
    capture.seek(0)
    capture.truncate()
    return text


def main() -> None:
    """Run the cells given on stdin; report each cell's outputs as one JSON line on stdout."""
    request = json.load(sys.stdin)
    report = os.fdopen(os.dup(1), "w", encoding="utf-8")
    captures = {1: tempfile.TemporaryFile(), 2: tempfile.TemporaryFile()}
    for fd, capture in captures.items():
        os.dup2(capture.fileno(), fd)
    shell = Shell()
    for number, source in enumerate(request["cells"], start=1):
        result = run_cell(shell, source, f"<cell {number}>", request["timeout"])
        sys.stdout.flush()
        sys.stderr.flush()
        streams = [
            {"output_type": "stream", "name": name, "text": text}
            for name, fd in (("stdout", 1), ("stderr", 2))
            if (text := captured(captures[fd]))
        ]
        report.write(json.dumps(streams + result) + "\n")
        report.flush()


if __name__ == "__main__":
    main()
