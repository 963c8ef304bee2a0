"""Wrong: y - p, the gradient with its sign flipped (the direction that raises the loss).

verdict: wrong
message: sign is flipped
"""
import numpy as np


def cross_entropy_grad(raw, target):
    p = softmax(raw)
    t = np.asarray(target)
    return (np.eye(p.shape[-1])[t] - p) / max(t.size, 1)
