"""SoftMax outside classification: sampling the next token at a temperature, and attention."""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray

from softmax_course.lessons.maths import softmax

Array = NDArray[np.float64]


def sample_tokens(
    scores: ArrayLike, *, temperature: float, size: int, rng: np.random.Generator
) -> NDArray[np.int64]:
    """Return `size` token indices drawn independently from softmax(scores / temperature)."""
    p = softmax(np.asarray(scores, dtype=float) / temperature)
    return rng.choice(p.size, size=size, p=p)


def causal_mask(n: int) -> Array:
    """Return an (n, n) array that is 0 on and below the diagonal and -inf above it."""
    return np.where(np.tri(n, dtype=bool), 0.0, -np.inf)


def attention(
    queries: ArrayLike, keys: ArrayLike, values: ArrayLike, *, causal: bool = False
) -> tuple[Array, Array]:
    """Return softmax(Q K^T / sqrt(d)) V and the weights; `causal` hides later positions."""
    q, k, v = (np.asarray(a, dtype=float) for a in (queries, keys, values))
    scores = q @ k.T / np.sqrt(q.shape[-1])
    if causal:
        scores = scores + causal_mask(len(q))
    weights = softmax(scores)
    return weights @ v, weights
