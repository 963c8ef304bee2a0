"""Wrong: log(sum(exp(z))) - z_t without subtracting the maximum: e**1000 overflows to inf.

verdict: wrong
message: overflows to inf
"""
import numpy as np


def cross_entropy(raw, target):
    z = np.asarray(raw, dtype=float)
    t = np.asarray(target)[..., np.newaxis]
    log_p = z - np.log(np.exp(z).sum(axis=-1, keepdims=True))
    return -np.mean(np.take_along_axis(log_p, t, axis=-1))
