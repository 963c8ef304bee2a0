"""Wrong: the outer product p[..., None] * p[None, ...] pairs the right axes only for one flower;
for a batch it lines the batch axis up against the class axis.

verdict: wrong
message: must work on a batch
"""
import numpy as np


def softmax_jacobian(raw):
    p = softmax(raw)  # noqa: F821 (the notebook's softmax cell)
    return np.eye(p.shape[-1]) * p[..., None] - p[..., None] * p[None, ...]
