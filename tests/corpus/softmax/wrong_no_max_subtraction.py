"""Wrong: the textbook formula without subtracting the maximum: e**1000 overflows to inf.

verdict: wrong
message: overflow
"""
import numpy as np


def softmax(raw, axis=-1):
    e = np.exp(np.asarray(raw, dtype=float))
    return e / e.sum(axis=axis, keepdims=True)
