"""Ridge regression on log features, silencing the warnings of log(0) as people do."""
import numpy as np


def features(x):
    with np.errstate(divide="ignore"):
        logs = np.log(np.abs(x))
    logs = np.where(np.isfinite(logs), logs, 0.0)
    return np.stack([x, logs, x ** 2], axis=1)


def loss(beta, x, y, lam):
    F = features(x)
    r = F @ beta - y
    return 0.5 * np.dot(r, r) + lam * np.dot(beta, beta)


def args():
    rng = np.random.default_rng(2)
    x = rng.normal(size=15)
    x[3] = 0.0
    return rng.normal(size=3), x, rng.normal(size=15), 0.3


WRT = (0, 3)
NUMBA = True
