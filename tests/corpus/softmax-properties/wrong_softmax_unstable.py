"""Wrong: the textbook formula without subtracting the maximum, so e**z overflows for large z.

verdict: wrong
message: overflows
"""
import numpy as np


def softmax(raw, axis=-1):
    e = np.exp(np.asarray(raw, dtype=float))
    return e / e.sum(axis=axis, keepdims=True)
