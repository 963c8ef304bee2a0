"""Wrong: the quotient rule upside down, (f g' - f' g) / g**2, so every sign is flipped.

verdict: wrong
message: quotient rule
"""
import sympy as sp


def symbolic_softmax_jacobian(n):
    z = sp.symbols(f"z_1:{n + 1}")
    g = sum(sp.exp(zk) for zk in z)
    return sp.Matrix(n, n, lambda i, j: (sp.exp(z[i]) * sp.diff(g, z[j])
                                         - sp.diff(sp.exp(z[i]), z[j]) * g) / g**2)
