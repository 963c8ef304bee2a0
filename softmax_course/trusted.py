"""Judge a submission's tests outside its kernel, where the student's code cannot reach them.

Code that runs in the same interpreter as the tests can always fool them: a wrong softmax plus
`numpy.testing.assert_allclose = lambda *a, **k: None` scores full marks in plain nbgrader, with
or without a sandbox. So, once the submission has run in its kernel, `verify_async` runs every
test cell again, taken from the SOURCE notebook in solutions/ (never from the submission), in
this trusted process: a fresh namespace, the genuine numpy, numpy.testing, sympy and math, and a
private copy of `warnings`. Each answer function (`<function>_answer` cells) is bound to a proxy.
Calling a proxy evaluates one user expression in the kernel: a helper, injected fresh right
before verification, calls the student's function there and hands back JSON data only (numbers
with nan/inf, lists, tuples, dicts, str, bytes, ndarrays as dtype/shape/bytes, SymPy objects as
srepr text that is rebuilt here by a whitelisted AST walk, never eval, sympify or pickle), plus
the warnings the call raised, the exception it raised (rebuilt here as the same builtin type, or
a class of the same name derived from its builtin bases), the stderr it wrote, its peak traced
memory when the test traces memory, and the final state of the ndarray arguments (so a function
that changes its input in place is caught as it is in the kernel). Whatever the kernel returns
is just data: the comparison with the expected values happens here.

Details a grader should know:
- Callables passed to a student function: a proxy travels by name; a function defined by the
  test cell travels as its source code, with the values of the names it uses, and is defined in
  the kernel (its outputs only feed the student's function, whose output is judged here);
  numpy/math/sympy functions travel as importable names.
- Warnings are re-emitted here with the private `warnings` copy, so `catch_warnings(record=True)`
  in a test records them; warnings nobody records are dropped, as nbgrader drops warning-only
  stderr. Warnings raised by the trusted side's own numpy go to the real `warnings` module.
- Memory: `import tracemalloc` in a test cell gets a shim whose `get_traced_memory()` reports
  what the kernel traced during the proxied calls made while tracing (allocations of the test
  code itself are not counted). The figure comes from the kernel: a student who also fakes
  tracemalloc in the kernel can lie about memory, not about values.
- Limits: each proxied call has `timeout` seconds (then the kernel is interrupted and the cell
  fails "timed out"; a kernel that does not answer the interrupt fails every later call the same
  way); each cell has `cell_timeout` seconds of trusted-side work; a dead kernel fails the cell
  and all later ones with "kernel died".
- Not protected: the kernel sees each call's inputs (as in nbgrader) and may answer anything, so
  answers hard-coded for the visible tests' inputs still pass those tests (hidden tests are the
  defence); memory figures (above); arguments are copies, so aliasing between arguments and
  results is lost (in-place changes to ndarray arguments are copied back).

Use (the grading engine, after executing the submission in `client`'s kernel):
    verdicts = await verify_async(client, source_nb, timeout=30)
    flagged = tampering(kernel_points(executed_nb), verdicts)  # "tampering suspected" cells
"""

from __future__ import annotations

import ast
import asyncio
import base64
import builtins
import ctypes
import importlib
import importlib.util
import inspect
import json
import queue
import re
import secrets
import symtable
import sys
import textwrap
import threading
import types
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import nbformat
import numpy as np
from nbformat.notebooknode import NotebookNode
from nbgrader import utils as nbgrader_utils

from softmax_course.check import failure_message, read_notebook
from softmax_course.course import STDERR_WARNINGS_PATTERN

MAX_REPLY_CHARS = 64 * 2**20
"""Longest kernel answer read, in characters (a 20 000-float array is about 0.2 MB)."""

INTERRUPT_GRACE = 5.0
"""Seconds a timed-out kernel gets to answer an interrupt before it counts as unresponsive."""

IMPORTABLE = ("numpy", "math", "cmath", "sympy", "scipy", "builtins", "operator", "functools")
"""Packages whose functions may be passed by name from the tests to a student's function."""


@dataclass(frozen=True)
class TrustedVerdict:
    """What one autograded test cell earned when judged outside the kernel."""

    grade_id: str
    points: float
    max_points: float
    message: str
    passed: bool


class CallTimedOut(BaseException):
    """A proxied call did not return in time (a BaseException: `except Exception` can't eat it)."""


class KernelDied(BaseException):
    """The student's kernel died during verification."""


class UnreadableResult(Exception):
    """The kernel answered with something that is not data the checker accepts."""


