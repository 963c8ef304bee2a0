"""Wrong: ignores the axis argument and always reduces the last axis.

verdict: wrong
message: axis argument
"""
import numpy as np


def logsumexp(raw, axis=-1):
    z = np.asarray(raw, dtype=float)
    top = z.max(axis=-1, keepdims=True)
    return np.squeeze(top, axis=-1) + np.log(np.exp(z - top).sum(axis=-1))
