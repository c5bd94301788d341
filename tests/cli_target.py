"""A user's file for the command-line tests: a loop, a helper, a global, a class, a main block."""
import numpy as np

import adjoint

SCALE = 2.0
print("importing cli_target")  # the command's output must not include this


def helper(h, w):
    return np.tanh(h @ w)


def loss(w, X, y):
    total = 0.0
    for i in range(X.shape[0]):
        total += (helper(X[i], w) * SCALE - y[i]) ** 2
    return total / X.shape[0] + np.max(w) + np.linalg.norm(w)


def curve(w):
    return np.cumsum(np.sin(w) * w)


@adjoint.custom_vjp
def clipped(x, limit):
    return x


@clipped.defvjp
def clipped_vjp(g, ans, x, limit):
    return (np.clip(g, -limit, limit), None)


def clipped_loss(x):
    return np.sum(clipped(x * 3.0, 0.5) ** 2)


class Model:
    def __init__(self, k):
        self.k = k

    def loss(self, w, X):
        return np.sum((X @ w) ** 2)

    @staticmethod
    def plain(w):
        return np.sum(np.sin(w))


if __name__ == "__main__":
    raise SystemExit("the main block ran")
