"""Correct: plain loops over the rows of the batch and over i and j, with a private softmax.

verdict: correct
"""
import math

import numpy as np


def _probabilities(row):
    top = max(row)
    exps = [math.exp(v - top) for v in row]
    total = sum(exps)
    return [e / total for e in exps]


def softmax_jacobian(raw):
    z = np.asarray(raw, dtype=float)
    n = z.shape[-1]
    out = np.empty(z.shape + (n,))
    for index in np.ndindex(z.shape[:-1]):
        p = _probabilities(list(z[index]))
        for i in range(n):
            for j in range(n):
                out[index + (i, j)] = p[i] * (1.0 - p[j]) if i == j else -p[i] * p[j]
    return out
