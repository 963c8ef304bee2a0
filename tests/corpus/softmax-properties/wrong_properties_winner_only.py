"""Wrong: checks only that the largest raw output gets the largest output, so a uniform or a
one-hot output passes "keeps_order".

verdict: wrong
message: for every pair
"""
import numpy as np


def softmax_properties(candidate, raw):
    z = np.asarray(raw, dtype=float)
    p = np.asarray(candidate(z), dtype=float)
    return {
        "between_0_and_1": bool(np.all((p > 0) & (p < 1))),
        "sums_to_1": bool(abs(p.sum() - 1) <= 1e-9),
        "keeps_order": bool(np.argmax(p) == np.argmax(z)),
        "shift_invariant": all(np.allclose(candidate(z + c), p, rtol=1e-9, atol=1e-12)
                               for c in (-5.0, 5.0)),
    }
