"""Wrong: returns a Python list instead of a NumPy array.

verdict: wrong
message: numpy array
"""
import numpy as np


def softmax(raw, axis=-1):
    z = np.asarray(raw, dtype=float)
    e = np.exp(z - z.max(axis=axis, keepdims=True))
    return (e / e.sum(axis=axis, keepdims=True)).tolist()
