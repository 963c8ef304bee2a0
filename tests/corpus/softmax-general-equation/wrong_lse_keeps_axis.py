"""Wrong: stable and right in value, but keeps the reduced axis: shape (2, 1), not (2,).

verdict: wrong
message: shape ()
"""
import numpy as np


def logsumexp(raw, axis=-1):
    z = np.asarray(raw, dtype=float)
    top = z.max(axis=axis, keepdims=True)
    return top + np.log(np.exp(z - top).sum(axis=axis, keepdims=True))
