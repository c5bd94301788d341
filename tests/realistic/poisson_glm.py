"""A Poisson regression (log link) negative log-likelihood for count data."""
import numpy as np


def loss(beta, X, counts, offset):
    eta = X @ beta + offset
    mu = np.exp(eta)
    return np.sum(mu - counts * eta)


def args():
    rng = np.random.default_rng(9)
    X = rng.normal(size=(25, 3)) * 0.3
    return rng.normal(size=3) * 0.2, X, rng.poisson(2.0, size=25).astype(float), 0.1


WRT = (0, 3)
