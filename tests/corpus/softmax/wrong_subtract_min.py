"""Wrong: shifts by the minimum instead of the maximum, so e**(1000 - 0) still overflows.

verdict: wrong
message: overflow
"""
import numpy as np


def softmax(raw, axis=-1):
    z = np.asarray(raw, dtype=float)
    e = np.exp(z - z.min(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)
