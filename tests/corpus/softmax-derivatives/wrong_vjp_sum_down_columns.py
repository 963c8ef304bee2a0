"""Wrong: sums g * p down the columns (axis 0), over the batch instead of over the classes.

verdict: wrong
message: each row has its own inner product
"""
import numpy as np


def softmax_vjp(raw, grad):
    p = softmax(raw)  # noqa: F821 (the notebook's softmax cell)
    g = np.asarray(grad, dtype=float)
    return p * (g - (g * p).sum(axis=0))
