"""Wrong: the probability clipped to at least 1e-12 before the log, so no loss exceeds 27.6.

verdict: wrong
message: Clipping p
"""
import numpy as np


def cross_entropy(raw, target):
    p = np.clip(softmax(raw), 1e-12, 1.0)
    t = np.asarray(target)[..., np.newaxis]
    return -np.mean(np.log(np.take_along_axis(p, t, axis=-1)))
