"""Correct: in-place updates of fresh W and b, the weight gradient with np.einsum.

verdict: correct
"""
import numpy as np


def fit_softmax_regression(X, y, steps, learning_rate):
    classes = int(y.max()) + 1
    W = np.zeros((X.shape[1], classes))
    b = np.zeros(classes)
    for _ in range(steps):
        G = cross_entropy_grad(X @ W + b, y)
        W -= learning_rate * np.einsum("nf,nk->fk", X, G)
        b -= learning_rate * G.sum(axis=0)
    return W, b
