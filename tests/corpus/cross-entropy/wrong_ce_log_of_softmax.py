"""Wrong: the log of the given (stable) softmax: p_0 = e**-1000 has underflowed to 0 before the log.

verdict: wrong
message: log of a softmax that underflowed
"""
import numpy as np


def cross_entropy(raw, target):
    p = softmax(raw)
    t = np.asarray(target)[..., np.newaxis]
    return -np.mean(np.log(np.take_along_axis(p, t, axis=-1)))
