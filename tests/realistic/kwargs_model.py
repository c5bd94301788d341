"""A model function with keyword-only parameters and **options passed down."""
import numpy as np


def penalty(w, *, kind="l2", strength=1.0):
    if kind == "l1":
        return strength * np.sum(np.abs(w))
    return strength * np.sum(w ** 2)


def loss(w, X, y, **options):
    r = X @ w - y
    return 0.5 * np.sum(r ** 2) + penalty(w, **options)


def args():
    rng = np.random.default_rng(32)
    return rng.normal(size=3), rng.normal(size=(6, 3)), rng.normal(size=6)


WRT = (0,)
