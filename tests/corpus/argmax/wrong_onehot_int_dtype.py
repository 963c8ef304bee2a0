"""Wrong: builds the one-hot vector as integers (0 and 1) instead of floats.

verdict: wrong
message: should return floats
"""
import numpy as np


def argmax_onehot(raw, axis=-1):
    z = np.asarray(raw)
    winners = np.expand_dims(np.argmax(z, axis=axis), axis)
    out = np.zeros(z.shape, dtype=int)
    np.put_along_axis(out, winners, 1, axis=axis)
    return out
