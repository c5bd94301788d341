"""Helpers taking *args and keyword-only options, as utility code does."""
import numpy as np


def weighted_sum(*terms, weights=None):
    total = 0.0
    for k in range(len(terms)):
        w = 1.0 if weights is None else weights[k]
        total = total + w * terms[k]
    return total


def loss(x, y):
    a = np.sum(x ** 2)
    b = np.sum(np.sin(x) * y)
    c = np.sum(y ** 2)
    return weighted_sum(a, b, c, weights=(1.0, 2.0, 0.5))


def args():
    rng = np.random.default_rng(27)
    return rng.normal(size=3), rng.normal(size=3)


WRT = (0, 1)
