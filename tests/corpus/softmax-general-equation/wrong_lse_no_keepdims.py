"""Wrong: takes the maximum without keepdims, so it does not line up with the rows of a batch.

verdict: wrong
message: keepdims
"""
import numpy as np


def logsumexp(raw, axis=-1):
    z = np.asarray(raw, dtype=float)
    top = z.max(axis=axis)
    return top + np.log(np.exp(z - top).sum(axis=axis))
