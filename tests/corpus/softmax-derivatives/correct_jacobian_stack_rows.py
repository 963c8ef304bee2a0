"""Correct: one flower at a time with np.diag and np.outer, the batch handled by reshaping.

verdict: correct
"""
import numpy as np


def softmax_jacobian(raw):
    p = softmax(raw)  # noqa: F821 (the notebook's softmax cell)
    rows = p.reshape(-1, p.shape[-1])
    blocks = [np.diag(row) - np.outer(row, row) for row in rows]
    return np.array(blocks).reshape(p.shape + p.shape[-1:])
