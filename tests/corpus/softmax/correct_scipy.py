"""Correct: a thin wrapper over scipy.special.softmax.

verdict: correct
"""
import numpy as np
from scipy import special


def softmax(raw, axis=-1):
    return special.softmax(np.asarray(raw, dtype=float), axis=axis)
