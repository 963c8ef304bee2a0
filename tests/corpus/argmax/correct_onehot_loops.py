"""Correct: plain loops over every slice, keeping the first largest entry with a strict `>`.

verdict: correct
"""
import numpy as np


def argmax_onehot(raw, axis=-1):
    values = np.moveaxis(np.array(raw, dtype=float), axis, -1)
    result = np.zeros(values.shape)
    for index in np.ndindex(values.shape[:-1]):
        row = values[index]
        best = 0
        for k in range(1, len(row)):
            if row[k] > row[best]:
                best = k
        result[index + (best,)] = 1.0
    return np.moveaxis(result, -1, axis)
