"""Correct: works in log space, p = exp(z - logsumexp(z)), with scipy's logsumexp.

verdict: correct
"""
import numpy as np
from scipy.special import logsumexp


def softmax(raw, axis=-1):
    z = np.asarray(raw, dtype=float)
    return np.exp(z - logsumexp(z, axis=axis, keepdims=True))
