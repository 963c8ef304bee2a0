"""One verification: the trusted namespace, its test cells, and the calls they make into the kernel.

Each answer function is bound to a `_Proxy`; calling it runs the student's function in the kernel
through the helper, sending test-defined functions as source and library functions by name, and
replays the call's warnings, memory figures and changed array arguments here. Each cell runs in a
thread of its own with a time limit.
"""

from __future__ import annotations

import ast
import asyncio
import builtins
import ctypes
import importlib
import json
import secrets
import symtable
import sys
import textwrap
import threading
import types
from collections.abc import Callable
from typing import Any

import numpy as np

from softmax_course.trusted.cells import _Cell, _Outcome
from softmax_course.trusted.codec import _decode, _decode_array, _encode
from softmax_course.trusted.errors import (
    CallTimedOut,
    KernelDied,
    UnreadableResult,
    _CellTimedOut,
    _rebuild,
)
from softmax_course.trusted.kernel_helper import HELPER_SOURCE
from softmax_course.trusted.link import (
    INTERRUPT_GRACE,
    _Dead,
    _HelperFailed,
    _KernelLink,
    _Timeout,
)
from softmax_course.trusted.shims import _private_warnings, _Tracemalloc

IMPORTABLE = ("numpy", "math", "cmath", "sympy", "scipy", "builtins", "operator", "functools")
"""Packages whose functions may be passed by name from the tests to a student's function."""


class _Proxy:
    """Stands for a student's function in the trusted namespace; calls run in the kernel."""

    def __init__(self, name: str, session: _Session) -> None:
        self.__name__ = self.__qualname__ = name
        self._session = session

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return self._session.call(self.__name__, args, kwargs)

    def __repr__(self) -> str:
        return f"<function {self.__name__} (runs in the student's kernel)>"


def _free_names(source: str) -> set[str]:
    """Return the global names the function defined by `source` uses."""
    names: set[str] = set()

    def visit(table: symtable.SymbolTable) -> None:
        names.update(s.get_name() for s in table.get_symbols() if s.is_global())
        for child in table.get_children():
            visit(child)

    for child in symtable.symtable(source, "<test function>", "exec").get_children():
        visit(child)
    return names


