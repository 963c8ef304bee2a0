"""Correct: the given softmax, 1 subtracted at each true class with np.put_along_axis.

verdict: correct
"""
import numpy as np


def cross_entropy_grad(raw, target):
    p = softmax(raw)
    t = np.asarray(target)[..., np.newaxis]
    np.put_along_axis(p, t, np.take_along_axis(p, t, axis=-1) - 1.0, axis=-1)
    return p / (p.size // p.shape[-1])
