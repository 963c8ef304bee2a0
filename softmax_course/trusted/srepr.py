"""Rebuild SymPy objects from srepr text by a whitelisted AST walk: never eval, sympify or pickle.

Like the codec, this runs on both sides: `_parse_srepr`, the functions it calls and its whitelists
are part of the helper's source sent to the kernel (see `kernel_helper`), so they use only the
names the helper's header imports.
"""

from __future__ import annotations

import ast
from typing import Any

_SYMPY_CALLS = frozenset(
    "Symbol Dummy Integer Rational Float Add Mul Pow exp log sin cos tan sinh cosh tanh Abs sign "
    "sqrt KroneckerDelta Derivative Tuple MutableDenseMatrix ImmutableDenseMatrix Matrix Function "
    "Piecewise ExprCondPair Max Min Sum Product Heaviside Equality Unequality StrictLessThan "
    "StrictGreaterThan LessThan GreaterThan And Or Not Mod floor ceiling".split()
)
_SYMPY_ATOMS = frozenset("pi E I oo zoo nan true false EulerGamma GoldenRatio Catalan".split())
_SYMPY_NAMED = frozenset({"Symbol", "Dummy", "Function"})  # first argument: a name (str)


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
    return _srepr_node(tree.body, sympy)


def _srepr_node(node: ast.AST, sympy: Any, name_allowed: bool = False) -> Any:
    """Return the value of one whitelisted node: a number, a name, a list, an atom or a call."""
    if isinstance(node, ast.Constant) and type(node.value) in (int, float, bool):
        return node.value
    if isinstance(node, ast.Constant) and type(node.value) is str and name_allowed:
        return node.value
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
        operand = _srepr_node(node.operand, sympy)
        if type(operand) in (int, float):
            return -operand
    if isinstance(node, ast.List):
        return [_srepr_node(item, sympy) for item in node.elts]
    if isinstance(node, ast.Name) and node.id in _SYMPY_ATOMS:
        return getattr(sympy, node.id)
    if isinstance(node, ast.Call):
        return _srepr_call(node, sympy)
    raise ValueError(f"not a SymPy expression the checker accepts: {ast.dump(node)[:80]}")


def _srepr_call(node: ast.Call, sympy: Any) -> Any:
    """Return the value of a call of a whitelisted SymPy class, with whitelisted arguments."""
    func = node.func
    if isinstance(func, ast.Name) and func.id in _SYMPY_CALLS:
        name, target = func.id, getattr(sympy, func.id)
    elif (
        isinstance(func, ast.Call)
        and isinstance(func.func, ast.Name)
        and func.func.id == "Function"
    ):  # an undefined function applied: Function('f')(x)
        name, target = "", _srepr_call(func, sympy)
    else:
        raise ValueError("SymPy expression calls something the checker does not accept")
    if any(isinstance(arg, ast.Starred) for arg in node.args):
        raise ValueError("SymPy expression with *args")
    named = name in _SYMPY_NAMED or name == "Float"
    args = [_srepr_node(arg, sympy, named and i == 0) for i, arg in enumerate(node.args)]
    kwargs = {}
    for keyword in node.keywords:
        value = _srepr_node(keyword.value, sympy)
        if keyword.arg is None or not _srepr_keyword_allowed(name, keyword.arg, value):
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


def _srepr_keyword_allowed(name: str, keyword: str, value: Any) -> bool:
    """Return True for the keywords srepr writes: assumptions of names, and Float's precision."""
    return (name in _SYMPY_NAMED and type(value) is bool) or (
        name == "Float" and keyword == "precision" and type(value) is int and 1 <= value <= 10_000
    )
