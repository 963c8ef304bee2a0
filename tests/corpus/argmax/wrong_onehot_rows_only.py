"""Wrong: steps 1 and 2 of the task: right for rows (axis=-1), but `axis` is never used.

verdict: wrong
message: axis=0
"""
import numpy as np


def argmax_onehot(raw, axis=-1):
    z = np.asarray(raw, dtype=float)
    return (np.arange(z.shape[-1]) == np.argmax(z, axis=-1, keepdims=True)).astype(float)
