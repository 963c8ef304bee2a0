"""Correct: loops over the rows; each row is shifted by its maximum, then by log of the sum.

verdict: correct
"""
import math

import numpy as np


def log_softmax(raw, axis=-1):
    z = np.moveaxis(np.asarray(raw, dtype=float), axis, -1)
    out = np.empty_like(z)
    for index in np.ndindex(z.shape[:-1]):
        row = z[index]
        top = float(row.max())
        log_total = math.log(math.fsum(math.exp(v - top) for v in row))
        out[index] = [(v - top) - log_total for v in row]
    return np.moveaxis(out, -1, axis)
