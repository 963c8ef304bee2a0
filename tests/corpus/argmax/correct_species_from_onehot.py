"""Correct: reuses the idea of one-hot vectors: the name whose one-hot entry is 1, row by row.

verdict: correct
"""
import numpy as np


def predict_species(raw, species=("setosa", "versicolor", "virginica")):
    z = np.atleast_2d(np.asarray(raw, dtype=float))
    onehot = np.arange(z.shape[-1]) == np.argmax(z, axis=-1, keepdims=True)
    names = [species[int(np.flatnonzero(row)[0])] for row in onehot]
    return names[0] if np.ndim(raw) == 1 else names
