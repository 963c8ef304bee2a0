"""Wrong: compares the sorted outputs with the sorted raw outputs, which forgets the positions, so
a softmax whose output is sorted seems to keep the order.

verdict: wrong
message: each in its own position
"""
import numpy as np


def softmax_properties(candidate, raw):
    z = np.asarray(raw, dtype=float)
    p = np.asarray(candidate(z), dtype=float)
    return {
        "between_0_and_1": bool(np.all((p > 0) & (p < 1))),
        "sums_to_1": bool(abs(p.sum() - 1) <= 1e-9),
        "keeps_order": bool(np.all(np.diff(np.sort(p)) > 0)),
        "shift_invariant": all(np.allclose(candidate(z + c), p, rtol=1e-9, atol=1e-12)
                               for c in (-5.0, 5.0)),
    }
