"""Wrong: returns the winner's index instead of the species name.

verdict: wrong
message: species name
"""
import numpy as np


def predict_species(raw, species=("setosa", "versicolor", "virginica")):
    winners = np.argmax(np.asarray(raw, dtype=float), axis=-1)
    return winners.tolist()
