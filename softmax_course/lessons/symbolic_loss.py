"""SymPy derivation of the cross-entropy gradient through the quotient-rule Jacobian of SoftMax."""

from __future__ import annotations

from collections.abc import Sequence

import sympy as sp

from softmax_course.lessons.symbolic import logit_symbols, quotient_rule, softmax_expressions


def target_symbols(n: int, *, labels: Sequence[str] | None = None) -> tuple[sp.Symbol, ...]:
    """Return real symbols y_1..y_n (or y_<label>) for the target probabilities."""
    return tuple(sp.Symbol("y" + z.name[1:], real=True) for z in logit_symbols(n, labels=labels))


def loss_slopes(y: Sequence[sp.Symbol], p: Sequence[sp.Expr]) -> list[sp.Expr]:
    """Return dL/dp_i for L = -sum_i y_i log p_i, evaluated at the probabilities `p`."""
    q = sp.symbols(f"q_1:{len(y) + 1}", positive=True)
    loss = -sp.Add(*[y_i * sp.log(q_i) for y_i, q_i in zip(y, q, strict=True)])
    return [sp.diff(loss, q_i).subs(dict(zip(q, p, strict=True))) for q_i in q]


def chain_rule_gradient(z: Sequence[sp.Symbol], y: Sequence[sp.Symbol]) -> sp.Matrix:
    """Return dL/dz_j = sum_i dL/dp_i * dp_i/dz_j, each dp_i/dz_j from the quotient rule."""
    p = softmax_expressions(z)
    slopes = loss_slopes(y, p)
    n = len(z)
    terms = [[slopes[i] * quotient_rule(z, i, j).derivative for i in range(n)] for j in range(n)]
    return sp.Matrix([sp.Add(*row) for row in terms])


def gradient_is_p_minus_y(n: int) -> bool:
    """Return True if the chain-rule gradient simplifies to p - y whenever the y's sum to 1."""
    z, y = logit_symbols(n), target_symbols(n)
    last = {y[-1]: 1 - sp.Add(*y[:-1])}
    difference = chain_rule_gradient(z, y) - (softmax_expressions(z) - sp.Matrix(y))
    return sp.simplify(difference.subs(last)) == sp.zeros(n, 1)
