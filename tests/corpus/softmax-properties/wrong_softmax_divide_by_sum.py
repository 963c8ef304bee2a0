"""Wrong: divides the raw outputs by their sum; on positive inputs it sums to 1 and keeps order.

verdict: wrong
message: divide each e**z by the sum
"""
import numpy as np


def softmax(raw, axis=-1):
    z = np.asarray(raw, dtype=float)
    return z / z.sum(axis=axis, keepdims=True)
