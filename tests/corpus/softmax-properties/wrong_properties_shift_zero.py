"""Wrong: "checks" shift invariance by adding 0, which every function passes.

verdict: wrong
message: compare candidate(raw + c) with candidate(raw) for c = -5 and c = 5
"""
import numpy as np


def softmax_properties(candidate, raw):
    z = np.asarray(raw, dtype=float)
    p = np.asarray(candidate(z), dtype=float)
    larger = z[:, None] > z[None, :]
    return {
        "between_0_and_1": bool(np.all((p > 0) & (p < 1))),
        "sums_to_1": bool(abs(p.sum() - 1) <= 1e-9),
        "keeps_order": bool(np.all(p[:, None] > p[None, :], where=larger)),
        "shift_invariant": bool(np.allclose(candidate(z + 0), p)),
    }
