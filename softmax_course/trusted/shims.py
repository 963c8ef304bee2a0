"""Modules the trusted test cells import instead of the real ones: `warnings` and `tracemalloc`.

A private pure-Python copy of `warnings` (its filters are this verification's own), and a
`tracemalloc` that reports what the kernel traced during the proxied calls.
"""

from __future__ import annotations

import builtins
import importlib.util
import types
from typing import Any


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
