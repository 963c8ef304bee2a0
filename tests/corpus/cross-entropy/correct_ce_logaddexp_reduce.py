"""Correct: the log of the sum of exponentials as np.logaddexp.reduce, which never overflows.

verdict: correct
"""
import numpy as np


def cross_entropy(raw, target):
    z = np.asarray(raw, dtype=float)
    t = np.asarray(target)
    rows = z.reshape(-1, z.shape[-1])
    classes = t.reshape(-1)
    log_p = rows[np.arange(len(rows)), classes] - np.logaddexp.reduce(rows, axis=1)
    return -log_p.mean()
