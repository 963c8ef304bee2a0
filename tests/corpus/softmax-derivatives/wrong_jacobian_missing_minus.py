"""Wrong: right diagonal, but +p_i p_j off it: the minus sign of the quotient rule is lost.

verdict: wrong
message: minus sign
"""
import numpy as np


def softmax_jacobian(raw):
    p = softmax(raw)  # noqa: F821 (the notebook's softmax cell)
    eye = np.eye(p.shape[-1])
    outer = p[..., :, None] * p[..., None, :]
    return eye * (p[..., :, None] - outer) + (1 - eye) * outer
