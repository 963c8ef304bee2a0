"""Correct: lets SymPy differentiate the column of probabilities with Matrix.jacobian.

verdict: correct
"""
import sympy as sp


def symbolic_softmax_jacobian(n):
    z = sp.symbols(f"z_1:{n + 1}")
    total = sum(sp.exp(zk) for zk in z)
    p = sp.Matrix([sp.exp(zk) / total for zk in z])
    return p.jacobian(sp.Matrix(z))
