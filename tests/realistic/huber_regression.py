"""Robust regression with the Huber loss."""
import numpy as np


def huber(r, delta=1.0):
    a = np.abs(r)
    return np.where(a <= delta, 0.5 * r ** 2, delta * (a - 0.5 * delta))


def loss(theta, X, y):
    residual = y - X @ theta
    return np.sum(huber(residual, 0.8)) / len(y)


def args():
    rng = np.random.default_rng(5)
    return rng.normal(size=2), rng.normal(size=(12, 2)), 3.0 * rng.normal(size=12)


WRT = (0,)
