"""Wrong: divides the raw outputs by their sum, forgetting the exponential.

verdict: wrong
message: e**z
"""
import numpy as np


def softmax(raw, axis=-1):
    z = np.asarray(raw, dtype=float)
    return z / z.sum(axis=axis, keepdims=True)
