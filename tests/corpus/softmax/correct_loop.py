"""Correct: plain Python loops over each row, with the maximum subtracted first.

verdict: correct
"""
import math

import numpy as np


def softmax(raw, axis=-1):
    z = np.moveaxis(np.asarray(raw, dtype=float), axis, -1)
    out = np.empty_like(z)
    for index in np.ndindex(z.shape[:-1]):
        row = z[index]
        top = max(row)
        exps = [math.exp(v - top) for v in row]
        total = sum(exps)
        out[index] = [e / total for e in exps]
    return np.moveaxis(out, -1, axis)
