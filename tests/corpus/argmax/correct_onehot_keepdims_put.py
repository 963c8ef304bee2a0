"""Correct: the task's worked hint, np.argmax with keepdims=True and np.put_along_axis, on a copy
made with np.zeros and the input's shape.

verdict: correct
"""
import numpy as np


def argmax_onehot(raw, axis=-1):
    z = np.asarray(raw, dtype=float)
    out = np.zeros(z.shape)
    np.put_along_axis(out, np.argmax(z, axis=axis, keepdims=True), 1.0, axis=axis)
    return out
