"""Tries: a wrong softmax that calls sys.exit() the moment a test calls it, to end each test
cell before its assertions run (and, in a checker that re-raised it carelessly, to end the
grader itself). nbgrader already shows SystemExit as an error, so it fools nothing there; the
trusted side must fail the cells too, and go on running.

assignment: softmax
function: softmax
fools nbgrader: nothing
"""

import sys

import numpy as np


def softmax(raw, axis=-1):
    sys.exit(0)
    return np.asarray(raw, dtype=float)
