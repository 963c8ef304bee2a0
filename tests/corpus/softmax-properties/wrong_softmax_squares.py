"""Wrong: squares instead of exponentials, "to make every output positive"; negative raw outputs
then swap places in the ranking.

verdict: wrong
message: changed the order
"""
import numpy as np


def softmax(raw, axis=-1):
    z = np.asarray(raw, dtype=float)
    squares = z ** 2
    return squares / squares.sum(axis=axis, keepdims=True)
