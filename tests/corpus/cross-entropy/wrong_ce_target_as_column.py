"""Wrong: p[:, target] takes every row's entries at all the targets, not row i's at target[i].

verdict: wrong
message: column target[i]
"""
import numpy as np


def cross_entropy(raw, target):
    z = np.atleast_2d(np.asarray(raw, dtype=float))
    shifted = z - z.max(axis=-1, keepdims=True)
    log_p = shifted - np.log(np.exp(shifted).sum(axis=-1, keepdims=True))
    return -np.mean(log_p[:, target])
