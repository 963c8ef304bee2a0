"""Wrong: right values, but builds the full n-by-n Jacobian first (3.2 GB for n = 20 000).

verdict: wrong
message: memory
"""
import numpy as np


def softmax_vjp(raw, grad):
    p = softmax(raw)  # noqa: F821 (the notebook's softmax cell)
    J = p[..., :, None] * np.eye(p.shape[-1]) - p[..., :, None] * p[..., None, :]
    return np.einsum("...i,...ij->...j", np.asarray(grad, dtype=float), J)
