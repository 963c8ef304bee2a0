"""Wrong: shifts by the maximum of the whole batch, so a row far below it underflows to log 0.

verdict: wrong
message: maximum of each row
"""
import numpy as np


def logsumexp(raw, axis=-1):
    z = np.asarray(raw, dtype=float)
    top = z.max()
    return top + np.log(np.exp(z - top).sum(axis=axis))