class _Session:
    """One verification: the trusted namespace, and the calls it makes into the kernel."""

    def __init__(self, link: _KernelLink, answers: list[str], timeout: float) -> None:
        self.link = link
        self.loop = asyncio.get_running_loop()
        self.timeout = timeout
        self.helper = f"_softmax_trusted_{secrets.token_hex(8)}"
        self.dead = ""  # why the kernel is gone, once it is
        self.abort = False
        self.sources: dict[str, tuple[str, ast.Module]] = {}
        self.classes: dict[Any, type] = {}
        self.stderr: list[str] = []
        self.warnings = _private_warnings()
        self.tracemalloc = _Tracemalloc()
        table = {**vars(builtins), "__import__": self._import, "print": self._print}
        self.namespace: dict[str, Any] = {"__name__": "__main__", "__builtins__": table}
        for name in answers:
            self.namespace[name] = _Proxy(name, self)

    # -- setup ---------------------------------------------------------------------------

    async def renew(self) -> str:
        """Define a fresh helper (new name, new comm): the student's code may have run since."""
        self.helper = f"_softmax_trusted_{secrets.token_hex(8)}"
        return await self.start()

    async def start(self) -> str:
        """Define the helper in the kernel; return "" or why verification cannot run."""
        expression = (
            f"[__import__('builtins').exec({HELPER_SOURCE!r}, "
            f"{{'__name__': 'softmax_trusted', '_user_ns': globals(), '_NAME': {self.helper!r}}}),"
            " 'ready'][1]"
        )
        try:
            answer, _ = await self.link.evaluate(expression, max(self.timeout, 10.0))
            if answer != "ready":
                raise _HelperFailed(f"it answered {answer[:80]!r}")
            self.link.open_comm(self.helper)
        except _Dead:
            self.dead = "kernel died: the kernel stopped before the checks could start"
            return self.dead
        except _Timeout:
            return "timed out: the kernel did not answer the checker"
        except _HelperFailed as exc:
            return f"the checker could not run in the kernel ({exc})"
        return ""

    def _import(self, name: str, *args: Any, **kwargs: Any) -> Any:
        if name == "tracemalloc":
            return self.tracemalloc
        if name == "warnings":
            return self.warnings
        return builtins.__import__(name, *args, **kwargs)

    def _print(
        self,
        *args: Any,
        sep: str | None = " ",
        end: str | None = "\n",
        file: Any = None,
        flush: bool = False,
    ) -> None:
        if file is sys.stderr or file is sys.__stderr__:
            text = (sep if sep is not None else " ").join(map(str, args))
            self.stderr.append(text + (end if end is not None else "\n"))
        elif file is not None and file is not sys.stdout:
            print(*args, sep=sep, end=end, file=file, flush=flush)

    # -- calls into the kernel (from the cell's thread) ---------------------------------------

    def call(self, name: str, args: tuple, kwargs: dict) -> Any:
        """Run the student's `name`(*args, **kwargs) in the kernel and return its result."""
        if self.abort:
            raise _CellTimedOut()
        if self.dead:
            raise KernelDied(self.dead)
        if self.link.stuck:
            raise CallTimedOut(
                f"timed out: the kernel is still busy with an earlier call; {name}() was not run"
            )
        functions: dict[str, Any] = {}

        def hook(value: Any) -> Any:
            return self._reference(value, functions, hook)

        writeback = [i for i, a in enumerate(args) if isinstance(a, np.ndarray)]
        writeback += [k for k, v in kwargs.items() if isinstance(v, np.ndarray)]
        request = {
            "fn": name,
            "args": [_encode(arg, hook) for arg in args],
            "kwargs": {str(key): _encode(value, hook) for key, value in kwargs.items()},
            "functions": functions,
            "memory": self.tracemalloc.is_tracing(),
            "writeback": writeback,
        }
        future = asyncio.run_coroutine_threadsafe(
            self.link.call(json.dumps(request), self.timeout), self.loop
        )
        try:
            text, stderr = future.result()
        except _Dead:
            self.dead = f"kernel died: the kernel stopped while running {name}()"
            raise KernelDied(self.dead) from None
        except _Timeout:
            raise CallTimedOut(
                f"timed out: {name}() did not return within {self.timeout:g} s"
            ) from None
        except _HelperFailed as exc:
            raise UnreadableResult(f"the checker could not call {name}() ({exc})") from None
        self.stderr.append(stderr)
        try:
            outcome = json.loads(text)
            if not isinstance(outcome, dict):
                raise ValueError("not an object")
            self._replay(outcome, args, kwargs)
        except (ValueError, TypeError, KeyError, AttributeError, RecursionError) as exc:
            raise UnreadableResult(
                f"{name}() returned data the checker cannot read ({type(exc).__name__}: {exc})"
            ) from None
        if "error" in outcome:
            raise self._exception(outcome["error"])
        try:
            return _decode(outcome["value"])
        except (ValueError, TypeError, KeyError, AttributeError, RecursionError) as exc:
            raise UnreadableResult(
                f"{name}() returned data the checker cannot read ({type(exc).__name__}: {exc})"
            ) from None

    def _replay(self, outcome: dict, args: tuple, kwargs: dict) -> None:
        """Apply a call's side effects here: memory figures, changed arrays, then warnings."""
        memory = outcome.get("memory")
        if memory is not None:
            self.tracemalloc.record(int(memory[0]), int(memory[1]))
        for key, data in dict(outcome.get("writeback", {})).items():
            target = args[int(key)] if key.isdigit() else kwargs[key]
            changed = _decode_array(data)
            if (
                isinstance(target, np.ndarray)
                and target.flags.writeable
                and changed.shape == target.shape
                and changed.dtype == target.dtype
            ):
                np.copyto(target, changed)
        for info in list(outcome.get("warnings", []))[:200]:
            category = _rebuild(info, Warning, self.classes)
            self.warnings.warn_explicit(
                str(info.get("message", "")),
                category,
                str(info.get("filename", "<kernel>")),
                int(info.get("lineno", 0)),
            )

    def _exception(self, info: Any) -> BaseException:
        """Rebuild the exception a student's function raised, as data."""
        kind = _rebuild(info, BaseException, self.classes)
        message = str(info.get("message", ""))
        args = info.get("args")
        if isinstance(args, list) and kind.__module__ == "builtins":  # e.g. KeyError('x')
            try:
                return kind(*_decode(args))
            except Exception:
                pass
        return kind(message)

    def _reference(self, value: Any, functions: dict, hook: Callable[[Any], Any]) -> Any:
        """Return how a non-data value travels to the kernel: by name, or as source code."""
        if isinstance(value, _Proxy):
            return {"__proxy__": value.__name__}
        if isinstance(value, types.ModuleType):
            return {"__module__": value.__name__}
        if isinstance(value, types.FunctionType) and value.__code__.co_filename in self.sources:
            return {"__function__": self._ship(value, functions, hook)}
        module = getattr(value, "__module__", None)
        name = getattr(value, "__qualname__", None) or getattr(value, "__name__", None)
        if isinstance(module, str) and isinstance(name, str) and module.split(".")[0] in IMPORTABLE:
            try:
                found: Any = importlib.import_module(module)
                for part in name.split("."):
                    found = getattr(found, part)
            except (ImportError, AttributeError):
                found = None
            if found is value:
                return {"__attr__": [module, name]}
        raise TypeError(
            f"the checker cannot pass {type(value).__name__} {value!r:.60} to a student's function"
        )

    def _ship(self, function: types.FunctionType, functions: dict, hook: Callable) -> str:
        """Add a test-defined function (source and the values it uses) to `functions`."""
        key = f"f{id(function)}"
        if key in functions:
            return key
        functions[key] = None
        code = function.__code__
        text, tree = self.sources[code.co_filename]
        lambda_ = code.co_name == "<lambda>"
        nodes = [
            node
            for node in ast.walk(tree)
            if (
                isinstance(node, ast.Lambda)
                if lambda_
                else isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef))
                and node.name == code.co_name
            )
            and node.lineno == code.co_firstlineno
        ]
        if not nodes:
            raise TypeError(f"the checker cannot find the source of {function.__name__}")
        if len(nodes) > 1:  # several lambdas on one line: the one holding the code's positions
            spots = {(p[0], p[2]) for p in code.co_positions() if p[0] is not None and p[2]}
            nodes.sort(
                key=lambda n: (
                    -sum(
                        (n.lineno, n.col_offset) <= spot <= (n.end_lineno, n.end_col_offset)
                        for spot in spots
                    )
                )
            )
        node = nodes[0]
        if isinstance(node, ast.Lambda):
            source = f"__trusted_function__ = (\n{ast.get_source_segment(text, node)}\n)\n"
        else:
            if node.decorator_list:
                raise TypeError(f"the checker cannot send the decorated {node.name} to the kernel")
            segment = textwrap.dedent(ast.get_source_segment(text, node, padded=True) or "")
            source = f"{segment}\n__trusted_function__ = {node.name}\n"
        closure = dict(zip(code.co_freevars, function.__closure__ or (), strict=True))
        values: dict[str, Any] = {}
        for name in sorted(_free_names(source) - {"__trusted_function__"}):
            if name in closure:
                try:
                    values[name] = _encode(closure[name].cell_contents, hook)
                except ValueError:  # an empty cell
                    continue
            elif name in function.__globals__:
                values[name] = _encode(function.__globals__[name], hook)
        functions[key] = {"source": source, "globals": values}
        return key

    # -- running cells (in a thread of their own) -------------------------------------------

    def execute(self, cell: _Cell, filename: str) -> _Outcome:
        """Run one cell's code in the trusted namespace; return its error or last value."""
        self.stderr = []
        outcome = _Outcome()
        try:
            tree = ast.parse(cell.source, filename)
            self.sources[filename] = (cell.source, tree)
            body = ast.parse(cell.source, filename)
            last = None
            if (
                body.body
                and isinstance(body.body[-1], ast.Expr)
                and not cell.source.rstrip().endswith(";")
            ):
                last = ast.Expression(body.body.pop().value)
            exec(compile(body, filename, "exec"), self.namespace)
            if last is not None:
                outcome.value = eval(compile(last, filename, "eval"), self.namespace)
        except BaseException as exc:
            outcome.error = exc
        outcome.stderr = "".join(self.stderr)
        return outcome

    async def run(self, cell: _Cell, index: int, cell_timeout: float) -> _Outcome:
        """Run a cell in a thread; stop it (as far as Python allows) after `cell_timeout` s."""
        done: asyncio.Future[_Outcome] = self.loop.create_future()
        filename = f"<trusted cell {index}: {cell.grade_id or 'setup'}>"

        def target() -> None:
            try:
                outcome = self.execute(cell, filename)
            except BaseException as exc:  # an interruption that landed outside the cell
                outcome = _Outcome(error=exc)
            try:
                self.loop.call_soon_threadsafe(lambda: done.done() or done.set_result(outcome))
            except RuntimeError:  # the loop is gone: verification finished without us
                pass

        self.abort = False
        thread = threading.Thread(target=target, name="trusted-tests", daemon=True)
        thread.start()
        try:
            return await asyncio.wait_for(asyncio.shield(done), cell_timeout)
        except TimeoutError:
            self.abort = True
            if thread.ident is not None:
                ctypes.pythonapi.PyThreadState_SetAsyncExc(
                    ctypes.c_ulong(thread.ident), ctypes.py_object(_CellTimedOut)
                )
            try:
                await asyncio.wait_for(asyncio.shield(done), self.timeout + INTERRUPT_GRACE)
            except TimeoutError:
                pass
            return _Outcome(error=_CellTimedOut(), stderr="".join(self.stderr))
