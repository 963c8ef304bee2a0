"""Tries: a wrong softmax, with an IPython custom exception handler (set_custom_exc) that
swallows every error of later cells, and reaches up the stack into IPython's run_code to
erase the error from the execution result, so the kernel reports the cell as a success.

assignment: softmax
function: softmax
fools nbgrader: softmax_example, softmax_known_values, softmax_overflow, softmax_batches,
    softmax_axis
"""

import sys

import numpy as np


def softmax(raw, axis=-1):
    return np.asarray(raw, dtype=float)


def _swallow(shell, etype, evalue, tb, tb_offset=None):
    frame = sys._getframe(1)
    while frame is not None:
        result = frame.f_locals.get("result")
        if hasattr(result, "error_in_exec"):
            result.error_in_exec = None
        frame = frame.f_back


get_ipython().set_custom_exc((BaseException,), _swallow)  # noqa: F821 (IPython kernel)
