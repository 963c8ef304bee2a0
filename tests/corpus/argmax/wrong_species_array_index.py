"""Wrong: indexes the tuple of names with the array of winners, which fails on a batch.

verdict: wrong
message: failed on a batch
"""
import numpy as np


def predict_species(raw, species=("setosa", "versicolor", "virginica")):
    winners = np.argmax(np.asarray(raw, dtype=float), axis=-1)
    if winners.ndim == 0:
        return species[winners]
    return species[winners]
