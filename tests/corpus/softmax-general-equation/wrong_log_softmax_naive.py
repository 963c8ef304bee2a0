"""Wrong: z - log(sum(exp(z))) without the shift: fine on paper, but e**1000 overflows.

verdict: wrong
message: overflow
"""
import numpy as np


def log_softmax(raw, axis=-1):
    z = np.asarray(raw, dtype=float)
    return z - np.log(np.exp(z).sum(axis=axis, keepdims=True))
