"""Wrong: exponentiates first, (e**(z - max)) ** (1/T); e**-1000 has already underflowed to 0 when
a large T should have brought it back to e**-1.

verdict: wrong
message: divide the raw outputs by T before exponentiating
"""
import numpy as np


def softmax_temperature(raw, temperature, axis=-1):
    z = np.asarray(raw, dtype=float)
    weights = np.exp(z - z.max(axis=axis, keepdims=True)) ** (1.0 / temperature)
    return weights / weights.sum(axis=axis, keepdims=True)
