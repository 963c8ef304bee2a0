"""Correct: calls quotient_rule for every entry, row by row, with the sum built by sp.Add.

verdict: correct
"""
import sympy as sp


def symbolic_softmax_jacobian(n):
    z = sp.symbols(f"z_1:{n + 1}")
    g = sp.Add(*[sp.exp(zk) for zk in z])
    rows = []
    for zi in z:
        row = []
        for zj in z:
            top, bottom = quotient_rule(sp.exp(zi), g, zj)
            row.append(top / bottom)
        rows.append(row)
    return sp.Matrix(rows)
