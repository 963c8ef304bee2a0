"""Wrong: the right algorithm in float32, the precision of graphics cards: 7 digits, not 12.

Decided on purpose: the notebook asks for float64 and about 12 significant digits. Near 10 000
float32 numbers are 0.001 apart, so logsumexp([10000, 10000]) comes out 2e-4 off, and the
log-probabilities z - logsumexp(z) inherit that error. So no float32 version is in the corpus as
correct; this one returns float32 and fails the visible dtype check and the accuracy checks.

verdict: wrong
message: float64
"""
import numpy as np


def logsumexp(raw, axis=-1):
    z = np.asarray(raw, dtype=np.float32)
    top = z.max(axis=axis, keepdims=True)
    return np.squeeze(top + np.log(np.exp(z - top).sum(axis=axis, keepdims=True)), axis=axis)
