"""Wrong: subtracts a log-sum-exp of the shifted raw outputs from the unshifted ones.

verdict: wrong
message: add the maximum back
"""
import numpy as np


def log_softmax(raw, axis=-1):
    z = np.asarray(raw, dtype=float)
    top = z.max(axis=axis, keepdims=True)
    return z - np.log(np.exp(z - top).sum(axis=axis, keepdims=True))
