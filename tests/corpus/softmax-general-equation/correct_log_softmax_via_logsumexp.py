"""Correct: z minus a private stable log-sum-exp, put back in place with np.expand_dims.

verdict: correct
"""
import numpy as np


def _lse(z, axis):
    top = z.max(axis=axis)
    return top + np.log(np.exp(z - np.expand_dims(top, axis)).sum(axis=axis))


def log_softmax(raw, axis=-1):
    z = np.asarray(raw, dtype=float)
    return z - np.expand_dims(_lse(z, axis), axis)
