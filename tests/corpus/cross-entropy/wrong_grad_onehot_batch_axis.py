"""Wrong: onehot[target] = 1 indexes the batch axis: whole rows become 1, not one entry per row.

verdict: wrong
message: its 1 in column target[i]
"""
import numpy as np


def cross_entropy_grad(raw, target):
    p = softmax(raw)
    onehot = np.zeros_like(p)
    onehot[target] = 1.0
    return (p - onehot) / (p.size // p.shape[-1])