# --------------------------------------------------------------------------------------------
# Data codec. These functions run on both sides: the kernel helper is built from their source.
# They use only the names the helper's header imports: ast, base64, importlib, json, np, re, sys.

_DTYPE = re.compile(r"[<>|=][biufcmMSU]\d{1,5}(\[\w{1,8}\])?")
_SYMPY_CALLS = frozenset(
    "Symbol Dummy Integer Rational Float Add Mul Pow exp log sin cos tan sinh cosh tanh Abs sign "
    "sqrt KroneckerDelta Derivative Tuple MutableDenseMatrix ImmutableDenseMatrix Matrix Function "
    "Piecewise ExprCondPair Max Min Sum Product Heaviside Equality Unequality StrictLessThan "
    "StrictGreaterThan LessThan GreaterThan And Or Not Mod floor ceiling".split()
)
_SYMPY_ATOMS = frozenset("pi E I oo zoo nan true false EulerGamma GoldenRatio Catalan".split())
_SYMPY_NAMED = frozenset({"Symbol", "Dummy", "Function"})  # first argument: a name (str)


def _encode(value: Any, hook: Callable[[Any], Any] | None = None, depth: int = 0) -> Any:
    """Return `value` as JSON-ready data: plain JSON, or one-key dicts tagging other types."""
    if depth > 100:
        raise ValueError("data nested more than 100 levels deep")
    if value is None or value is True or value is False:
        return value
    if isinstance(value, (np.ndarray, np.generic)):
        return _encode_array(value, hook, depth)
    if isinstance(value, int):
        return int.__int__(value)
    if isinstance(value, float):
        return float.__float__(value)
    if isinstance(value, complex):
        return {"__complex__": [float(value.real), float(value.imag)]}
    if isinstance(value, str):
        return str.__str__(value)
    if isinstance(value, bytes):
        return {"__bytes__": base64.b64encode(bytes(value)).decode("ascii")}
    if isinstance(value, tuple):
        return {"__tuple__": [_encode(item, hook, depth + 1) for item in tuple.__iter__(value)]}
    if isinstance(value, list):
        return [_encode(item, hook, depth + 1) for item in list.__iter__(value)]
    if isinstance(value, dict):
        pairs = dict.items(value)
        return {
            "__dict__": [
                [_encode(k, hook, depth + 1), _encode(v, hook, depth + 1)] for k, v in pairs
            ]
        }
    sympy = sys.modules.get("sympy")
    if sympy is not None and isinstance(value, (sympy.Basic, sympy.MatrixBase)):
        return {"__sympy__": sympy.srepr(value)}
    if hook is not None:
        return hook(value)
    return _encode_opaque(value, depth)


def _encode_array(value: Any, hook: Callable[[Any], Any] | None, depth: int) -> Any:
    """Return an ndarray (any subclass, seen as a plain ndarray) or numpy scalar as data."""
    scalar = isinstance(value, np.generic)
    array = np.asarray(value) if scalar else np.ndarray.view(value, np.ndarray)
    if array.dtype == object:
        items = [_encode(item, hook, depth + 1) for item in array.reshape(-1).tolist()]
        return {"__objects__": list(array.shape), "items": items}
    if array.dtype.fields is not None or not _DTYPE.fullmatch(array.dtype.str):
        return _encode_opaque(value, depth)
    data = base64.b64encode(np.ascontiguousarray(array).tobytes()).decode("ascii")
    return {
        "__ndarray__": array.dtype.str,
        "shape": list(array.shape),
        "data": data,
        "scalar": scalar,
    }


def _encode_opaque(value: Any, depth: int) -> Any:
    """Describe an object that is not data: its type, its repr and, if any, its __array__."""
    kind = type(value)
    try:
        text = str.__str__(repr(value))[:2000]
    except BaseException:
        text = f"<{kind.__name__} object>"
    described = {
        "__opaque__": str(getattr(kind, "__qualname__", "object")),
        "module": str(getattr(kind, "__module__", "")),
        "repr": text,
    }
    if hasattr(kind, "__array__") and depth < 100:
        try:
            described["array"] = _encode_array(np.asarray(value), None, depth + 1)
        except BaseException:
            pass
    return described


