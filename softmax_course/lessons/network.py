"""A tiny iris network (2 inputs, 2 ReLU units, 3 raw outputs) trained with numpy."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike

from softmax_course.lessons.example import load_iris
from softmax_course.lessons.maths import softmax

FEATURES = ("petal_width", "sepal_width")
"""The two measurements the network reads, scaled to [0, 1] over the data set."""

_COLUMNS = {"sepal_length": 0, "sepal_width": 1, "petal_length": 2, "petal_width": 3}


@dataclass(frozen=True)
class TinyNetwork:
    """Weights of a 2-2-3 network: ReLU hidden layer, linear raw outputs."""

    w1: np.ndarray
    b1: np.ndarray
    w2: np.ndarray
    b2: np.ndarray

    def raw_outputs(self, x: ArrayLike) -> np.ndarray:
        """Return the raw outputs (..., 3) for scaled inputs x (..., 2)."""
        hidden = np.maximum(0.0, np.asarray(x, dtype=float) @ self.w1 + self.b1)
        return hidden @ self.w2 + self.b2


def feature_ranges() -> tuple[np.ndarray, np.ndarray]:
    """Return the smallest and largest value in cm of each of FEATURES over the data set."""
    measurements, _ = load_iris()
    x = measurements[:, [_COLUMNS[name] for name in FEATURES]]
    return x.min(axis=0), x.max(axis=0)


def network_inputs(measurements: ArrayLike) -> np.ndarray:
    """Return the inputs (..., 2) for measurements (..., 4) in cm: FEATURES scaled to [0, 1]."""
    x = np.asarray(measurements, dtype=float)[..., [_COLUMNS[name] for name in FEATURES]]
    low, high = feature_ranges()
    return (x - low) / (high - low)


def scaled_iris() -> tuple[np.ndarray, np.ndarray]:
    """Return the network's inputs (150, 2) scaled to [0, 1] and species indices (150,)."""
    measurements, species = load_iris()
    return network_inputs(measurements), species


RUNNING_NETWORK = TinyNetwork(
    w1=np.array([[-2.54, -3.45], [0.04, 1.36]]),
    b1=np.array([2.11, 1.19]),
    w2=np.array([[0.54, 2.14, -2.47], [2.08, -2.93, 1.41]]),
    b2=np.array([-2.19, 0.03, 2.33]),
)
"""The running example's network: fitted to the iris data with example.FLOWER's raw outputs kept
close to the example's values, then rounded to two decimals; they round to example.RAW_OUTPUTS."""


def train_tiny_network(seed: int, *, steps: int = 3000, learning_rate: float = 0.5) -> TinyNetwork:
    """Train from weights drawn with `seed` by full-batch gradient descent on cross-entropy."""
    x, y = scaled_iris()
    rng = np.random.default_rng(seed)
    w1, b1 = rng.normal(size=(2, 2)), np.zeros(2)
    w2, b2 = rng.normal(size=(2, 3)), np.zeros(3)
    targets = np.eye(3)[y]
    for _ in range(steps):
        pre = x @ w1 + b1
        hidden = np.maximum(0.0, pre)
        # Gradient of the mean cross-entropy with respect to the raw outputs: p - target.
        d_raw = (softmax(hidden @ w2 + b2) - targets) / len(x)
        d_hidden = (d_raw @ w2.T) * (pre > 0)
        w2 -= learning_rate * hidden.T @ d_raw
        b2 -= learning_rate * d_raw.sum(axis=0)
        w1 -= learning_rate * x.T @ d_hidden
        b1 -= learning_rate * d_hidden.sum(axis=0)
    return TinyNetwork(w1, b1, w2, b2)
