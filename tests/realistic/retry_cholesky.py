"""A Gaussian-process likelihood that retries its Cholesky factor with more jitter, as
numerical code does when a kernel matrix is barely positive definite."""
import numpy as np


def kernel(x, scale, length):
    d = x[:, None] - x[None, :]
    return scale * np.exp(-0.5 * (d / length) ** 2)


def loss(scale, length, x, y):
    K = kernel(x, scale, length) - 0.4 * np.eye(len(x))  # indefinite until jitter is added
    jitter = 0.0
    for attempt in range(8):
        try:
            L = np.linalg.cholesky(K + jitter * np.eye(len(x)))
            break
        except np.linalg.LinAlgError:
            jitter = 2.0 * jitter + 0.1
    alpha = np.linalg.solve(L.T, np.linalg.solve(L, y))
    return 0.5 * y @ alpha + np.sum(np.log(np.diag(L)))


def args():
    return 1.3, 0.7, np.linspace(-1.0, 1.0, 5), np.array([0.2, -0.1, 0.4, 0.3, -0.2])


WRT = (0, 1)
