"""Correct: a thin wrapper over scipy.special.log_softmax.

verdict: correct
"""
import numpy as np
from scipy import special


def log_softmax(raw, axis=-1):
    return special.log_softmax(np.asarray(raw, dtype=float), axis=axis)
