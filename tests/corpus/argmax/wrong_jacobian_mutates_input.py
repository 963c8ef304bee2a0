"""Wrong: nudges the caller's own array in place (np.asarray makes no copy of a float array),
so z comes back changed by rounding.

verdict: wrong
message: changed the array z
"""
import numpy as np


def numerical_jacobian(f, z, h=1e-6):
    x = np.asarray(z, dtype=float)
    columns = []
    for j in range(x.size):
        x[j] += h
        up = np.array(f(x), dtype=float)
        x[j] -= 2 * h
        down = np.array(f(x), dtype=float)
        x[j] += h
        columns.append((up - down) / (2 * h))
    return np.stack(columns, axis=1)
