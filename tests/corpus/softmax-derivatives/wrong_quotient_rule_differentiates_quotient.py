"""Wrong: lets SymPy differentiate f/g as a whole and splits the result with sp.fraction; SymPy
cancels common factors first, so for f = x and g = x**2 it returns (-1, x**2), not the rule's
(x**2 - 2 x**2, x**4).

verdict: wrong
message: do not differentiate f/g as a whole
"""
import sympy as sp


def quotient_rule(f, g, x):
    return sp.fraction(sp.together(sp.diff(f / g, x)))
