"""Wrong: divides by g instead of g**2.

verdict: wrong
message: not g**2
"""
import sympy as sp


def quotient_rule(f, g, x):
    return sp.diff(f, x) * g - f * sp.diff(g, x), g
