"""Wrong: works for one flower only; on a batch np.argmax flattens and one name comes back.

verdict: wrong
message: on a batch of 2 flowers should return a list
"""
import numpy as np


def predict_species(raw, species=("setosa", "versicolor", "virginica")):
    return species[int(np.argmax(raw))]
