"""Correct: compare a broadcast np.arange with the winners kept as a size-1 axis.

verdict: correct
"""
import numpy as np


def argmax_onehot(raw, axis=-1):
    z = np.asarray(raw, dtype=float)
    axis = axis % z.ndim
    winners = np.argmax(z, axis=axis, keepdims=True)
    shape = [1] * z.ndim
    shape[axis] = z.shape[axis]
    positions = np.arange(z.shape[axis]).reshape(shape)
    return (positions == winners).astype(np.float64)
