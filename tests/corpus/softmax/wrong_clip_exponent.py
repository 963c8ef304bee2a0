"""Wrong: clips the raw outputs at 700 instead of subtracting the maximum, so [1000, 999] is
treated as [700, 700] and the two probabilities come out equal.

verdict: wrong
message: overflow
"""
import numpy as np


def softmax(raw, axis=-1):
    e = np.exp(np.clip(np.asarray(raw, dtype=float), -700.0, 700.0))
    return e / e.sum(axis=axis, keepdims=True)
