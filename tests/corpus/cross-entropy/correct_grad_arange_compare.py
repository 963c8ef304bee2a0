"""Correct: the one-hot rows as a comparison of np.arange(K) with each target.

verdict: correct
"""
import numpy as np


def cross_entropy_grad(raw, target):
    z = np.asarray(raw, dtype=float)
    t = np.asarray(target)
    onehot = np.arange(z.shape[-1]) == t[..., np.newaxis]
    examples = int(np.prod(z.shape[:-1]))
    return (softmax(z) - onehot) / examples
