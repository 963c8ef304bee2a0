"""Correct: unevaluated sp.Derivative objects, evaluated with .doit() before assembling.

verdict: correct
"""
import sympy as sp


def quotient_rule(f, g, x):
    df = sp.Derivative(f, x).doit()
    dg = sp.Derivative(g, x).doit()
    numerator = sp.Add(df * g, -f * dg)
    return numerator, g**2
