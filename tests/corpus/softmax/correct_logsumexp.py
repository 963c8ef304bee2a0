"""Correct: exp(z - logsumexp(z)), with logsumexp written out stably.

verdict: correct
"""
import numpy as np


def softmax(raw, axis=-1):
    z = np.asarray(raw, dtype=float)
    top = z.max(axis=axis, keepdims=True)
    lse = top + np.log(np.exp(z - top).sum(axis=axis, keepdims=True))
    return np.exp(z - lse)
