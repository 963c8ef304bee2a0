"""Wrong: a small number added inside the log, which caps the loss and shifts every value a little.

verdict: wrong
message: adding a small number before the log
"""
import numpy as np


def cross_entropy(raw, target):
    p = softmax(raw)
    t = np.asarray(target)[..., np.newaxis]
    return -np.mean(np.log(np.take_along_axis(p, t, axis=-1) + 1e-9))
