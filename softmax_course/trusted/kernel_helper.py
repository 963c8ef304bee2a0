"""The kernel side: `_kernel_helper` and the functions after it run in the kernel only;
`HELPER_SOURCE` is what is sent.

`HELPER_SOURCE` is the source of the codec, the SymPy rebuild, `_kernel_helper` and the functions
it calls, which the verification defines in the student's kernel (in a namespace of its own) right
before it starts. The kernel-side functions use only the names its header imports (the codec's,
and builtins, tracemalloc and warnings), bound once, when the helper is defined.
"""

from __future__ import annotations

import builtins
import importlib
import inspect
import json
import tracemalloc
import warnings
from collections.abc import Callable
from typing import Any

import numpy as np

from softmax_course.trusted.codec import (
    _DTYPE,
    Opaque,
    OpaqueArrayLike,
    _decode,
    _decode_array,
    _decode_objects,
    _decode_tagged,
    _encode,
    _encode_array,
    _encode_builtin,
    _encode_opaque,
    _opaque,
    _shape,
)
from softmax_course.trusted.srepr import (
    _SYMPY_ATOMS,
    _SYMPY_CALLS,
    _SYMPY_NAMED,
    _parse_srepr,
    _srepr_call,
    _srepr_keyword_allowed,
    _srepr_node,
)


def _kernel_helper(user_ns: dict) -> Callable[[str], str]:
    """(In the kernel.) Return the function that runs one requested call and reports it."""

    def call(request_text: str) -> str:
        try:
            outcome = _run(json.loads(request_text), user_ns)
        except BaseException as exc:
            outcome = {"error": _describe(exc)}
        return json.dumps(outcome)

    return call


def _describe(exc: BaseException) -> dict:
    """(In the kernel.) Return an exception as data: its name, builtin bases, message and args."""
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


def _resolver(user_ns: dict, functions: dict) -> Callable[[dict], Any]:
    """(In the kernel.) Return the codec hook for callables: proxies, modules, test functions."""
    made: dict[str, Any] = {}

    def resolve(tag: dict) -> Any:
        if "__proxy__" in tag:
            name = tag["__proxy__"]
            if name not in user_ns:
                raise NameError(f"name '{name}' is not defined")
            return user_ns[name]
        if "__module__" in tag or "__attr__" in tag:
            return _importable(tag)
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


def _importable(tag: dict) -> Any:
    """(In the kernel.) Return the module, or the attribute of a module, that `tag` names."""
    if "__module__" in tag:
        return importlib.import_module(tag["__module__"])
    found = importlib.import_module(tag["__attr__"][0])
    for part in tag["__attr__"][1].split("."):
        found = getattr(found, part)
    return found


def _run(request: dict, user_ns: dict) -> dict:
    """(In the kernel.) Run one requested call; return its value or error, warnings, writeback."""
    resolve = _resolver(user_ns, request["functions"])
    try:
        function = resolve({"__proxy__": request["fn"]})
        args = [_decode(arg, resolve) for arg in request["args"]]
        kwargs = {key: _decode(value, resolve) for key, value in request["kwargs"].items()}
    except BaseException as exc:
        return {"error": _describe(exc)}
    outcome: dict[str, Any] = {}
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            value = _traced_call(function, args, kwargs, request["memory"], outcome)
            outcome["value"] = _encode(value)
        except BaseException as exc:
            outcome["error"] = _describe(exc)
    outcome["warnings"] = [_warning_data(w) for w in caught[:200]]
    outcome["writeback"] = {
        str(key): _encode(args[key] if isinstance(key, int) else kwargs[key])
        for key in request["writeback"]
        if isinstance(args[key] if isinstance(key, int) else kwargs[key], np.ndarray)
    }
    return outcome


def _traced_call(function: Any, args: list, kwargs: dict, memory: Any, outcome: dict) -> Any:
    """(In the kernel.) Call `function`; if `memory`, put the memory it traced in `outcome`."""
    started = base = 0
    if memory:
        if tracemalloc.is_tracing():
            tracemalloc.reset_peak()
            base = tracemalloc.get_traced_memory()[0]
        else:
            tracemalloc.start()
            started = 1
    try:
        return function(*args, **kwargs)
    finally:
        if memory:
            current, peak = tracemalloc.get_traced_memory()
            outcome["memory"] = [max(current - base, 0), max(peak - base, 0)]
            if started:
                tracemalloc.stop()


def _warning_data(w: Any) -> dict:
    """(In the kernel.) Return a caught warning as data: category, message, bases and place."""
    return {
        "name": w.category.__name__,
        "message": str(w.message)[:5000],
        "bases": [k.__name__ for k in w.category.__mro__ if k.__module__ == "builtins"],
        "filename": str(w.filename),
        "lineno": int(w.lineno),
    }


def _helper_source() -> str:
    """Return the code that defines the helper in the kernel (in a namespace of its own)."""
    header = (
        "from __future__ import annotations\n"
        "import ast, base64, builtins, importlib, json, re, sys, tracemalloc, warnings\n"
        "import numpy as np\n"
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
        _encode_builtin,
        _encode_array,
        _encode_opaque,
        _decode,
        _decode_tagged,
        _decode_objects,
        _shape,
        _decode_array,
        _parse_srepr,
        _srepr_node,
        _srepr_call,
        _srepr_keyword_allowed,
        Opaque,
        OpaqueArrayLike,
        _opaque,
        _kernel_helper,
        _describe,
        _resolver,
        _importable,
        _run,
        _traced_call,
        _warning_data,
    ]
    body = "\n\n".join(inspect.getsource(part) for part in parts)
    return f"{header}{constants}\n{body}\n_user_ns[_NAME] = _kernel_helper(_user_ns)\n{SERVE}"


SERVE = """
def _serve(comm, _opened):
    @comm.on_msg
    def _answer(msg):
        comm.send({"r": _user_ns[_NAME](msg["content"]["data"]["q"])})


__import__("IPython").get_ipython().kernel.comm_manager.register_target(_NAME, _serve)
"""
"""Also answers the helper's calls as comm messages (target: the helper's name), which cost the
kernel and the grader about 1 ms less per call than a user expression in an execute request."""


HELPER_SOURCE = _helper_source()
