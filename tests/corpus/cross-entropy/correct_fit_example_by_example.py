"""Correct: the weight gradient summed example by example as outer products x_n G_n.

verdict: correct
"""
import numpy as np


def fit_softmax_regression(X, y, steps, learning_rate):
    features, classes = X.shape[1], int(np.max(y)) + 1
    W = np.zeros((features, classes))
    b = np.zeros(classes)
    for _ in range(steps):
        G = cross_entropy_grad(X @ W + b, y)
        dW = np.zeros_like(W)
        db = np.zeros_like(b)
        for x_n, g_n in zip(X, G, strict=True):
            dW += np.outer(x_n, g_n)
            db += g_n
        W = W - learning_rate * dW
        b = b - learning_rate * db
    return W, b
