"""Wrong: one maximum and one sum for the whole array, so every row shares one log-sum-exp.

verdict: wrong
message: each row
"""
import numpy as np


def log_softmax(raw, axis=-1):
    z = np.asarray(raw, dtype=float)
    top = z.max()
    return z - top - np.log(np.exp(z - top).sum())
