"""Correct: the order compared through the signs of all pairwise differences; numpy bools
returned as they come.

verdict: correct
"""
import numpy as np


def softmax_properties(candidate, raw):
    z = np.asarray(raw, dtype=float)
    p = np.asarray(candidate(z), dtype=float)
    up = np.sign(z[:, None] - z[None, :]) == 1
    return {
        "between_0_and_1": np.all(p > 0) & np.all(p < 1),
        "sums_to_1": np.abs(np.sum(p) - 1.0) <= 1e-9,
        "keeps_order": np.all(np.sign(p[:, None] - p[None, :])[up] == 1),
        "shift_invariant": np.allclose(candidate(z - 5), p, rtol=1e-9, atol=1e-12)
        and np.allclose(candidate(z + 5), p, rtol=1e-9, atol=1e-12),
    }
