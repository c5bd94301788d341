"""A robust location estimate by iterative reweighting, with a while loop and :=."""
import numpy as np


def loss(x, c):
    mu = np.mean(x)
    it = 0
    while (it := it + 1) <= 6:
        w = 1.0 / np.sqrt(1.0 + ((x - mu) / c) ** 2)
        mu = np.sum(w * x) / np.sum(w)
    return mu


def args():
    rng = np.random.default_rng(10)
    return rng.normal(size=9) + np.array([0, 0, 0, 0, 0, 0, 0, 0, 6.0]), 1.5


WRT = (0, 1)
