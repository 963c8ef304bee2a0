"""Wrong: forward differences (f(z + h e_j) - f(z)) / h, accurate only to about h.

verdict: wrong
message: forward differences
"""
import numpy as np


def numerical_jacobian(f, z, h=1e-6):
    z = np.asarray(z, dtype=float)
    base = np.asarray(f(z), dtype=float)
    columns = []
    for j in range(z.size):
        step = np.zeros_like(z)
        step[j] = h
        columns.append((np.asarray(f(z + step), dtype=float) - base) / h)
    return np.stack(columns, axis=1)
