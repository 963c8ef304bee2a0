"""Wrong: sums without keepdims=True, so a (2, 3) batch is divided by a (2,) vector, which
numpy cannot broadcast against it.

verdict: wrong
message: broadcast
"""
import numpy as np


def softmax(raw, axis=-1):
    z = np.asarray(raw, dtype=float)
    e = np.exp(z - np.max(z, axis=axis, keepdims=True))
    return e / e.sum(axis=axis)
