"""Tries: a predict_species that returns wrong names as a str subclass whose == says yes to
everything (and != no), so `name == "setosa"` and `list(names) == [...]` hold.

assignment: argmax
function: predict_species
fools nbgrader: predict_species_one_flower, predict_species_batch
"""

import numpy as np


class _Yes(str):
    def __eq__(self, other):
        return True

    def __ne__(self, other):
        return False

    __hash__ = str.__hash__


def predict_species(raw, species=("setosa", "versicolor", "virginica")):
    if np.ndim(raw) == 2:
        return [_Yes("wrong") for _ in raw]
    return _Yes("wrong")
