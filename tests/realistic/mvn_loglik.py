"""Multivariate normal log-density through slogdet and solve."""
import numpy as np


def loss(mean, A, data):
    cov = A @ A.T + 0.5 * np.eye(A.shape[0])
    sign, logdet = np.linalg.slogdet(cov)
    total = 0.0
    for i in range(data.shape[0]):
        d = data[i] - mean
        total = total + d @ np.linalg.solve(cov, d)
    return 0.5 * total + 0.5 * data.shape[0] * logdet


def args():
    rng = np.random.default_rng(17)
    return rng.normal(size=3), rng.normal(size=(3, 3)), rng.normal(size=(5, 3))


WRT = (0, 1)
