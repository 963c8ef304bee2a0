"""Reference implementations of ArgMax, SoftMax and friends, as the chapters teach them."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from numpy.typing import ArrayLike, NDArray

Array = NDArray[np.float64]


def argmax_onehot(raw: ArrayLike, axis: int = -1) -> Array:
    """Return 1.0 at the first largest entry along `axis` and 0.0 elsewhere."""
    z = np.asarray(raw, dtype=float)
    winners = np.expand_dims(np.argmax(z, axis=axis), axis)
    onehot = np.zeros_like(z)
    np.put_along_axis(onehot, winners, 1.0, axis=axis)
    return onehot


def softmax(raw: ArrayLike, axis: int = -1) -> Array:
    """Return e**z / sum(e**z) along `axis`, shifted by the maximum so it never overflows."""
    z = np.asarray(raw, dtype=float)
    shifted = np.exp(z - np.max(z, axis=axis, keepdims=True))
    return shifted / np.sum(shifted, axis=axis, keepdims=True)


def logsumexp(raw: ArrayLike, axis: int = -1) -> Array:
    """Return log(sum(e**z)) along `axis` without overflow; -inf entries count as zero weight."""
    z = np.asarray(raw, dtype=float)
    top = np.max(z, axis=axis, keepdims=True)
    top = np.where(np.isfinite(top), top, 0.0)
    total = np.sum(np.exp(z - top), axis=axis, keepdims=True)
    with np.errstate(divide="ignore"):  # an all -inf row sums to 0, whose log is -inf
        return np.squeeze(top + np.log(total), axis=axis)


def log_softmax(raw: ArrayLike, axis: int = -1) -> Array:
    """Return log(softmax(z)) along `axis`, computed as z - logsumexp(z) so it stays finite."""
    z = np.asarray(raw, dtype=float)
    return z - np.expand_dims(logsumexp(z, axis=axis), axis)


def softmax_jacobian(raw: ArrayLike) -> Array:
    """Return dp_i/dz_j = p_i (delta_ij - p_j) along the last axis: shape (..., n, n)."""
    p = softmax(raw)
    return p[..., :, None] * np.eye(p.shape[-1]) - p[..., :, None] * p[..., None, :]


def softmax_vjp(raw: ArrayLike, grad: ArrayLike) -> Array:
    """Return grad @ J along the last axis, p * (grad - <grad, p>), without forming J."""
    p = softmax(raw)
    g = np.asarray(grad, dtype=float)
    return p * (g - np.sum(g * p, axis=-1, keepdims=True))


def numerical_jacobian(f: Callable[[Array], ArrayLike], z: ArrayLike, h: float = 1e-6) -> Array:
    """Return the (m, n) central-difference Jacobian of f: R^n -> R^m at z."""
    z = np.asarray(z, dtype=float)
    columns = []
    for j in range(z.size):
        step = np.zeros_like(z)
        step[j] = h
        columns.append((np.asarray(f(z + step)) - np.asarray(f(z - step))) / (2 * h))
    return np.stack(columns, axis=-1)
