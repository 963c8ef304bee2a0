"""Correct: finds each slice's maximum with argmax + np.take_along_axis, and sums with einsum
after moving the class axis last.

verdict: correct
"""
import numpy as np


def softmax(raw, axis=-1):
    z = np.moveaxis(np.asarray(raw, dtype=float), axis, -1)
    top = np.take_along_axis(z, z.argmax(axis=-1)[..., None], axis=-1)
    weights = np.exp(z - top)
    total = np.einsum("...k->...", weights)[..., None]
    return np.moveaxis(weights / total, -1, axis)
