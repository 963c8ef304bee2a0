"""Wrong: adds f'g + fg', as the product rule does, instead of subtracting.

verdict: wrong
message: product rule
"""
import sympy as sp


def quotient_rule(f, g, x):
    return sp.diff(f, x) * g + f * sp.diff(g, x), g**2
