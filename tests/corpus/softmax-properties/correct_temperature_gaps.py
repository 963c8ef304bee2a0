"""Correct: subtracts the maximum of the raw outputs first, then divides the (non-positive) gaps
by T; the order of the two steps does not matter for a positive T.

verdict: correct
"""
import numpy as np


def softmax_temperature(raw, temperature, axis=-1):
    z = np.asarray(raw, dtype=float)
    gaps = (z - z.max(axis=axis, keepdims=True)) / temperature
    weights = np.exp(gaps)
    return weights / weights.sum(axis=axis, keepdims=True)
