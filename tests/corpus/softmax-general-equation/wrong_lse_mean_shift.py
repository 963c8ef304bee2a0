"""Wrong: centres each row on its mean instead of its maximum: e**(1000 - 0) still overflows,
and a -inf entry makes the mean -inf and the result nan.

verdict: wrong
message: not the mean
"""
import numpy as np


def logsumexp(raw, axis=-1):
    z = np.asarray(raw, dtype=float)
    centre = z.mean(axis=axis, keepdims=True)
    return np.squeeze(centre + np.log(np.exp(z - centre).sum(axis=axis, keepdims=True)), axis=axis)
