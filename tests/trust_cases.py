"""Programs from the classes of wrong gradients adjoint once returned (issue 10).

Each function is a minimal instance of one class; tests/test_trust.py checks
every one against finite differences on both backends. Keep them at module
level in this file: adjoint reads their source.
"""
import numpy as np

# -- class 1: adjoints of row, column and slice writes ------------------------------


def rnn_rows(W, h0):
    h = np.zeros((4, 3))
    h[0] = h0
    for t in range(3):
        h[t + 1] = np.tanh(W @ h[t])
    return np.sum(h)


def scale_slice(x):
    acc = np.zeros(5)
    acc[:] = x
    acc[0:3] *= 2.0
    return np.sum(acc ** 2)


def row_writes(x):
    out = np.zeros((2, 3))
    out[0] = x * 2.0
    out[1] = x ** 2
    return np.sum(out * out)


def broadcast_column(M0, u):
    M = M0 * 1.0
    M[:, 0] = u[0]
    return np.sum(M ** 2)


# -- class 7: repeated indices follow NumPy (one write of each element is kept) -----


def repeated_set(x, v):
    out = x * 1.0
    idx = np.array([0, 2, 0, 1])
    out[idx] = v
    return np.sum(out ** 2)


def repeated_iadd(x, v):
    out = x * 1.0
    idx = np.array([0, 2, 0, 1])
    out[idx] += v
    return np.sum(out ** 3)


def repeated_scalar(x, a):
    out = x * 1.0
    idx = np.array([1, 1, 3])
    out[idx] = a * 2.0
    return np.sum(out ** 2)


def mask_set(x, v):
    out = x * 1.0
    out[x > 0] = 3.0 * v[x > 0]
    return np.sum(out ** 2)
