"""Wrong: subtracts the maximum of the whole batch, so a row far below it underflows to 0/0.

verdict: wrong
message: maximum of each row
"""
import numpy as np


def softmax(raw, axis=-1):
    z = np.asarray(raw, dtype=float)
    e = np.exp(z - z.max())
    return e / e.sum(axis=axis, keepdims=True)
