"""Correct: np.argmax along the last axis, names looked up through a dict built from `species`.

verdict: correct
"""
import numpy as np


def predict_species(raw, species=("setosa", "versicolor", "virginica")):
    names = dict(enumerate(species))
    winners = np.argmax(np.asarray(raw, dtype=float), axis=-1)
    if winners.ndim == 0:
        return names[int(winners)]
    return [names[int(k)] for k in winners.tolist()]
