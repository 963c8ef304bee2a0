"""Wrong: writes out e**(z/T) / sum e**(z/T) without subtracting the maximum: e**1430 overflows.

verdict: wrong
message: overflows
"""
import numpy as np


def softmax_temperature(raw, temperature, axis=-1):
    e = np.exp(np.asarray(raw, dtype=float) / temperature)
    return e / e.sum(axis=axis, keepdims=True)
