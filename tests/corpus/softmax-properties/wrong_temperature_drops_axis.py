"""Wrong: forgets to pass `axis` on to softmax, so it always works along the last axis.

verdict: wrong
message: pass axis on
"""
import numpy as np


def softmax_temperature(raw, temperature, axis=-1):
    return softmax(np.asarray(raw, dtype=float) / temperature)
