"""Wrong: the transposed Jacobian of a batch, shape (n, n, batch) instead of (batch, n, n).

SoftMax's Jacobian is symmetric (J = diag(p) - p p^T), so transposing the matrix itself, J[j, i]
for J[i, j], gives the same numbers and cannot be wrong for one flower. The transposition that
matters is of a batch's axes: this version builds J[i, j, b] with the class axes first, which is
right for a 1-D input and wrong for every batch.

verdict: wrong
message: batch axes first
"""
import numpy as np


def softmax_jacobian(raw):
    p = softmax(raw)  # noqa: F821 (the notebook's softmax cell)
    columns = p.T  # (n, ...): one column per flower
    n = columns.shape[0]
    eye = np.eye(n).reshape((n, n) + (1,) * (columns.ndim - 1))
    return eye * columns[:, None] - columns[:, None] * columns[None, :]
