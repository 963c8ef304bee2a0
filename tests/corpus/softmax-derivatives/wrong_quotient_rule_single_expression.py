"""Wrong: returns the derivative as one expression instead of the pair (numerator, denominator).

verdict: wrong
message: pair (numerator, denominator)
"""
import sympy as sp


def quotient_rule(f, g, x):
    return (sp.diff(f, x) * g - f * sp.diff(g, x)) / g**2
