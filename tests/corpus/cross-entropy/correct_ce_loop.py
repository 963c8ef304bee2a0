"""Correct: Python loops over the examples, each loss as log-sum-exp minus the true raw output.

verdict: correct
"""
import math

import numpy as np


def cross_entropy(raw, target):
    z = np.asarray(raw, dtype=float)
    t = np.asarray(target)
    losses = []
    for index in np.ndindex(z.shape[:-1]):
        row = z[index]
        top = max(row)
        total = sum(math.exp(v - top) for v in row)
        losses.append(top + math.log(total) - row[int(t[index])])
    return sum(losses) / len(losses)
