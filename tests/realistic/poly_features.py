"""Polynomial regression with features built by a comprehension."""
import numpy as np


def loss(coef, x, y, degree):
    feats = np.stack([x ** d for d in range(degree + 1)], axis=1)
    resid = feats @ coef - y
    return np.mean(resid ** 2) + 1e-3 * sum(c ** 2 for c in coef)


def args():
    rng = np.random.default_rng(30)
    x = rng.uniform(-1, 1, size=10)
    return rng.normal(size=4), x, np.sin(3 * x), 3


WRT = (0,)
