"""Wrong: always works along the last axis, whatever `axis` says.

verdict: wrong
message: axis=0
"""
import numpy as np


def argmax_onehot(raw, axis=-1):
    z = np.asarray(raw, dtype=float)
    winners = np.argmax(z, axis=-1)[..., None]
    out = np.zeros_like(z)
    np.put_along_axis(out, winners, 1.0, axis=-1)
    return out
