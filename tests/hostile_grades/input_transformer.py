"""Tries: a wrong softmax, with an IPython input transformer that rewrites every later cell
(the tests, hidden ones included) into `pass`.

assignment: softmax
function: softmax
fools nbgrader: softmax_example, softmax_known_values, softmax_overflow, softmax_batches,
    softmax_axis
"""

import numpy as np


def softmax(raw, axis=-1):
    return np.asarray(raw, dtype=float)


get_ipython().input_transformers_cleanup.append(lambda lines: ["pass\n"])  # noqa: F821
