"""Wrong: stacks the columns as rows, so the result is (n, m), the transpose.

verdict: wrong
message: transposed
"""
import numpy as np


def numerical_jacobian(f, z, h=1e-6):
    z = np.asarray(z, dtype=float)
    rows = []
    for j in range(z.size):
        step = np.zeros_like(z)
        step[j] = h
        rows.append((np.asarray(f(z + step)) - np.asarray(f(z - step))) / (2 * h))
    return np.array(rows)
