"""Wrong: preallocates an (n, n) matrix, assuming f has as many outputs as inputs.

verdict: wrong
message: should have shape (2, 3)
"""
import numpy as np


def numerical_jacobian(f, z, h=1e-6):
    z = np.asarray(z, dtype=float)
    n = z.size
    jac = np.zeros((n, n))
    for j in range(n):
        step = np.zeros(n)
        step[j] = h
        diff = (np.asarray(f(z + step)) - np.asarray(f(z - step))) / (2 * h)
        m = min(n, diff.size)
        jac[:m, j] = diff[:m]
    return jac
