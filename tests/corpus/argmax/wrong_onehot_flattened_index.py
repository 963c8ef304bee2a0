"""Wrong: np.argmax without an axis gives one index into the flattened array, so a batch gets a
single 1 in total instead of one per row.

verdict: wrong
message: flattened
"""
import numpy as np


def argmax_onehot(raw, axis=-1):
    z = np.asarray(raw, dtype=float)
    out = np.zeros(z.size)
    out[np.argmax(z)] = 1.0
    return out.reshape(z.shape)
