"""Wrong: the bias moved by the mean of the gradient's rows instead of their sum.

verdict: wrong
message: summed over the examples
"""
import numpy as np


def fit_softmax_regression(X, y, steps, learning_rate):
    W = np.zeros((X.shape[1], int(y.max()) + 1))
    b = np.zeros(W.shape[1])
    for _ in range(steps):
        G = cross_entropy_grad(X @ W + b, y)
        W = W - learning_rate * X.T @ G
        b = b - learning_rate * G.mean(axis=0)
    return W, b
