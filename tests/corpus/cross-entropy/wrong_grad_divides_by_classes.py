"""Wrong: divided by raw.shape[-1], the number of classes, instead of the number of examples.

verdict: wrong
message: the number of classes
"""
import numpy as np


def cross_entropy_grad(raw, target):
    p = softmax(raw)
    onehot = np.eye(p.shape[-1])[np.asarray(target)]
    return (p - onehot) / (p.shape[-1] if p.ndim > 1 else 1)
