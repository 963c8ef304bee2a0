"""Wrong: the right entries in nested Python lists instead of a SymPy Matrix.

verdict: wrong
message: SymPy Matrix
"""
import sympy as sp


def symbolic_softmax_jacobian(n):
    z = sp.symbols(f"z_1:{n + 1}")
    g = sum(sp.exp(zk) for zk in z)
    return [[(sp.diff(sp.exp(zi), zj) * g - sp.exp(zi) * sp.diff(g, zj)) / g**2 for zj in z]
            for zi in z]
