"""Wrong: divides by the square of the temperature (T**2), a slip from a formula with T**2 in it.

verdict: wrong
message: should be [1/5, 4/5]
"""
import numpy as np


def softmax_temperature(raw, temperature, axis=-1):
    return softmax(np.asarray(raw, dtype=float) / temperature ** 2, axis=axis)
