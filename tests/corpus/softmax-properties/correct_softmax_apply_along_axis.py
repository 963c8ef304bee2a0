"""Correct: a 1-D stable softmax applied to every slice with np.apply_along_axis.

verdict: correct
"""
import math

import numpy as np


def _one_flower(values):
    top = max(values)
    weights = [math.exp(v - top) for v in values]
    total = math.fsum(weights)
    return np.array([w / total for w in weights])


def softmax(raw, axis=-1):
    return np.apply_along_axis(_one_flower, axis, np.asarray(raw, dtype=float))
