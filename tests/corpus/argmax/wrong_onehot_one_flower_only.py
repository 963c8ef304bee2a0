"""Wrong: step 1 of the task only. One flower works, but for a batch np.argmax without an axis
gives one flat index, and out[k] then fills a whole row with ones.

verdict: wrong
message: each row is one flower and gets its own 1
"""
import numpy as np


def argmax_onehot(raw, axis=-1):
    z = np.asarray(raw, dtype=float)
    out = np.zeros_like(z)
    out[np.argmax(z)] = 1.0
    return out
