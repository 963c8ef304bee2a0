"""Correct: the quotient rule with real=True symbols, each entry simplified, in nested lists
turned into a Matrix.

verdict: correct
"""
import sympy as sp


def symbolic_softmax_jacobian(n):
    z = [sp.Symbol(f"z_{k}", real=True) for k in range(1, n + 1)]
    g = sp.Add(*[sp.exp(zk) for zk in z])
    rows = []
    for i in range(n):
        f = sp.exp(z[i])
        rows.append([sp.simplify((f.diff(zj) * g - f * g.diff(zj)) / g**2) for zj in z])
    return sp.Matrix(rows)
