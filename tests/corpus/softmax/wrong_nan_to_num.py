"""Wrong: keeps the textbook formula and papers over the NaN it produces with np.nan_to_num, so
softmax([1000, 0]) becomes [0, 0] and numpy still warns about the overflow.

verdict: wrong
message: overflow
"""
import numpy as np


def softmax(raw, axis=-1):
    e = np.exp(np.asarray(raw, dtype=float))
    return np.nan_to_num(e / e.sum(axis=axis, keepdims=True))
