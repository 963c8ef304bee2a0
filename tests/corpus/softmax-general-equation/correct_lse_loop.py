"""Correct: plain Python loops over each row, with math.exp and math.fsum after the max shift.

verdict: correct
"""
import math

import numpy as np


def logsumexp(raw, axis=-1):
    z = np.moveaxis(np.asarray(raw, dtype=float), axis, -1)
    out = np.empty(z.shape[:-1])
    for index in np.ndindex(z.shape[:-1]):
        row = [float(v) for v in z[index]]
        top = max(row)
        out[index] = top + math.log(math.fsum(math.exp(v - top) for v in row))
    return out
