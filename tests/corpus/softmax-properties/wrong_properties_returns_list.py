"""Wrong: returns the four answers as a list, in the order of the task, instead of a dict.

verdict: wrong
message: should return a dict
"""
import numpy as np


def softmax_properties(candidate, raw):
    z = np.asarray(raw, dtype=float)
    p = np.asarray(candidate(z), dtype=float)
    larger = z[:, None] > z[None, :]
    return [
        bool(np.all((p > 0) & (p < 1))),
        bool(abs(p.sum() - 1) <= 1e-9),
        bool(np.all(p[:, None] > p[None, :], where=larger)),
        all(np.allclose(candidate(z + c), p, rtol=1e-9, atol=1e-12) for c in (-5.0, 5.0)),
    ]
