"""Correct: a thin wrapper over scipy.special.logsumexp.

verdict: correct
"""
import numpy as np
from scipy import special


def logsumexp(raw, axis=-1):
    return special.logsumexp(np.asarray(raw, dtype=float), axis=axis)
