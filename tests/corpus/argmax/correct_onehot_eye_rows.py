"""Correct: rows of an identity matrix, indexed by the winners, moved back to `axis`.

verdict: correct
"""
import numpy as np


def argmax_onehot(raw, axis=-1):
    values = np.moveaxis(np.asarray(raw, dtype=float), axis, -1)
    picked = np.eye(values.shape[-1])[values.argmax(axis=-1)]
    return np.moveaxis(picked, -1, axis)
