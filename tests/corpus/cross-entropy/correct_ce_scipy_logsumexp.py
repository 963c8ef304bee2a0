"""Correct: SciPy's logsumexp for each row, minus the true class's raw output picked by index.

verdict: correct
"""
import numpy as np
from scipy.special import logsumexp


def cross_entropy(raw, target):
    z = np.asarray(raw, dtype=float)
    t = np.asarray(target)[..., np.newaxis]
    true_raw = np.take_along_axis(z, t, axis=-1)[..., 0]
    return np.mean(logsumexp(z, axis=-1) - true_raw)
