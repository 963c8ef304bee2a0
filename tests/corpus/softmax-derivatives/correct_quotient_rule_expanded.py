"""Correct: expands the numerator and writes the denominator as g * g; equal up to simplification.

verdict: correct
"""
import sympy as sp


def quotient_rule(f, g, x):
    df, dg = sp.diff(f, x), sp.diff(g, x)
    return sp.expand(df * g - f * dg), g * g
