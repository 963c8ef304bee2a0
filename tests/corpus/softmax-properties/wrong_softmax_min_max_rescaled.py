"""Wrong: "normalises" the raw outputs first, subtracting the minimum and dividing by the maximum,
so adding a constant to every raw output changes the result.

verdict: wrong
message: shift invariance
"""
import numpy as np


def softmax(raw, axis=-1):
    z = np.asarray(raw, dtype=float)
    scaled = (z - z.min(axis=axis, keepdims=True)) / np.abs(z).max(axis=axis, keepdims=True)
    e = np.exp(scaled)
    return e / e.sum(axis=axis, keepdims=True)
