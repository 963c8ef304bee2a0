"""Tries: a softmax that returns wrong values in an ndarray subclass whose __array_function__
answers "all close" to np.isclose (which assert_allclose calls), np.allclose and
np.array_equal.

assignment: softmax
function: softmax
fools nbgrader: softmax_example, softmax_known_values, softmax_batches, softmax_axis
"""

import numpy as np


class _Agreeable(np.ndarray):
    def __array_function__(self, func, types, args, kwargs):
        if func.__name__ == "isclose":
            return np.ones(np.broadcast_shapes(np.shape(args[0]), np.shape(args[1])), dtype=bool)
        if func.__name__ in ("allclose", "array_equal"):
            return True
        return super().__array_function__(func, types, args, kwargs)


def softmax(raw, axis=-1):
    z = np.asarray(raw, dtype=float)
    return (z / 7.0).view(_Agreeable)
