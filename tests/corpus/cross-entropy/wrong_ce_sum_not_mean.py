"""Wrong: the losses of a batch's examples added up instead of averaged.

verdict: wrong
message: not the sum
"""
import numpy as np


def cross_entropy(raw, target):
    z = np.asarray(raw, dtype=float)
    t = np.asarray(target)[..., np.newaxis]
    shifted = z - z.max(axis=-1, keepdims=True)
    log_p = shifted - np.log(np.exp(shifted).sum(axis=-1, keepdims=True))
    return -np.sum(np.take_along_axis(log_p, t, axis=-1))
