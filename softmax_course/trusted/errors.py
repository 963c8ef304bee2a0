"""The exceptions of a verification, and the classes rebuilt from those the student's code raised.

`_rebuild` turns the name and builtin bases the kernel reports for an exception or a warning
into a class here: the builtin class itself, or a class of that name over its builtin bases
(never one that could exit this process).
"""

from __future__ import annotations

import builtins
from typing import Any


class CallTimedOut(BaseException):
    """A proxied call did not return in time (a BaseException: `except Exception` can't eat it)."""


class KernelDied(BaseException):
    """The student's kernel died during verification."""


class UnreadableResult(Exception):
    """The kernel answered with something that is not data the checker accepts."""


class _CellTimedOut(BaseException):
    pass


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
