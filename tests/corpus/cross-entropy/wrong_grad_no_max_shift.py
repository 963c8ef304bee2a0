"""Wrong: a softmax of its own without subtracting the maximum: e**1000 / e**1000 is inf/inf = nan.

verdict: wrong
message: e**1000 overflows
"""
import numpy as np


def cross_entropy_grad(raw, target):
    e = np.exp(np.asarray(raw, dtype=float))
    p = e / e.sum(axis=-1, keepdims=True)
    t = np.asarray(target)
    return (p - np.eye(p.shape[-1])[t]) / max(t.size, 1)
