"""Correct: plain loops over every pair of raw outputs and over the two shifts.

verdict: correct
"""
import numpy as np


def softmax_properties(candidate, raw):
    z = np.asarray(raw, dtype=float)
    p = np.asarray(candidate(z), dtype=float)
    in_range = all(0 < value < 1 for value in p)
    total = abs(sum(p) - 1) <= 1e-9
    ordered = True
    for i in range(len(z)):
        for j in range(len(z)):
            if z[i] > z[j] and not p[i] > p[j]:
                ordered = False
    shifted = True
    for c in (-5.0, 5.0):
        if not np.allclose(candidate(z + c), p, rtol=1e-9, atol=1e-12):
            shifted = False
    return {"between_0_and_1": in_range, "sums_to_1": total, "keeps_order": ordered,
            "shift_invariant": shifted}
