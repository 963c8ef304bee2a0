"""Wrong: the log of a (stable) softmax: e**-1000 has underflowed to 0 before the log sees it.

verdict: wrong
message: log(softmax(z))
"""
import numpy as np


def log_softmax(raw, axis=-1):
    z = np.asarray(raw, dtype=float)
    e = np.exp(z - z.max(axis=axis, keepdims=True))
    return np.log(e / e.sum(axis=axis, keepdims=True))
