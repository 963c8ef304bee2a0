"""Wrong: p * g, the inner product <g, p> is never subtracted.

verdict: wrong
message: inner product
"""
import numpy as np


def softmax_vjp(raw, grad):
    return softmax(raw) * np.asarray(grad, dtype=float)  # noqa: F821 (the notebook's softmax cell)
