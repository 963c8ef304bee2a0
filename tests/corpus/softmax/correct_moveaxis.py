"""Correct: shifts each slice by its maximum with np.moveaxis, working on the last axis.

verdict: correct
"""
import numpy as np


def softmax(raw, axis=-1):
    z = np.moveaxis(np.asarray(raw, dtype=float), axis, -1)
    shifted = z - z.max(axis=-1)[..., np.newaxis]
    e = np.exp(shifted)
    return np.moveaxis(e / e.sum(axis=-1)[..., np.newaxis], -1, axis)
