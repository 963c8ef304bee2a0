"""Correct: a loop over the examples, each row's softmax computed with its maximum subtracted.

verdict: correct
"""
import math

import numpy as np


def cross_entropy_grad(raw, target):
    z = np.asarray(raw, dtype=float)
    t = np.asarray(target)
    grad = np.empty_like(z)
    examples = max(t.size, 1)
    for index in np.ndindex(z.shape[:-1]):
        row = z[index]
        top = max(row)
        exps = [math.exp(v - top) for v in row]
        total = sum(exps)
        for k, e in enumerate(exps):
            grad[index + (k,)] = (e / total - (k == t[index])) / examples
    return grad
