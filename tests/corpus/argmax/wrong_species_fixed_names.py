"""Wrong: ignores the `species` argument and always uses the three iris names.

verdict: wrong
message: names passed in
"""
import numpy as np

IRIS = ("setosa", "versicolor", "virginica")


def predict_species(raw, species=IRIS):
    winners = np.argmax(np.asarray(raw, dtype=float), axis=-1)
    if winners.ndim == 0:
        return IRIS[int(winners)]
    return [IRIS[int(k)] for k in winners]
