"""Correct: loops over the rows with math.fsum; memory stays proportional to n.

verdict: correct
"""
import math

import numpy as np


def softmax_vjp(raw, grad):
    z = np.asarray(raw, dtype=float)
    g = np.asarray(grad, dtype=float)
    out = np.empty_like(z)
    for index in np.ndindex(z.shape[:-1]):
        row, grow = z[index].tolist(), g[index].tolist()
        top = max(row)
        exps = [math.exp(v - top) for v in row]
        total = math.fsum(exps)
        p = [e / total for e in exps]
        inner = math.fsum(gi * pi for gi, pi in zip(grow, p, strict=True))
        out[index] = [pi * (gi - inner) for gi, pi in zip(grow, p, strict=True)]
    return out
