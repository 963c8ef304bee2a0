"""Wrong: reduces over the whole array, so a batch of flowers gets a single number.

verdict: wrong
message: one number per row
"""
import numpy as np


def logsumexp(raw, axis=-1):
    z = np.asarray(raw, dtype=float)
    top = z.max()
    return top + np.log(np.exp(z - top).sum())
