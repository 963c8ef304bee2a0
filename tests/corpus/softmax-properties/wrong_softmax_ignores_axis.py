"""Wrong: always normalises along the last axis, whatever `axis` says.

verdict: wrong
message: normalise along `axis`
"""
import numpy as np


def softmax(raw, axis=-1):
    z = np.asarray(raw, dtype=float)
    e = np.exp(z - z.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)
