"""Wrong: multiplies g by the diagonal of J only, g * p * (1 - p).

verdict: wrong
message: only the diagonal
"""
import numpy as np


def softmax_vjp(raw, grad):
    p = softmax(raw)  # noqa: F821 (the notebook's softmax cell)
    return np.asarray(grad, dtype=float) * p * (1 - p)
