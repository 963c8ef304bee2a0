"""Correct: the batch flattened to rows, log-softmax with each row's maximum, fancy indexing.

verdict: correct
"""
import numpy as np


def cross_entropy(raw, target):
    z = np.atleast_2d(np.asarray(raw, dtype=float))
    z = z.reshape(-1, z.shape[-1])
    t = np.ravel(target)
    shifted = z - z.max(axis=1, keepdims=True)
    log_p = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    return float(-np.mean(log_p[np.arange(z.shape[0]), t]))
