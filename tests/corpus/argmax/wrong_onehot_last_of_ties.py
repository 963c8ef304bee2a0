"""Wrong: scans with `>=`, so a tie is won by the LAST largest entry instead of the first.

verdict: wrong
message: first largest entry only
"""
import numpy as np


def argmax_onehot(raw, axis=-1):
    z = np.moveaxis(np.array(raw, dtype=float), axis, -1)
    out = np.zeros_like(z)
    for index in np.ndindex(z.shape[:-1]):
        row = z[index]
        best = 0
        for k in range(len(row)):
            if row[k] >= row[best]:
                best = k
        out[index + (best,)] = 1.0
    return np.moveaxis(out, -1, axis)
