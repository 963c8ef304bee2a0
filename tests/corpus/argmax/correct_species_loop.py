"""Correct: a loop over the rows with Python's max and list.index (which finds the first maximum).

verdict: correct
"""
import numpy as np


def predict_species(raw, species=("setosa", "versicolor", "virginica")):
    z = np.asarray(raw, dtype=float)

    def name_of(row):
        values = list(row)
        return species[values.index(max(values))]

    if z.ndim == 1:
        return name_of(z)
    return [name_of(row) for row in z]
