"""Wrong: log(sum(exp(z))) exactly as written: e**10000 overflows to inf.

verdict: wrong
message: overflow
"""
import numpy as np


def logsumexp(raw, axis=-1):
    return np.log(np.sum(np.exp(np.asarray(raw, dtype=float)), axis=axis))
