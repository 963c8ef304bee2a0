"""Wrong: sorts the probabilities (largest first, "to rank the species"), losing their positions.

verdict: wrong
message: do not sort
"""
import numpy as np


def softmax(raw, axis=-1):
    z = np.asarray(raw, dtype=float)
    e = np.exp(z - z.max(axis=axis, keepdims=True))
    p = e / e.sum(axis=axis, keepdims=True)
    return -np.sort(-p, axis=axis)
