"""Wrong: the raw outputs computed once, before the loop, so every step reuses the first gradient.

verdict: wrong
message: from the current W and b
"""
import numpy as np


def fit_softmax_regression(X, y, steps, learning_rate):
    W = np.zeros((X.shape[1], int(y.max()) + 1))
    b = np.zeros(W.shape[1])
    raw = X @ W + b
    for _ in range(steps):
        G = cross_entropy_grad(raw, y)
        W = W - learning_rate * X.T @ G
        b = b - learning_rate * G.sum(axis=0)
    return W, b
