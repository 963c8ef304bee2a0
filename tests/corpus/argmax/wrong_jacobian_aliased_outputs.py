"""Wrong: nudges a copy in place but keeps f's outputs without copying them; when f returns its
input (or a view of it), the "before" and "after" values are the same array.

verdict: wrong
message: identity
"""
import numpy as np


def numerical_jacobian(f, z, h=1e-6):
    x = np.array(z, dtype=float)
    columns = []
    for j in range(x.size):
        x[j] += h
        up = np.asarray(f(x))
        x[j] -= 2 * h
        down = np.asarray(f(x))
        columns.append((up - down) / (2 * h))
        x[j] += h
    return np.stack(columns, axis=1)
