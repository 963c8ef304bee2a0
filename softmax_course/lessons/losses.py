"""Losses after SoftMax: cross-entropy and the sum of squared residuals, with their gradients."""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray

from softmax_course.lessons.maths import logsumexp, softmax, softmax_vjp

Array = NDArray[np.float64]


def one_hot(target: ArrayLike, classes: int) -> Array:
    """Return 1.0 at each class index in `target` and 0.0 elsewhere: shape (..., classes)."""
    return np.eye(classes)[np.asarray(target, dtype=int)]


def cross_entropy(raw: ArrayLike, target: ArrayLike) -> float:
    """Return the batch mean of logsumexp(raw) - raw[target], that is -log softmax(raw)[target]."""
    z = np.asarray(raw, dtype=float)
    true_raw = np.take_along_axis(z, np.asarray(target, dtype=int)[..., None], axis=-1)[..., 0]
    return float(np.mean(logsumexp(z) - true_raw))


def cross_entropy_grad(raw: ArrayLike, target: ArrayLike) -> Array:
    """Return d cross_entropy / d raw: (softmax(raw) - onehot(target)) / batch size."""
    p = softmax(raw)
    return (p - one_hot(target, p.shape[-1])) * (p.shape[-1] / p.size)


def squared_residuals(raw: ArrayLike, target: ArrayLike) -> float:
    """Return the mean over the batch of sum_i (softmax(raw)_i - onehot(target)_i) ** 2."""
    p = softmax(raw)
    residuals = p - one_hot(target, p.shape[-1])
    return float(np.sum(residuals**2) * p.shape[-1] / p.size)


def squared_residuals_grad(raw: ArrayLike, target: ArrayLike) -> Array:
    """Return d squared_residuals / d raw, the error 2 (p - y) passed back through SoftMax."""
    p = softmax(raw)
    error = 2 * (p - one_hot(target, p.shape[-1]))
    return softmax_vjp(raw, error) * (p.shape[-1] / p.size)
