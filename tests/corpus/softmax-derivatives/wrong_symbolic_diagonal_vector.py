"""Wrong: only each p_i with respect to its own z_i, returned as an n-by-1 column.

verdict: wrong
message: one row per p_i
"""
import sympy as sp


def symbolic_softmax_jacobian(n):
    z = sp.symbols(f"z_1:{n + 1}")
    g = sum(sp.exp(zk) for zk in z)
    return sp.Matrix([sp.diff(sp.exp(zk) / g, zk) for zk in z])
