"""Wrong: subtracts the maximum inside the log but forgets to add it back outside.

verdict: wrong
message: add the maximum back
"""
import numpy as np


def logsumexp(raw, axis=-1):
    z = np.asarray(raw, dtype=float)
    top = z.max(axis=axis, keepdims=True)
    return np.log(np.exp(z - top).sum(axis=axis))
