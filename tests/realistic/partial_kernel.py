"""Kernel ridge regression with the kernel's parameter fixed by functools.partial; the inputs move too."""
import functools

import numpy as np


def rbf(a, b, gamma):
    return np.exp(-gamma * (a - b) ** 2)


kernel = functools.partial(rbf, gamma=2.0)


def loss(alpha, x, y):
    K = kernel(x[:, None], x[None, :])
    pred = K @ alpha
    return np.sum((pred - y) ** 2) + 0.1 * alpha @ K @ alpha


def args():
    rng = np.random.default_rng(31)
    x = np.linspace(-1, 1, 6)
    return rng.normal(size=6), x, np.cos(2 * x)


WRT = (0, 1)
