"""Correct: self-contained loops with math.exp, shifting each slice by its largest scaled value.

verdict: correct
"""
import math

import numpy as np


def softmax_temperature(raw, temperature, axis=-1):
    z = np.moveaxis(np.array(raw, dtype=float), axis, -1)
    out = np.empty_like(z)
    for index in np.ndindex(z.shape[:-1]):
        scaled = [v / temperature for v in z[index]]
        top = max(scaled)
        weights = [math.exp(s - top) for s in scaled]
        total = sum(weights)
        out[index] = [w / total for w in weights]
    return np.moveaxis(out, -1, axis)
