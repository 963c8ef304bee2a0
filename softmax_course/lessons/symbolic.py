"""SymPy derivations of SoftMax's derivatives: the quotient rule, written out, and its check."""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import NamedTuple

import sympy as sp


class QuotientRule(NamedTuple):
    """The pieces of (f/g)' = (f'g - fg')/g**2 for one entry dp_i/dz_j of the Jacobian."""

    f: sp.Expr
    g: sp.Expr
    df: sp.Expr
    dg: sp.Expr
    derivative: sp.Expr


def logit_symbols(n: int, *, labels: Sequence[str] | None = None) -> tuple[sp.Symbol, ...]:
    """Return real symbols z_1..z_n for the raw outputs, or z_<label> for each given label."""
    names = labels if labels is not None else [str(k) for k in range(1, n + 1)]
    if len(names) != n:
        raise ValueError(f"expected {n} labels, got {len(names)}")
    return tuple(sp.Symbol(f"z_{name}", real=True) for name in names)


def softmax_expressions(z: Sequence[sp.Symbol]) -> sp.Matrix:
    """Return the column of p_i = exp(z_i) / sum_k exp(z_k)."""
    total = sp.Add(*[sp.exp(zk) for zk in z])
    return sp.Matrix([sp.exp(zi) / total for zi in z])


def quotient_rule(z: Sequence[sp.Symbol], i: int, j: int) -> QuotientRule:
    """Return f, g, f', g' and (f'g - fg')/g**2 for dp_i/dz_j, with f = exp(z_i), g = sum exp."""
    f = sp.exp(z[i])
    g = sp.Add(*[sp.exp(zk) for zk in z])
    df = sp.diff(f, z[j])
    dg = sp.diff(g, z[j])
    return QuotientRule(f, g, df, dg, (df * g - f * dg) / g**2)


def quotient_rule_jacobian(n: int, *, labels: Sequence[str] | None = None) -> sp.Matrix:
    """Return the n-by-n Jacobian dp_i/dz_j, each entry built with the quotient rule."""
    z = logit_symbols(n, labels=labels)
    return sp.Matrix(n, n, lambda i, j: quotient_rule(z, i, j).derivative)


def closed_form_jacobian(n: int, *, labels: Sequence[str] | None = None) -> sp.Matrix:
    """Return the n-by-n matrix p_i (delta_ij - p_j), that is diag(p) - p p^T."""
    p = softmax_expressions(logit_symbols(n, labels=labels))
    return sp.Matrix(n, n, lambda i, j: p[i] * (sp.KroneckerDelta(i, j) - p[j]))


def sympy_jacobian(n: int, *, labels: Sequence[str] | None = None) -> sp.Matrix:
    """Return the Jacobian of SoftMax as SymPy's own differentiation finds it."""
    z = logit_symbols(n, labels=labels)
    return softmax_expressions(z).jacobian(z)


def symbolically_equal(a: sp.Matrix, b: sp.Matrix) -> bool:
    """Return True if simplify(a - b) is the zero matrix: a proof that a = b for every z."""
    return sp.simplify(a - b) == sp.zeros(*a.shape)


def jacobians_agree(n: int) -> bool:
    """Return True if the quotient rule and SymPy's own Jacobian both equal diag(p) - p p^T."""
    closed = closed_form_jacobian(n)
    return symbolically_equal(quotient_rule_jacobian(n), closed) and symbolically_equal(
        sympy_jacobian(n), closed
    )


def to_latex(expr: sp.Basic) -> str:
    """Return LaTeX for `expr`, writing a symbol named z_setosa as z with an upright subscript."""
    names = {}
    for symbol in expr.free_symbols:
        match = re.fullmatch(r"([A-Za-z])_([A-Za-z]\w*)", symbol.name)
        if match:
            names[symbol] = rf"{match[1]}_{{\text{{{match[2]}}}}}"
    return sp.latex(expr, symbol_names=names)
