"""Wrong: p - y for every example, not divided by the batch size N of the mean loss.

verdict: wrong
message: without dividing by the batch size
"""
import numpy as np


def cross_entropy_grad(raw, target):
    p = softmax(raw)
    return p - np.eye(p.shape[-1])[np.asarray(target)]
