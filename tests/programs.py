"""Realistic loss functions: classifiers, recurrences, fixed-point iterations, kernels."""
import numpy as np


def softmax_xent(W, b, X, Y):
    logits = X @ W + b
    m = np.max(logits, axis=1, keepdims=True)
    z = logits - m
    logp = z - np.log(np.sum(np.exp(z), axis=1, keepdims=True))
    return -np.mean(np.sum(Y * logp, axis=1))

def logistic(w, X, y, lam):
    z = X @ w
    p = 1.0 / (1.0 + np.exp(-z))
    eps = 1e-12
    return -np.mean(y * np.log(p + eps) + (1 - y) * np.log(1 - p + eps)) + lam * np.sum(w ** 2)

def rnn(Wh, Wx, h0, xs):
    h = h0
    loss = 0.0
    for t in range(xs.shape[0]):
        h = np.tanh(Wh @ h + Wx @ xs[t])
        loss = loss + np.sum(h ** 2)
    return loss

def piecewise(x):
    total = 0.0
    for i in range(len(x)):
        v = x[i]
        if v > 0.5:
            total += v ** 2
        elif v > -0.5:
            total += np.sin(v)
        else:
            total -= v
    return total

def newton_sqrt(a):
    x = a
    k = 0
    while abs(x * x - a) > 1e-10 and k < 50:
        x = 0.5 * (x + a / x)
        k += 1
    return x

def cumulative(x):
    S = np.zeros_like(x)
    S[0] = x[0]
    for i in range(1, x.shape[0]):
        S[i] = S[i - 1] * 0.9 + x[i]
    return np.sum(S ** 2)

def matrix_fill(x):
    n = x.shape[0]
    K = np.zeros((n, n))
    for i in range(n):
        for j in range(n):
            K[i, j] = np.exp(-(x[i] - x[j]) ** 2)
    return np.sum(K @ x)

def early_exit(x):
    for i in range(10):
        x = x * 1.5
        if x > 3.0:
            return x ** 2
    return -x
