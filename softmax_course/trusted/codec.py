"""The data codec: values to and from JSON-ready data, and Opaque stand-ins for non-data.

These functions run on both sides: the kernel helper is built from their source (see
`kernel_helper`). They use only the names the helper's header imports: ast, base64, importlib,
json, np, re, sys.
"""

from __future__ import annotations

import base64
import re
import sys
from collections.abc import Callable
from typing import Any

import numpy as np

from softmax_course.trusted.srepr import _parse_srepr

_DTYPE = re.compile(r"[<>|=][biufcmMSU]\d{1,5}(\[\w{1,8}\])?")


def _encode(value: Any, hook: Callable[[Any], Any] | None = None, depth: int = 0) -> Any:
    """Return `value` as JSON-ready data: plain JSON, or one-key dicts tagging other types."""
    if depth > 100:
        raise ValueError("data nested more than 100 levels deep")
    if value is None or value is True or value is False:
        return value
    if isinstance(value, (np.ndarray, np.generic)):
        return _encode_array(value, hook, depth)
    encoded = _encode_builtin(value, hook, depth)
    if encoded is not None:
        return encoded
    sympy = sys.modules.get("sympy")
    if sympy is not None and isinstance(value, (sympy.Basic, sympy.MatrixBase)):
        return {"__sympy__": sympy.srepr(value)}
    if hook is not None:
        return hook(value)
    return _encode_opaque(value, depth)


def _encode_builtin(value: Any, hook: Callable[[Any], Any] | None, depth: int) -> Any:
    """Return a builtin number, str, bytes, tuple, list or dict as data; None for anything else.

    None is free to mean "not a builtin": no builtin value is encoded as None (None itself is
    handled by `_encode`).
    """
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
    return None


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
    return _decode_tagged(data, hook, depth)


def _decode_tagged(data: dict, hook: Callable[[dict], Any] | None, depth: int) -> Any:
    """Rebuild a value from a dict `_encode` tagged (its tag key decides), or hand it to `hook`."""
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
        return _decode_objects(data, hook, depth)
    if "__sympy__" in data:
        return _parse_srepr(data["__sympy__"])
    if "__opaque__" in data:
        return _opaque(data)
    if hook is not None:
        return hook(data)
    raise ValueError(f"unreadable data tagged {sorted(data)[:2]}")


def _decode_objects(data: dict, hook: Callable[[dict], Any] | None, depth: int) -> Any:
    """Rebuild an object ndarray from its shape and its items, each decoded like any value."""
    items = [_decode(item, hook, depth + 1) for item in data["items"]]
    array = np.empty(_shape(data["__objects__"], len(items)), dtype=object)
    flat = array.reshape(-1)
    for index, item in enumerate(items):
        flat[index] = item
    return array


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
