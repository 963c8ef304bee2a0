"""Wrong: only W is trained; b stays at zero.

verdict: wrong
message: update the bias too
"""
import numpy as np


def fit_softmax_regression(X, y, steps, learning_rate):
    W = np.zeros((X.shape[1], int(y.max()) + 1))
    b = np.zeros(W.shape[1])
    for _ in range(steps):
        W = W - learning_rate * X.T @ cross_entropy_grad(X @ W + b, y)
    return W, b
