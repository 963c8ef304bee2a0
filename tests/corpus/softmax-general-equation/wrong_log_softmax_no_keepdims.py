"""Wrong: drops the reduced axis, so the maximum does not line up with the rows of a batch.

verdict: wrong
message: keepdims
"""
import numpy as np


def log_softmax(raw, axis=-1):
    z = np.asarray(raw, dtype=float)
    top = z.max(axis=axis)
    return z - (top + np.log(np.exp(z - top).sum(axis=axis)))
