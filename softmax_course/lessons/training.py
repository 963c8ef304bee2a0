"""A small NumPy network for iris: ReLU layers, SoftMax + cross-entropy, hand-written backprop."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
from numpy.typing import NDArray

from softmax_course.lessons.losses import cross_entropy, cross_entropy_grad

Array = NDArray[np.float64]
Params = list[tuple[Array, Array]]
"""One (weights, bias) pair per layer; weights have shape (inputs, outputs)."""


def split_indices(labels: NDArray, *, test_fraction: float, seed: int) -> tuple[NDArray, NDArray]:
    """Return sorted train and test row indices, `test_fraction` of each class drawn for test."""
    rng = np.random.default_rng(seed)
    test = []
    for label in np.unique(labels):
        rows = rng.permutation(np.flatnonzero(labels == label))
        test.extend(rows[: round(rows.size * test_fraction)])
    is_test = np.isin(np.arange(labels.size), test)
    return np.flatnonzero(~is_test), np.flatnonzero(is_test)


def standardise(train: Array, other: Array) -> tuple[Array, Array]:
    """Return both arrays shifted and scaled by the training columns' mean and deviation."""
    mean, std = train.mean(axis=0), train.std(axis=0)
    return (train - mean) / std, (other - mean) / std


def init_params(sizes: Sequence[int], *, seed: int, zero_last: bool = False) -> Params:
    """Return He-scaled random weights and zero biases; the last layer all zeros if `zero_last`."""
    rng = np.random.default_rng(seed)
    params = []
    for fan_in, fan_out in zip(sizes[:-1], sizes[1:], strict=True):
        weights = rng.normal(scale=np.sqrt(2 / fan_in), size=(fan_in, fan_out))
        params.append((weights, np.zeros(fan_out)))
    if zero_last:
        params[-1] = (np.zeros_like(params[-1][0]), np.zeros_like(params[-1][1]))
    return params


def forward(params: Params, x: Array) -> tuple[Array, list[Array]]:
    """Return the raw outputs and each layer's input (ReLU between layers, none after the last)."""
    inputs = [x]
    for weights, bias in params[:-1]:
        inputs.append(np.maximum(0.0, inputs[-1] @ weights + bias))
    weights, bias = params[-1]
    return inputs[-1] @ weights + bias, inputs


def backward(params: Params, inputs: list[Array], d_raw: Array) -> Params:
    """Return the loss gradient for every weight and bias, given d loss / d raw outputs."""
    grads = []
    d_out = d_raw
    for layer in reversed(range(len(params))):
        grads.append((inputs[layer].T @ d_out, d_out.sum(axis=0)))
        if layer > 0:
            d_out = (d_out @ params[layer][0].T) * (inputs[layer] > 0)  # ReLU passes where on
    return grads[::-1]


def accuracy(params: Params, x: Array, y: NDArray) -> float:
    """Return the share of rows whose largest raw output (ArgMax) is the true class."""
    return float(np.mean(np.argmax(forward(params, x)[0], axis=-1) == y))


class GradientDescent:
    """Plain gradient descent: every parameter moves by -learning_rate times its gradient."""

    def __init__(self, learning_rate: float) -> None:
        self.learning_rate = learning_rate

    def step(self, params: Params, grads: Params) -> None:
        """Update `params` in place."""
        for (weights, bias), (d_weights, d_bias) in zip(params, grads, strict=True):
            weights -= self.learning_rate * d_weights
            bias -= self.learning_rate * d_bias


class Adam:
    """Adam (Kingma and Ba, 2015): each coordinate's step scaled by its own gradient history."""

    def __init__(self, learning_rate: float, beta1: float = 0.9, beta2: float = 0.999) -> None:
        self.learning_rate, self.beta1, self.beta2, self.eps = learning_rate, beta1, beta2, 1e-8
        self.t = 0
        self.moments: list[tuple[Array, Array]] = []

    def step(self, params: Params, grads: Params) -> None:
        """Update `params` in place."""
        flat_params = [array for pair in params for array in pair]
        flat_grads = [array for pair in grads for array in pair]
        if not self.moments:
            self.moments = [(np.zeros_like(a), np.zeros_like(a)) for a in flat_params]
        self.t += 1
        for param, grad, (mean, square) in zip(flat_params, flat_grads, self.moments, strict=True):
            mean += (1 - self.beta1) * (grad - mean)
            square += (1 - self.beta2) * (grad**2 - square)
            mean_hat = mean / (1 - self.beta1**self.t)
            square_hat = square / (1 - self.beta2**self.t)
            param -= self.learning_rate * mean_hat / (np.sqrt(square_hat) + self.eps)


@dataclass
class History:
    """What a training run recorded: one entry per step, the first before any update."""

    loss: list[float] = field(default_factory=list)
    train_accuracy: list[float] = field(default_factory=list)
    test_accuracy: list[float] = field(default_factory=list)
    raw_outputs: list[Array] = field(default_factory=list)


def train(
    params: Params,
    data: tuple[Array, NDArray, Array, NDArray],
    *,
    steps: int,
    optimiser: GradientDescent | Adam,
    record_raw: bool = False,
) -> History:
    """Train `params` in place by full-batch steps on the mean cross-entropy; return the history.

    `data` is (x_train, y_train, x_test, y_test).
    """
    x, y, x_test, y_test = data
    history = History()
    for step in range(steps + 1):
        raw, inputs = forward(params, x)
        history.loss.append(cross_entropy(raw, y))
        history.train_accuracy.append(float(np.mean(np.argmax(raw, axis=-1) == y)))
        history.test_accuracy.append(accuracy(params, x_test, y_test))
        if record_raw:
            history.raw_outputs.append(raw)
        if step < steps:
            optimiser.step(params, backward(params, inputs, cross_entropy_grad(raw, y)))
    return history
