"""Wrong: types in SoftMax's closed form p_i (delta_ij - p_j) instead of applying the rule, so it
only works when f is an exponential and g a sum of exponentials.

verdict: wrong
message: differentiate f and g separately
"""
import sympy as sp


def quotient_rule(f, g, x):
    p_i = f / g
    delta = 1 if f.has(x) else 0
    p_j = sp.exp(x) / g
    return p_i * (delta - p_j) * g**2, g**2
