"""Correct: math.isclose for the sum (abs_tol=1e-9) and np.isclose element by element for the
shifts.

verdict: correct
"""
import math

import numpy as np


def softmax_properties(candidate, raw):
    z = np.asarray(raw, dtype=float)
    p = np.asarray(candidate(z), dtype=float)
    pairs = [(i, j) for i in range(z.size) for j in range(z.size) if z[i] > z[j]]
    return {
        "between_0_and_1": bool(((0 < p) & (p < 1)).all()),
        "sums_to_1": math.isclose(float(p.sum()), 1.0, rel_tol=0.0, abs_tol=1e-9),
        "keeps_order": all(p[i] > p[j] for i, j in pairs),
        "shift_invariant": all(
            np.isclose(np.asarray(candidate(z + c)), p, rtol=1e-9, atol=1e-12).all()
            for c in (-5.0, 5.0)
        ),
    }
