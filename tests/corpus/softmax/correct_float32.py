"""Correct: works in float32 throughout (as GPUs do); its ~1e-7 rounding is within tolerance.

verdict: correct
"""
import numpy as np


def softmax(raw, axis=-1):
    z = np.asarray(raw, dtype=np.float32)
    e = np.exp(z - z.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)
