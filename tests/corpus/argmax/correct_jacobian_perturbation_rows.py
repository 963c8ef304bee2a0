"""Correct: every nudge is a row of h * identity; the differences are stacked as columns.

verdict: correct
"""
import numpy as np


def numerical_jacobian(f, z, h=1e-6):
    point = np.asarray(z, dtype=float)
    nudges = h * np.eye(point.size)
    slopes = [
        (np.asarray(f(point + d), dtype=float) - np.asarray(f(point - d), dtype=float)) / (2 * h)
        for d in nudges
    ]
    return np.column_stack(slopes)
