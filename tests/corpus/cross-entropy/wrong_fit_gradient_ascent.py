"""Wrong: W and b move along +gradient, so every step raises the loss.

verdict: wrong
message: uphill
"""
import numpy as np


def fit_softmax_regression(X, y, steps, learning_rate):
    W = np.zeros((X.shape[1], int(y.max()) + 1))
    b = np.zeros(W.shape[1])
    for _ in range(steps):
        G = cross_entropy_grad(X @ W + b, y)
        W = W + learning_rate * X.T @ G
        b = b + learning_rate * G.sum(axis=0)
    return W, b
