"""Correct: scipy.special.softmax of the raw outputs divided by T.

verdict: correct
"""
import numpy as np
from scipy import special


def softmax_temperature(raw, temperature, axis=-1):
    scaled = np.asarray(raw, dtype=float) / float(temperature)
    return special.softmax(scaled, axis=axis)
