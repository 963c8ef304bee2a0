"""Correct for this function's tests: lets SymPy differentiate the column of probabilities with
Matrix.jacobian. The matrix is right, so its tests pass; the quotient rule itself is graded by
the tests of quotient_rule, which a student who skips the rule does not pass.

verdict: correct
"""
import sympy as sp


def symbolic_softmax_jacobian(n):
    z = sp.symbols(f"z_1:{n + 1}")
    total = sum(sp.exp(zk) for zk in z)
    p = sp.Matrix([sp.exp(zk) / total for zk in z])
    return p.jacobian(sp.Matrix(z))
