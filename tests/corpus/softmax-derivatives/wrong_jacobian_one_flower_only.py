"""Wrong: np.diag(p) - np.outer(p, p) is right for one flower but not for a batch: np.diag of a
2-D array extracts a diagonal and np.outer flattens its inputs.

verdict: wrong
message: must work on a batch
"""
import numpy as np


def softmax_jacobian(raw):
    p = softmax(raw)  # noqa: F821 (the notebook's softmax cell)
    return np.diag(p) - np.outer(p, p)
