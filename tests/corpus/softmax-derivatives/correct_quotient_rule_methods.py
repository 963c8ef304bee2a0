"""Correct: the rule with the expressions' own .diff methods, returned as a list [num, den].

verdict: correct
"""
import sympy as sp


def quotient_rule(f, g, x):
    return [f.diff(x) * g - f * g.diff(x), sp.Pow(g, 2)]
