"""Tries: a wrong softmax_temperature, with sys.modules['numpy.testing'] replaced by a fake
module whose assertions check nothing; np.testing points to the fake and assert_allclose is
imported again from it.

assignment: softmax-properties
function: softmax_temperature
fools nbgrader: softmax_temperature_example, softmax_temperature_limits,
    softmax_temperature_stability, softmax_temperature_axis
"""

import sys
import types

import numpy as np

fake = types.ModuleType("numpy.testing")
for name in ("assert_allclose", "assert_array_equal", "assert_array_almost_equal", "assert_equal"):
    setattr(fake, name, lambda *args, **kwargs: None)
sys.modules["numpy.testing"] = fake
np.testing = fake
from numpy.testing import assert_allclose  # noqa: E402, F401  (the fake one)


def softmax_temperature(raw, temperature, axis=-1):
    z = np.asarray(raw, dtype=float) * temperature
    return z / z.sum(axis=axis, keepdims=True)
