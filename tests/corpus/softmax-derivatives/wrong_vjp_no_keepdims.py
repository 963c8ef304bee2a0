"""Wrong: one inner product per row, but without keepdims it does not line up with the rows.

verdict: wrong
message: keepdims
"""
import numpy as np


def softmax_vjp(raw, grad):
    p = softmax(raw)  # noqa: F821 (the notebook's softmax cell)
    g = np.asarray(grad, dtype=float)
    return p * (g - np.sum(g * p, axis=-1))
