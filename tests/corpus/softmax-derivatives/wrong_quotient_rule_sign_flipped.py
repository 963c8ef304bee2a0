"""Wrong: the numerator upside down, f g' - f' g.

verdict: wrong
message: sign flipped
"""
import sympy as sp


def quotient_rule(f, g, x):
    return f * sp.diff(g, x) - sp.diff(f, x) * g, g**2
