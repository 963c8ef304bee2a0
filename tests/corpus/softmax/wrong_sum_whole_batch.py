"""Wrong: sums over the whole array, so a batch of flowers shares one denominator.

verdict: wrong
message: each row
"""
import numpy as np


def softmax(raw, axis=-1):
    z = np.asarray(raw, dtype=float)
    e = np.exp(z - z.max())
    return e / e.sum()