def _decode(data: Any, hook: Callable[[dict], Any] | None = None, depth: int = 0) -> Any:
    """Rebuild a value from `_encode`'s data; refuse anything else (no eval, no pickle)."""
    if depth > 100:
        raise ValueError("data nested more than 100 levels deep")
    if data is None or isinstance(data, (bool, int, float, str)):
        return data
    if isinstance(data, list):
        return [_decode(item, hook, depth + 1) for item in data]
    if not isinstance(data, dict) or not data:
        raise ValueError(f"unreadable data of type {type(data).__name__}")
    if "__tuple__" in data:
        return tuple(_decode(item, hook, depth + 1) for item in data["__tuple__"])
    if "__dict__" in data:
        return {
            _decode(k, hook, depth + 1): _decode(v, hook, depth + 1) for k, v in data["__dict__"]
        }
    if "__complex__" in data:
        real, imag = data["__complex__"]
        return complex(float(real), float(imag))
    if "__bytes__" in data:
        return base64.b64decode(data["__bytes__"], validate=True)
    if "__ndarray__" in data:
        return _decode_array(data)
    if "__objects__" in data:
        items = [_decode(item, hook, depth + 1) for item in data["items"]]
        array = np.empty(_shape(data["__objects__"], len(items)), dtype=object)
        flat = array.reshape(-1)
        for index, item in enumerate(items):
            flat[index] = item
        return array
    if "__sympy__" in data:
        return _parse_srepr(data["__sympy__"])
    if "__opaque__" in data:
        return _opaque(data)
    if hook is not None:
        return hook(data)
    raise ValueError(f"unreadable data tagged {sorted(data)[:2]}")


def _shape(shape: Any, count: int | None = None) -> tuple[int, ...]:
    """Check a shape from the wire: at most 32 non-negative ints, matching `count` items."""
    if not isinstance(shape, list) or len(shape) > 32:
        raise ValueError("bad array shape")
    size = 1
    for extent in shape:
        if type(extent) is not int or extent < 0:
            raise ValueError("bad array shape")
        size *= extent
    if count is not None and size != count:
        raise ValueError("array shape does not match its data")
    return tuple(shape)


