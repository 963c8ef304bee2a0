"""Correct: finds each row's largest entry with argmax and np.take_along_axis, then shifts by it.

verdict: correct
"""
import numpy as np


def logsumexp(raw, axis=-1):
    z = np.asarray(raw, dtype=float)
    where = np.expand_dims(np.argmax(z, axis=axis), axis)
    top = np.take_along_axis(z, where, axis=axis)
    total = np.exp(z - top).sum(axis=axis)
    return np.log(total) + np.squeeze(top, axis=axis)
