"""The running example: one iris flower, its measurements, and its raw outputs."""

from __future__ import annotations

import csv
from importlib.resources import files

import numpy as np

SPECIES: tuple[str, ...] = ("setosa", "versicolor", "virginica")
"""Class names in the order of the network's outputs."""

FLOWER_NUMBER = 44
"""The flower's row in the iris table, counting from 1 (Anderson 1935; Fisher 1936)."""

FLOWER = np.array([5.0, 3.5, 1.6, 0.6])
"""Its measurements in cm: sepal length, sepal width, petal length, petal width; a setosa."""

RAW_OUTPUTS = np.array([1.43, -0.40, 0.23])
"""Raw outputs (logits) for setosa, versicolor and virginica: network.RUNNING_NETWORK's for
FLOWER, rounded to two decimals."""

PUBLISHED_PROBABILITIES = np.array([0.69, 0.10, 0.21])
"""What popular write-ups print; no rounding of RAW_OUTPUTS reproduces it (see book/softmax)."""


def load_iris() -> tuple[np.ndarray, np.ndarray]:
    """Return Fisher's iris measurements (150, 4) in cm and species indices (150,)."""
    text = (files("softmax_course.lessons") / "data" / "iris.csv").read_text()
    rows = list(csv.DictReader(line for line in text.splitlines() if not line.startswith("#")))
    columns = ["sepal_length", "sepal_width", "petal_length", "petal_width"]
    measurements = np.array([[float(row[c]) for c in columns] for row in rows])
    species = np.array([SPECIES.index(row["species"]) for row in rows])
    return measurements, species
