"""Wrong: counts the symbols from 0 (z0, ..., z{n-1}) instead of using z_1, ..., z_n.

verdict: wrong
message: sp.symbols('z_1
"""
import sympy as sp


def symbolic_softmax_jacobian(n):
    z = sp.symbols(f"z0:{n}")
    g = sum(sp.exp(zk) for zk in z)
    return sp.Matrix(n, n, lambda i, j: (sp.diff(sp.exp(z[i]), z[j]) * g
                                         - sp.exp(z[i]) * sp.diff(g, z[j])) / g**2)
