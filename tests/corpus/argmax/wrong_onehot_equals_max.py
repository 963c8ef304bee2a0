"""Wrong: marks every entry equal to the maximum, so a tie gets two (or three) ones.

verdict: wrong
message: first largest entry only
"""
import numpy as np


def argmax_onehot(raw, axis=-1):
    z = np.asarray(raw, dtype=float)
    return (z == z.max(axis=axis, keepdims=True)).astype(float)
