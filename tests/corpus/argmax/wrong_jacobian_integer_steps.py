"""Wrong: keeps an integer z as integers, so the step h is rounded to 0 in np.zeros_like(z).

verdict: wrong
message: integer z
"""
import numpy as np


def numerical_jacobian(f, z, h=1e-6):
    z = np.asarray(z)
    columns = []
    for j in range(z.size):
        step = np.zeros_like(z)
        step[j] = h
        columns.append((np.asarray(f(z + step)) - np.asarray(f(z - step))) / (2 * h))
    return np.stack(columns, axis=1)
