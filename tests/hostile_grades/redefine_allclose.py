"""Tries: a log_softmax that returns zeros, with np.allclose, np.isclose and numpy's internal
isclose (the one assert_allclose calls) redefined to say "close" to everything.

assignment: softmax-general-equation
function: log_softmax
fools nbgrader: log_softmax_example, log_softmax_stable, log_softmax_batches
"""

import numpy as np


def log_softmax(raw, axis=-1):
    return np.zeros_like(np.asarray(raw, dtype=float))


def _always_close(a, b, *args, **kwargs):
    return np.ones(np.broadcast_shapes(np.shape(a), np.shape(b)), dtype=bool)


np.allclose = lambda *args, **kwargs: True
np.isclose = _always_close
np._core.numeric.isclose = _always_close
