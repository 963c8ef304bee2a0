"""Wrong: compares with >= instead of >, so equal outputs for different raw outputs pass.

verdict: wrong
message: strictly
"""
import numpy as np


def softmax_properties(candidate, raw):
    z = np.asarray(raw, dtype=float)
    p = np.asarray(candidate(z), dtype=float)
    larger = z[:, None] > z[None, :]
    return {
        "between_0_and_1": bool(np.all((p > 0) & (p < 1))),
        "sums_to_1": bool(abs(p.sum() - 1) <= 1e-9),
        "keeps_order": bool(np.all(p[:, None] >= p[None, :], where=larger)),
        "shift_invariant": all(np.allclose(candidate(z + c), p, rtol=1e-9, atol=1e-12)
                               for c in (-5.0, 5.0)),
    }
