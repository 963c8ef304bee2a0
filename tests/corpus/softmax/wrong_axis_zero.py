"""Wrong: ignores `axis` and always normalises down the columns (axis 0).

verdict: wrong
message: axis
"""
import numpy as np


def softmax(raw, axis=-1):
    z = np.asarray(raw, dtype=float)
    e = np.exp(z - z.max(axis=0, keepdims=True))
    return e / e.sum(axis=0, keepdims=True)
