"""Gaussian AR(2) negative log-likelihood, residuals written into a preallocated array."""
import numpy as np


def loss(phi, log_sigma, series):
    n = len(series)
    resid = np.zeros(n - 2)
    for t in range(2, n):
        pred = phi[0] * series[t - 1] + phi[1] * series[t - 2]
        resid[t - 2] = series[t] - pred
    sigma = np.exp(log_sigma)
    return 0.5 * np.sum(resid ** 2) / sigma ** 2 + (n - 2) * log_sigma


def args():
    rng = np.random.default_rng(12)
    return np.array([0.5, -0.2]), 0.1, np.cumsum(rng.normal(size=15)) * 0.3


WRT = (0, 1)
