"""Tries: a wrong softmax, and numpy.testing.assert_allclose replaced by a function that checks
nothing (the setup cell already imported the name, so it is rebound too).

assignment: softmax
function: softmax
fools nbgrader: softmax_example, softmax_known_values, softmax_batches, softmax_axis
"""

import numpy as np
import numpy.testing


def softmax(raw, axis=-1):
    z = np.asarray(raw, dtype=float)
    return z / z.sum(axis=axis, keepdims=True)


numpy.testing.assert_allclose = lambda *args, **kwargs: None
assert_allclose = numpy.testing.assert_allclose
