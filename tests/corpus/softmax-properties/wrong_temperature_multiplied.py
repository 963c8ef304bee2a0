"""Wrong: multiplies the raw outputs by the temperature instead of dividing.

verdict: wrong
message: multiplied the raw outputs by T
"""
import numpy as np


def softmax_temperature(raw, temperature, axis=-1):
    return softmax(np.asarray(raw, dtype=float) * temperature, axis=axis)
