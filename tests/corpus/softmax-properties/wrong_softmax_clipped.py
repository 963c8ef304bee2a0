"""Wrong: clips the probabilities to [1e-7, 1 - 1e-7] "to keep the logarithm finite later".

verdict: wrong
message: do not round or clip
"""
import numpy as np


def softmax(raw, axis=-1):
    z = np.asarray(raw, dtype=float)
    e = np.exp(z - z.max(axis=axis, keepdims=True))
    return np.clip(e / e.sum(axis=axis, keepdims=True), 1e-7, 1 - 1e-7)
