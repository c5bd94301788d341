"""Gaussian-process negative log marginal likelihood, with jitter when Cholesky fails."""
import numpy as np


def kernel(x, lengthscale, variance):
    d = x[:, None] - x[None, :]
    return variance * np.exp(-0.5 * d ** 2 / lengthscale ** 2)


def nlml(log_ell, log_var, x, y):
    K = kernel(x, np.exp(log_ell), np.exp(log_var)) + 1e-8 * np.eye(len(x))
    try:
        L = np.linalg.cholesky(K)
    except np.linalg.LinAlgError:
        L = np.linalg.cholesky(K + 1e-3 * np.eye(len(x)))
    alpha = np.linalg.solve(L, y)
    return 0.5 * np.dot(alpha, alpha) + np.sum(np.log(np.diag(L)))


loss = nlml


def args():
    rng = np.random.default_rng(3)
    x = np.sort(rng.uniform(-2, 2, size=6))
    return 0.2, -0.1, x, np.sin(x)


WRT = (0, 1)
