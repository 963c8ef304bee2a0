"""Correct: nudges a private copy in place, copying f's outputs before the next change, and fills
a preallocated (m, n) matrix.

verdict: correct
"""
import numpy as np


def numerical_jacobian(f, z, h=1e-6):
    x = np.array(z, dtype=float)
    jac = None
    for j in range(x.size):
        saved = x[j]
        x[j] = saved + h
        up = np.array(f(x), dtype=float)
        x[j] = saved - h
        down = np.array(f(x), dtype=float)
        x[j] = saved
        if jac is None:
            jac = np.empty((up.size, x.size))
        jac[:, j] = (up - down) / (2 * h)
    return jac
