"""Wrong: returns the winner's index (an integer), not a one-hot array.

verdict: wrong
message: one-hot
"""
import numpy as np


def argmax_onehot(raw, axis=-1):
    return np.argmax(np.asarray(raw), axis=axis)
