"""Wrong: a central difference divided by h instead of 2h: every slope comes out doubled.

verdict: wrong
message: 2 * h
"""
import numpy as np


def numerical_jacobian(f, z, h=1e-6):
    z = np.asarray(z, dtype=float)
    columns = []
    for j in range(z.size):
        step = np.zeros_like(z)
        step[j] = h
        columns.append((np.asarray(f(z + step)) - np.asarray(f(z - step))) / h)
    return np.stack(columns, axis=1)
