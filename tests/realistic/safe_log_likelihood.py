"""A likelihood that falls back to a clipped computation when floating point trouble is raised."""
import numpy as np


def exact(p, y):
    with np.errstate(divide="raise", invalid="raise"):
        return np.sum(y * np.log(p) + (1 - y) * np.log(1 - p))


def clipped(p, y):
    q = np.clip(p, 1e-6, 1 - 1e-6)
    return np.sum(y * np.log(q) + (1 - y) * np.log(1 - q))


def loss(w, x, y):
    p = 1.0 / (1.0 + np.exp(-w * x))
    try:
        ll = exact(p, y)
    except FloatingPointError:
        ll = clipped(p, y)
    return -ll


def args():
    x = np.append(np.linspace(-3, 3, 11), 1100.0)  # p rounds to 1 there: log(1 - p) raises
    return 0.7, x, (x > 0).astype(float)


WRT = (0,)