def _decode_array(data: dict) -> Any:
    """Rebuild a numeric, bool, str or datetime ndarray (or numpy scalar) from its bytes."""
    text = data["__ndarray__"]
    if not isinstance(text, str) or not _DTYPE.fullmatch(text):
        raise ValueError("array of a dtype the checker does not accept")
    dtype = np.dtype(text)
    if dtype.hasobject or dtype.fields is not None:
        raise ValueError("array of a dtype the checker does not accept")
    raw = base64.b64decode(data["data"], validate=True)
    if dtype.itemsize == 0 or len(raw) % dtype.itemsize:
        raise ValueError("array data does not match its dtype")
    shape = _shape(data["shape"], len(raw) // dtype.itemsize)
    array = np.frombuffer(raw, dtype=dtype).reshape(shape).copy()
    return array[()] if data.get("scalar") is True and shape == () else array


def _parse_srepr(text: Any) -> Any:
    """Rebuild a SymPy object from srepr text, calling only whitelisted SymPy classes.

    Strings are accepted only as names (Symbol, Dummy, Function) and Float digits: SymPy's
    functions sympify their arguments, and sympify of a string is eval.
    """
    import sympy

    if not isinstance(text, str) or len(text) > 4_000_000:
        raise ValueError("SymPy expression missing or too long")
    tree = ast.parse(text, mode="eval")
    if sum(1 for _ in ast.walk(tree)) > 500_000:
        raise ValueError("SymPy expression too large")

    def build(node: ast.AST, name_allowed: bool = False) -> Any:
        if isinstance(node, ast.Constant) and type(node.value) in (int, float, bool):
            return node.value
        if isinstance(node, ast.Constant) and type(node.value) is str and name_allowed:
            return node.value
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
            operand = build(node.operand)
            if type(operand) in (int, float):
                return -operand
        if isinstance(node, ast.List):
            return [build(item) for item in node.elts]
        if isinstance(node, ast.Name) and node.id in _SYMPY_ATOMS:
            return getattr(sympy, node.id)
        if isinstance(node, ast.Call):
            return call(node)
        raise ValueError(f"not a SymPy expression the checker accepts: {ast.dump(node)[:80]}")

    def call(node: ast.Call) -> Any:
        func = node.func
        if isinstance(func, ast.Name) and func.id in _SYMPY_CALLS:
            name, target = func.id, getattr(sympy, func.id)
        elif (
            isinstance(func, ast.Call)
            and isinstance(func.func, ast.Name)
            and func.func.id == "Function"
        ):
            name, target = "", call(func)  # an undefined function applied: Function('f')(x)
        else:
            raise ValueError("SymPy expression calls something the checker does not accept")
        if any(isinstance(arg, ast.Starred) for arg in node.args):
            raise ValueError("SymPy expression with *args")
        named = name in _SYMPY_NAMED or name == "Float"
        args = [build(arg, named and i == 0) for i, arg in enumerate(node.args)]
        kwargs = {}
        for keyword in node.keywords:
            value = build(keyword.value)
            allowed = (name in _SYMPY_NAMED and type(value) is bool) or (
                name == "Float"
                and keyword.arg == "precision"
                and type(value) is int
                and 1 <= value <= 10_000
            )
            if keyword.arg is None or not allowed:
                raise ValueError(f"SymPy expression with keyword {keyword.arg!r} for {name}")
            kwargs[keyword.arg] = value
        if (
            name == "Pow"
            and len(args) == 2
            and all(getattr(a, "is_Number", 0) for a in args)
            and abs(args[1]) > 10_000
        ):
            raise ValueError("SymPy expression with a number raised to a huge power")
        return target(*args, **kwargs)

    return build(tree.body)


class Opaque:
    """Stands for an object the kernel returned that is not data: it shows the student's repr."""

    def __init__(self, text: str) -> None:
        self._text = text

    def __repr__(self) -> str:
        return self._text


class OpaqueArrayLike(Opaque):
    """An object that is not data but had an __array__: numpy sees the array the kernel gave."""

    def __init__(self, text: str, array: Any) -> None:
        super().__init__(text)
        self._array = array

    def __array__(self, dtype: Any = None, copy: Any = None) -> Any:
        return self._array if dtype is None else self._array.astype(dtype)

    def __len__(self) -> int:
        return len(self._array)

    def __iter__(self) -> Any:
        return iter(self._array)

    def __getitem__(self, key: Any) -> Any:
        return self._array[key]


def _opaque(data: dict) -> Opaque:
    """Return an Opaque of a class named like the student's type, which numpy cannot mistake."""
    name = data["__opaque__"].rsplit(".", 1)[-1]
    name = name if name.isidentifier() else "object"
    text = str(data.get("repr", ""))[:2000]
    if "array" in data:
        array = _decode_array(data["array"])
        return type(name, (OpaqueArrayLike,), {"__module__": "student"})(text, array)
    return type(name, (Opaque,), {"__module__": "student"})(text)


# --------------------------------------------------------------------------------------------
# The kernel side. `_kernel_helper` runs in the kernel only; `HELPER_SOURCE` is what is sent.


def _kernel_helper(user_ns: dict) -> Callable[[str], str]:
    """(In the kernel.) Return the function that runs one requested call and reports it."""
    import builtins
    import tracemalloc
    import warnings

    def describe(exc: BaseException) -> dict:
        kind = type(exc)
        bases = [
            k.__name__
            for k in kind.__mro__
            if k.__module__ == "builtins" and issubclass(k, BaseException)
        ]
        try:
            message = str(exc)[:20000]
        except BaseException:
            message = ""
        plain = all(type(a) in (str, int, float) for a in exc.args) and len(exc.args) < 8
        return {
            "name": kind.__name__,
            "bases": bases,
            "message": message,
            "args": _encode(list(exc.args)) if plain else None,
        }

    def resolver(functions: dict) -> Callable[[dict], Any]:
        made: dict[str, Any] = {}

        def resolve(tag: dict) -> Any:
            if "__proxy__" in tag:
                name = tag["__proxy__"]
                if name not in user_ns:
                    raise NameError(f"name '{name}' is not defined")
                return user_ns[name]
            if "__module__" in tag:
                return importlib.import_module(tag["__module__"])
            if "__attr__" in tag:
                found = importlib.import_module(tag["__attr__"][0])
                for part in tag["__attr__"][1].split("."):
                    found = getattr(found, part)
                return found
            key = tag["__function__"]
            if key in made:
                return made[key] or (lambda *a, **k: made[key](*a, **k))  # noqa: E731 recursion
            made[key] = None
            spec = functions[key]
            namespace = {"__builtins__": builtins, "__name__": "trusted_tests"}
            for name, value in spec["globals"].items():
                namespace[name] = _decode(value, resolve)
            exec(compile(spec["source"], "<test function>", "exec"), namespace)
            made[key] = namespace["__trusted_function__"]
            return made[key]

        return resolve

    def run(request: dict) -> dict:
        resolve = resolver(request["functions"])
        try:
            function = resolve({"__proxy__": request["fn"]})
            args = [_decode(arg, resolve) for arg in request["args"]]
            kwargs = {key: _decode(value, resolve) for key, value in request["kwargs"].items()}
        except BaseException as exc:
            return {"error": describe(exc)}
        outcome: dict[str, Any] = {}
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            try:
                started = base = 0
                if request["memory"]:
                    if tracemalloc.is_tracing():
                        tracemalloc.reset_peak()
                        base = tracemalloc.get_traced_memory()[0]
                    else:
                        tracemalloc.start()
                        started = 1
                try:
                    value = function(*args, **kwargs)
                finally:
                    if request["memory"]:
                        current, peak = tracemalloc.get_traced_memory()
                        outcome["memory"] = [max(current - base, 0), max(peak - base, 0)]
                        if started:
                            tracemalloc.stop()
                outcome["value"] = _encode(value)
            except BaseException as exc:
                outcome["error"] = describe(exc)
        outcome["warnings"] = [
            {
                "name": w.category.__name__,
                "message": str(w.message)[:5000],
                "bases": [k.__name__ for k in w.category.__mro__ if k.__module__ == "builtins"],
                "filename": str(w.filename),
                "lineno": int(w.lineno),
            }
            for w in caught[:200]
        ]
        outcome["writeback"] = {
            str(key): _encode(args[key] if isinstance(key, int) else kwargs[key])
            for key in request["writeback"]
            if isinstance(args[key] if isinstance(key, int) else kwargs[key], np.ndarray)
        }
        return outcome

    def call(request_text: str) -> str:
        try:
            outcome = run(json.loads(request_text))
        except BaseException as exc:
            outcome = {"error": describe(exc)}
        return json.dumps(outcome)

    return call


def _helper_source() -> str:
    """Return the code that defines the helper in the kernel (in a namespace of its own)."""
    header = (
        "from __future__ import annotations\n"
        "import ast, base64, importlib, json, re, sys\nimport numpy as np\n"
    )
    constants = "".join(
        f"{name} = {value!r}\n"
        for name, value in [
            ("_DTYPE", _DTYPE),
            ("_SYMPY_CALLS", _SYMPY_CALLS),
            ("_SYMPY_ATOMS", _SYMPY_ATOMS),
            ("_SYMPY_NAMED", _SYMPY_NAMED),
        ]
    )
    parts = [
        _encode,
        _encode_array,
        _encode_opaque,
        _decode,
        _shape,
        _decode_array,
        _parse_srepr,
        Opaque,
        OpaqueArrayLike,
        _opaque,
        _kernel_helper,
    ]
    body = "\n\n".join(inspect.getsource(part) for part in parts)
    return f"{header}{constants}\n{body}\n_user_ns[_NAME] = _kernel_helper(_user_ns)\n"


HELPER_SOURCE = _helper_source()


# --------------------------------------------------------------------------------------------
# Talking to the kernel (asyncio side).


class _Timeout(Exception):
    pass


class _Dead(Exception):
    pass


class _HelperFailed(Exception):
    pass


async def _maybe_await(value: Any) -> Any:
    return await value if inspect.isawaitable(value) else value


class _KernelLink:
    """Evaluates user expressions in the kernel, one at a time, with time limits."""

    def __init__(
        self,
        client: Any,
        kernel_alive: Callable[[], Any] | None,
        interrupt: Callable[[], Any] | None,
    ) -> None:
        self.client = client
        self.kernel_alive = kernel_alive
        self.interrupt = interrupt
        self.stuck = False  # the kernel did not answer an interrupt

    async def _get(self, channel: str, timeout: float) -> dict:
        getter = getattr(self.client, f"get_{channel}_msg")
        if inspect.iscoroutinefunction(getter):
            return await getter(timeout=timeout)
        return await asyncio.to_thread(getter, timeout=timeout)

    async def alive(self) -> bool:
        """Return whether the kernel process still runs."""
        check = self.kernel_alive or self.client.is_alive
        return bool(await _maybe_await(check()))

    async def evaluate(self, expression: str, timeout: float) -> tuple[str, str]:
        """Evaluate `expression` in the kernel; return its text/plain and the stderr written."""
        msg_id = self.client.execute(
            "",
            silent=True,
            store_history=False,
            user_expressions={"r": expression},
            allow_stdin=False,
            stop_on_error=False,
        )
        reply = await self._reply(msg_id, timeout)
        stderr = await self._stderr(msg_id)
        content = reply.get("content", {})
        result = content.get("user_expressions", {}).get("r")
        if content.get("status") != "ok" or not isinstance(result, dict):
            raise _HelperFailed(f"{content.get('ename', 'error')}: {content.get('evalue', '')}")
        if result.get("status") != "ok":
            raise _HelperFailed(f"{result.get('ename', 'error')}: {result.get('evalue', '')}")
        text = result.get("data", {}).get("text/plain", "")
        if not isinstance(text, str) or len(text) > MAX_REPLY_CHARS:
            raise _HelperFailed("the kernel's answer is missing or too long")
        try:
            node = ast.parse(text, mode="eval").body
        except (SyntaxError, ValueError, RecursionError, MemoryError):
            node = None
        if not (isinstance(node, ast.Constant) and isinstance(node.value, str)):
            raise _HelperFailed(f"the kernel answered {text[:80]!r}, not the checker's text")
        return node.value, stderr

    async def _reply(self, msg_id: str, timeout: float) -> dict:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            remaining = deadline - loop.time()
            if remaining <= 0:
                await self._recover(msg_id)
                raise _Timeout()
            try:
                message = await self._get("shell", min(remaining, 1.0))
            except queue.Empty:
                if not await self.alive():
                    raise _Dead() from None
                continue
            if message.get("parent_header", {}).get("msg_id") == msg_id:
                return message

    async def _recover(self, msg_id: str) -> None:
        """Interrupt a call that ran out of time and wait a little for the kernel to answer."""
        try:
            if self.interrupt is not None:
                await _maybe_await(self.interrupt())
            elif hasattr(getattr(self.client, "parent", None), "interrupt_kernel"):
                await _maybe_await(self.client.parent.interrupt_kernel())
            else:
                self.client.control_channel.send(
                    self.client.session.msg("interrupt_request", content={})
                )
        except Exception:
            pass
        loop = asyncio.get_running_loop()
        deadline = loop.time() + INTERRUPT_GRACE
        while (remaining := deadline - loop.time()) > 0:
            try:
                message = await self._get("shell", min(remaining, 0.5))
            except queue.Empty:
                continue
            if message.get("parent_header", {}).get("msg_id") == msg_id:
                await self._stderr(msg_id)
                return
        self.stuck = True

    async def _stderr(self, msg_id: str) -> str:
        """Collect what the request wrote to stderr, until the kernel says it is idle."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + 2.0
        chunks = []
        while (remaining := deadline - loop.time()) > 0:
            try:
                message = await self._get("iopub", remaining)
            except queue.Empty:
                break
            if message.get("parent_header", {}).get("msg_id") != msg_id:
                continue
            content = message.get("content", {})
            if message.get("msg_type") == "stream" and content.get("name") == "stderr":
                chunks.append(str(content.get("text", "")))
            if message.get("msg_type") == "status" and content.get("execution_state") == "idle":
                break
        return "".join(chunks)


# --------------------------------------------------------------------------------------------
# The trusted namespace: proxies, a private `warnings`, a `tracemalloc` shim.


class _Proxy:
    """Stands for a student's function in the trusted namespace; calls run in the kernel."""

    def __init__(self, name: str, session: _Session) -> None:
        self.__name__ = self.__qualname__ = name
        self._session = session

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return self._session.call(self.__name__, args, kwargs)

    def __repr__(self) -> str:
        return f"<function {self.__name__} (runs in the student's kernel)>"


def _private_warnings() -> types.ModuleType:
    """Return a pure-Python copy of `warnings` with filters of its own, for one verification.

    The real module's state is global to the process, and other verifications may run in other
    threads; this copy is touched only by one notebook's test cells.
    """
    name = "_py_warnings" if importlib.util.find_spec("_py_warnings") else "warnings"
    spec = importlib.util.find_spec(name)
    assert spec is not None and spec.loader is not None and spec.origin is not None
    source = spec.loader.get_source(name)  # type: ignore[attr-defined]
    module = types.ModuleType("warnings")

    def no_accelerator(name: str, *args: Any, **kwargs: Any) -> Any:
        if name == "_warnings":
            raise ImportError("private pure-Python copy")
        return builtins.__import__(name, *args, **kwargs)

    module.__dict__["__builtins__"] = {**vars(builtins), "__import__": no_accelerator}
    exec(compile(source, spec.origin, "exec"), module.__dict__)
    module._showwarnmsg_impl = lambda message: None  # type: ignore[attr-defined]
    base = module.catch_warnings

    class catch_warnings(base):  # type: ignore[misc,valid-type]  # noqa: N801
        def __init__(self, *, record: bool = False, module: Any = None, **kwargs: Any) -> None:
            super().__init__(record=record, module=module or private, **kwargs)

    private = module
    module.catch_warnings = catch_warnings  # type: ignore[attr-defined]
    return module


class _Tracemalloc(types.ModuleType):
    """`tracemalloc` for the trusted tests: reports what the kernel traced in proxied calls."""

    def __init__(self) -> None:
        super().__init__("tracemalloc")
        self._tracing = False
        self._current = self._peak = 0

    def start(self, nframe: int = 1) -> None:
        """Start tracing the kernel's allocations in the calls that follow."""
        if not self._tracing:
            self._tracing, self._current, self._peak = True, 0, 0

    def stop(self) -> None:
        """Stop tracing and forget the figures."""
        self._tracing, self._current, self._peak = False, 0, 0

    def is_tracing(self) -> bool:
        """Return whether tracing is on."""
        return self._tracing

    def get_traced_memory(self) -> tuple[int, int]:
        """Return (current, peak) bytes the kernel traced since start()."""
        return (self._current, self._peak) if self._tracing else (0, 0)

    def reset_peak(self) -> None:
        """Set the peak to the current figure."""
        self._peak = self._current

    def clear_traces(self) -> None:
        """Forget the figures."""
        self._current = self._peak = 0

    def record(self, grown: int, peak: int) -> None:
        """Add one proxied call's figures, measured in the kernel."""
        if self._tracing:
            self._peak = max(self._peak, self._current + peak)
            self._current += grown

    def __getattr__(self, name: str) -> Any:
        import tracemalloc

        return getattr(tracemalloc, name)


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


def _rebuild(info: Any, root: type, cache: dict) -> type:
    """Return the builtin class `info` names, or a class of that name over its builtin bases."""
    name = str(info.get("name", root.__name__))
    bases = [b for b in info.get("bases", []) if isinstance(b, str)]
    found = getattr(builtins, name, None)
    if (
        name in bases
        and isinstance(found, type)
        and issubclass(found, root)
        and (root is not BaseException or issubclass(found, Exception))
    ):
        return found
    key = (name, tuple(bases))
    if key not in cache:
        parents = [getattr(builtins, b) for b in bases if b != name]
        parents = [p for p in parents if isinstance(p, type) and issubclass(p, root)]
        if root is BaseException and not any(issubclass(p, Exception) for p in parents):
            parents = [_StudentExit]  # SystemExit, KeyboardInterrupt: never exit this process
        parents = [p for p in parents if not any(q is not p and issubclass(q, p) for q in parents)]
        clean = name if name.isidentifier() else root.__name__
        try:
            cache[key] = type(clean, tuple(parents) or (root,), {"__module__": "student"})
        except TypeError:
            cache[key] = type(clean, (parents[0] if parents else root,), {"__module__": "student"})
    return cache[key]


class _StudentExit(BaseException):
    """Base of a SystemExit (or the like) raised by student code: fails the cell, exits nothing."""


@dataclass
class _Cell:
    grade_id: str | None  # None: a setup cell (run, not graded)
    source: str
    points: float


@dataclass
class _Outcome:
    error: BaseException | None = None
    value: Any = None
    stderr: str = ""


class _CellTimedOut(BaseException):
    pass


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
        expression = f"{self.helper}({json.dumps(request)!r})"
        future = asyncio.run_coroutine_threadsafe(
            self.link.evaluate(expression, self.timeout), self.loop
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


def _plan(nb: NotebookNode) -> tuple[list[str], list[_Cell]]:
    """Return the answer functions and the cells to run (locked setup, tests) of a source notebook.

    `nb` must be the instructor's notebook from solutions/, never one derived from a submission:
    its locked and test cells run in this process. Answer functions are named by the grade ids
    of the answer cells (`<function>_answer`) only, never by what an answer cell defines.
    """
    answers: list[str] = []
    cells: list[_Cell] = []
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        meta = cell.metadata.get("nbgrader", {})
        if meta.get("solution"):
            grade_id = str(meta.get("grade_id", ""))
            if grade_id.endswith("_answer") and grade_id[:-7].isidentifier():
                answers.append(grade_id.removesuffix("_answer"))
            continue  # the student's code: never run on the trusted side
        if not (meta.get("locked") or meta.get("grade")):
            continue  # a cell students may change: its code is not the instructor's to trust
        grade_id = meta.get("grade_id") if meta.get("grade") else None
        cells.append(_Cell(grade_id, cell.source, float(meta.get("points", 0) or 0)))
    return answers, cells


def _verdict(cell: _Cell, outcome: _Outcome) -> TrustedVerdict:
    """Grade one cell as nbgrader would from its outputs: stderr or error 0, else full/partial."""
    assert cell.grade_id is not None
    stderr = outcome.stderr
    if stderr.strip() and not re.search(STDERR_WARNINGS_PATTERN, stderr):
        last = stderr.strip().splitlines()[-1]
        return TrustedVerdict(cell.grade_id, 0.0, cell.points, f"wrote to stderr: {last}", False)
    error = outcome.error
    if isinstance(error, _CellTimedOut):
        return _failed(cell, "timed out: the test took longer than allowed")
    if isinstance(error, (CallTimedOut, KernelDied)):
        return _failed(cell, str(error))
    if error is not None:
        try:
            evalue = str(error)
        except Exception:
            evalue = ""
        node = nbformat.from_dict(
            {"outputs": [{"output_type": "error", "ename": type(error).__name__, "evalue": evalue}]}
        )
        return _failed(cell, failure_message(node))
    points = cell.points
    if outcome.value is not None:  # nbgrader's partial credit: a number displayed last
        try:
            shown = float(repr(outcome.value))
        except (TypeError, ValueError):
            shown = None
        if shown is not None and shown >= 0:
            points = shown if shown <= cell.points else 0.0
    return TrustedVerdict(cell.grade_id, points, cell.points, "", points >= cell.points)


def _failed(cell: _Cell, message: str) -> TrustedVerdict:
    assert cell.grade_id is not None
    return TrustedVerdict(cell.grade_id, 0.0, cell.points, message, False)


# --------------------------------------------------------------------------------------------
# Public API.


async def verify_async(
    client: Any,
    source_nb: NotebookNode | Path | str,
    *,
    timeout: float = 30.0,
    cell_timeout: float = 120.0,
    kernel_alive: Callable[[], Awaitable[bool] | bool] | None = None,
    interrupt: Callable[[], Awaitable[None] | None] | None = None,
) -> dict[str, TrustedVerdict]:
    """Judge every autograded test cell of `source_nb` against the student's kernel.

    `client`: a started (Async or Blocking) KernelClient of the kernel in which the submission
    has just run, used by nothing else meanwhile. `source_nb`: the instructor's notebook from
    solutions/ (a NotebookNode or a path), never the submission: its locked and test cells run in
    this process. Returns a TrustedVerdict per autograded test cell, by grade_id, in order.
    """
    nb = source_nb if isinstance(source_nb, NotebookNode) else read_notebook(Path(source_nb))
    answers, cells = _plan(nb)
    session = _Session(_KernelLink(client, kernel_alive, interrupt), answers, timeout)
    problem = await session.start()
    verdicts: dict[str, TrustedVerdict] = {}
    for index, cell in enumerate(cells):
        if not problem and session.dead:
            problem = session.dead
        if problem:
            if cell.grade_id is not None:
                verdicts[cell.grade_id] = _failed(cell, problem)
            continue
        outcome = await session.run(cell, index, cell_timeout)
        if cell.grade_id is not None:
            verdicts[cell.grade_id] = _verdict(cell, outcome)
    return verdicts


def verify(
    client: Any,
    source_nb: NotebookNode | Path | str,
    *,
    timeout: float = 30.0,
    cell_timeout: float = 120.0,
    kernel_alive: Callable[[], Awaitable[bool] | bool] | None = None,
    interrupt: Callable[[], Awaitable[None] | None] | None = None,
) -> dict[str, TrustedVerdict]:
    """Blocking `verify_async`, for a BlockingKernelClient, from a thread with no running loop."""
    return asyncio.run(
        verify_async(
            client,
            source_nb,
            timeout=timeout,
            cell_timeout=cell_timeout,
            kernel_alive=kernel_alive,
            interrupt=interrupt,
        )
    )


def kernel_points(executed_nb: NotebookNode) -> dict[str, float | None]:
    """Return nbgrader's in-kernel points per autograded test cell of an executed notebook."""
    return {
        cell.metadata.nbgrader["grade_id"]: nbgrader_utils.determine_grade(cell)[0]
        for cell in executed_nb.cells
        if cell.cell_type == "code"
        and nbgrader_utils.is_grade(cell)
        and not nbgrader_utils.is_solution(cell)
    }


def tampering(
    kernel_grades: Mapping[str, float | None], trusted: Mapping[str, TrustedVerdict]
) -> list[str]:
    """Return the test cells where the kernel claimed more points than the trusted check gives."""
    return [
        grade_id
        for grade_id, verdict in trusted.items()
        if (claimed := kernel_grades.get(grade_id)) is not None and claimed > verdict.points + 1e-9
    ]


__all__ = [
    "CallTimedOut",
    "KernelDied",
    "Opaque",
    "OpaqueArrayLike",
    "TrustedVerdict",
    "UnreadableResult",
    "kernel_points",
    "tampering",
    "verify",
    "verify_async",
]
