"""The Numba backend really compiles loop code using the runtime helpers (no fallback).

Every program below makes the generated loop code call helpers (dot and matmul
adjoints, ``safe_log``, ``log_base``, 2-D ``unbroadcast``, ``unreduce`` over an
axis, ``add_at`` with a slice, a tuple, index arrays and masks, ``last_writes``,
``unstack_like``, ``unconcatenate``, ``unstack`` of a list, dict comprehensions, ``np.add.at``
and ``np.put`` (whole-array writes, ``a[...] = t``), the linear-algebra and copying adjoints,
splits, sorts, gathers along an axis, np.diff, np.select, np.interp, indexing by lists and
by masks of two axes, np.mean over an axis, np.concatenate and the built-in sum of a list, complex adjoints
summed over a broadcast axis or spread over a real array, arrays taped before their first binding,
``np.where`` of numbers, a tuple of a number and an array, an element and a mask written into one
array, a loop target counting in one loop and an array in another, the adjoint of a name still
unbound, helpers called without a derivative, a list of lists, a complex adjoint's real part
reshaped, the shape of a name taped before its first binding, the user's functions with
keyword-only parameters, an array indexed by a list of ints, a list of 0-d arrays, ...).
Each must compile with Numba (no ``BackendWarning``, the entry point still
Numba's) and agree with the NumPy backend and with finite differences.
"""
import math
import warnings

import numpy as np
import pytest

numba = pytest.importorskip("numba")

import adjoint  # noqa: E402
from adjoint.testing import numerical_grad  # noqa: E402

rng = np.random.default_rng(14)


def normal(*shape):
    return rng.normal(size=shape)


def dots(W, x):
    s = 0.0
    for i in range(W.shape[0]):
        s = s + np.dot(W[i], x) * np.dot(W, x)[i]
    return s


def recurrent(W, U, x):
    h = np.zeros(W.shape[0])
    for t in range(x.shape[0]):
        h = np.tanh(W @ h + U @ x[t])
    return np.sum(h * h)


def matrix_power(A, B):
    C = A
    for i in range(2):
        C = np.tanh(C @ B) + A.T @ A
    return np.sum(C)


def logs(x, y):
    s = 0.0
    for i in range(x.shape[0]):
        s = s + np.log(x[i] * x[i] + 1.0) + math.log(x[i] + 3.0) + x[i] ** y
    return s


def slices(x):
    y = np.zeros(x.shape[0])
    s = 0.0
    for i in range(x.shape[0] - 1):
        y[i:i + 2] = y[i:i + 2] + x[i] * x[i:i + 2]
        s = s + np.sum(x[i:i + 2] * x[i])
    return s + np.sum(y * y)


def grid(A):
    B = np.zeros((A.shape[0], A.shape[1]))
    for i in range(A.shape[0]):
        for j in range(A.shape[1]):
            B[i, j] = A[i, j] * A[j, i]
    return np.sum(B * B) + np.max(B * A) + np.mean(A * A)


def tuple_index(A, idx):
    s = 0.0
    for k in range(idx.shape[0]):
        s = s + A[idx[k], k] * A[k, idx[k]]
    return s


def scatter(x, idx):
    y = np.zeros(3)
    for k in range(idx.shape[0]):
        y[idx[k]] = y[idx[k]] + x[k] * x[k]
    return np.sum(y * y)


def appended(x):
    out = []
    for i in range(x.shape[0]):
        out.append(x[i] * np.sin(x[i]))
    return np.sum(np.array(out) * x)


def broadcasting(A, b):
    s = 0.0
    for i in range(2):
        s = s + np.sum(A * b * s + A[0]) + np.sum(np.outer(b, b)) + np.sum(np.sum(A * A, axis=0) * b)
    return s


def reductions(x):
    s = 0.0
    for i in range(2):
        s = s + np.max(x * s + x) + np.prod(x + 1.0) + np.linalg.norm(x * (s + 1.0)) \
            + np.sum(np.cumsum(x) * np.clip(x, -0.5, 0.5))
    return s


def joined(x, y):
    s = 0.0
    for i in range(2):
        z = np.concatenate((x * s + x, y), axis=0)
        w = np.hstack((x, y * y))
        s = s + np.sum(z * z) + np.sum(w * np.arange(w.shape[0]))
    return s


def fancy(A, idx):
    s = 0.0
    for i in range(2):
        B = A * (s + 1.0)
        s = s + np.sum(B[idx] * B[idx]) + np.sum(B[:, idx[0]] ** 2) + np.sum(B[0][B[0] > 0.0] ** 3)
    return s


def stacked(x):
    s = 0.0
    for i in range(2):
        rows = (x * s, x * x, np.sin(x))  # Numba stacks tuples, not lists
        s = s + np.sum(np.stack(rows, axis=1) * np.arange(3.0)) + np.sum(np.stack(rows) ** 2)
    return s


def dict_comprehension(x):
    s = 0.0
    for i in range(2):
        d = {k: x[k] * x[k] + s for k in range(3)}
        s = s + d[0] + d[2] * s
    return s


def linear_algebra(A, b):
    s = 0.0
    for i in range(2):
        M = A + (s + 1.0) * np.eye(3)
        s = s + np.sum(np.linalg.solve(M, b) ** 2) + np.linalg.det(M) * 0.1 + np.trace(M @ M)
    return s


def copies(x, idx):
    s = 0.0
    for i in range(2):
        y = x * (s + 1.0)
        s = s + np.sum(np.take(y, idx) ** 2) + np.sum(np.sort(y) * np.arange(4.0)) \
            + np.sum(np.repeat(y, 2) ** 2) + np.sum(np.diag(y) @ np.diag(y)) + np.sum(np.cumprod(y))
    return s



# -- NumPy calls Numba's own lacks (backends/numba/numpy.py): max over an axis, stacks ----------
def softmax_rows(W, X):
    s = 0.0
    for i in range(2):
        z = X @ W * (s * 0.1 + 1.0)
        m = np.max(z, axis=1, keepdims=True)
        logp = z - m - np.log(np.sum(np.exp(z - m), axis=1, keepdims=True))
        s = s + np.sum(logp[:, 0]) + np.sum(z.max(axis=1)) - np.sum(np.min(z, axis=0))
    return s


def stacked_products(S, Q):
    s = 0.0
    for i in range(2):
        Z = np.matmul(S * (s * 0.1 + 1.0), np.transpose(Q, (0, 2, 1)))
        s = s + np.sum(Z * Z) + np.sum(S @ Q[0]) + np.sum(Q[1] @ np.transpose(Z, (0, 2, 1))) \
            + np.sum(np.max(Z, axis=0))
    return s


def differences(x, A):
    s = 0.0
    for i in range(2):
        y = x * (s + 1.0)
        B = A * (s + 1.0)
        s = s + np.sum(np.diff(y) ** 2) + np.sum(np.diff(y, 2) * np.arange(2.0)) + np.sum(np.diff(B) ** 3) \
            + np.sum(np.ediff1d(y) ** 2) + np.sum(np.ediff1d(B, np.ones(2), 3.0) * np.arange(11.0))
    return s


def finite(x, c):
    s = 0.0
    for i in range(2):
        y = np.nan_to_num(x * (s + 1.0) + c, nan=0.5, posinf=2.0, neginf=-2.0)
        s = s + np.sum(y * y)
    return s


def interpolated(x, fp):
    s = 0.0
    xp = np.array([-1.0, 0.0, 0.5, 2.0])
    for i in range(2):
        s = s + np.sum(np.interp(x * (s + 1.0), xp, fp) ** 2) + np.interp(x[0] * (s + 1.0), xp, fp)
    return s


def inserted(x):
    s = 0.0
    for i in range(2):
        y = x * (s + 1.0)
        s = s + np.sum(np.insert(y, 2, 5.0) * np.arange(5.0)) + np.sum(np.insert(y, [1, 1], y[:2] * y[1:3]) ** 2)
    return s


def selected(x):
    s = 0.0
    for i in range(2):
        y = x * (s + 1.0)
        s = s + np.sum(np.select([y > 0.0, y < -1.0], [y * y, np.sin(y)], 0.5) ** 2)
    return s


def sorted_rows(A):
    s = 0.0
    for i in range(2):
        B = A * (s + 1.0)
        s = s + np.sum(np.sort(B) * np.arange(3.0)) + np.sum(np.partition(B[0], 1) * np.arange(3.0))
    return s


def taken_along(A, idx):
    s = 0.0
    for i in range(2):
        B = A * (s + 1.0)
        s = s + np.sum(np.take_along_axis(B, idx, 1) ** 2) + np.sum(np.take_along_axis(B, idx[:1] % 2, 0) ** 3) \
            + np.sum(np.take_along_axis(B[0], idx[1], None) ** 2)
    return s


def pieces(x, A):
    s = 0.0
    for i in range(2):
        y = x * (s + 1.0)
        B = A * (s + 1.0)
        a, b = np.split(y, 2)
        c = np.split(y, [1, 3])
        d = np.array_split(B, 2, axis=1)
        s = s + np.sum(a * b) + np.sum(c[2] ** 2) + np.sum(c[0]) + np.sum(d[1] ** 2) \
            + np.sum(np.hsplit(B, 3)[2] * B[:, :1])
    return s


def at_least(x, A):
    s = 0.0
    for i in range(2):
        y = x * (s + 1.0)
        s = s + np.sum(np.atleast_1d(y) ** 2) + np.sum(np.atleast_2d(y) * A[:1]) + np.sum(np.atleast_3d(A * y) ** 2)
    return s


# -- linear algebra: the decompositions' adjoints (their twins in backends/numba/linalg.py) ------
def cholesky(A):
    s = 0.0
    for i in range(2):
        L = np.linalg.cholesky(A @ A.T + (s + 1.0) * np.eye(3))
        s = s + np.sum(L ** 2) + L[2, 1] * L[1, 1]
    return s


def eigenvalues(A):
    s = 0.0
    for i in range(2):
        s = s + np.sum(np.linalg.eigvalsh(A + A.T + s * np.eye(3)) ** 3)
    return s


def pseudo_inverse(A):
    s = 0.0
    for i in range(2):
        s = s + np.sum(np.linalg.pinv(A * (s + 1.0)) ** 2)
    return s


def powers(A):
    s = 0.0
    for n in (3, -2):
        s = s + np.sum(np.linalg.matrix_power(A * (0.1 * s + 1.0), n))
    return s


def kronecker(a, b, v):
    s = 0.0
    for i in range(2):
        s = s + np.sum(np.kron(a * (s + 1.0), b) ** 2) + np.sum(np.kron(v, a) * np.kron(v, v)[0])
    return s


def convolutions(a, v):
    s = 0.0
    for mode in ("full", "same", "valid"):
        s = s + np.sum(np.convolve(a * (s + 1.0), v, mode) ** 2) \
            + np.sum(np.correlate(a, v * (s + 1.0), mode) * np.arange(7.0)[:np.correlate(a, v, mode).size])
    return s + np.sum(np.convolve(v, a, "same") * np.correlate(v, a, "same"))


CASES = [
    (dots, (normal(3, 4), normal(4)), (0, 1)),
    (recurrent, (0.5 * normal(3, 3), normal(3, 2), normal(4, 2)), (0, 1, 2)),
    (matrix_power, (0.5 * normal(3, 3), 0.5 * normal(3, 3)), (0, 1)),
    (logs, (rng.uniform(0.5, 2.0, size=4), 1.5), (0, 1)),
    (slices, (normal(5),), 0),
    (grid, (normal(3, 3),), 0),
    (tuple_index, (normal(3, 3), np.array([0, 2, 2])), 0),
    (scatter, (normal(4), np.array([0, 2, 2, 1])), 0),
    (appended, (normal(3),), 0),
    (broadcasting, (normal(3, 4), normal(4)), (0, 1)),
    (reductions, (normal(4),), 0),
    (joined, (normal(3), normal(2)), (0, 1)),
    (fancy, (normal(3, 4), np.array([[0, 2], [2, 1]])), 0),
    (stacked, (normal(4),), 0),
    (dict_comprehension, (normal(3),), 0),
    (linear_algebra, (0.3 * normal(3, 3), normal(3)), (0, 1)),
    (copies, (normal(4), np.array([3, 0, 3])), 0),
    (softmax_rows, (normal(3, 4), normal(5, 3)), (0, 1)),
    (stacked_products, (normal(2, 4, 3), normal(2, 3, 3)), (0, 1)),
]


# -- reductions over every entry, trapezoid, linspace, arange, angle of real values ---------------
def quantiles(x):
    s = 0.0
    for i in range(2):
        y = x * (s + 1.0)
        s = s + np.quantile(y, 0.3) + np.median(y) + np.percentile(y, 70.0) \
            + np.sum(np.quantile(y, np.array([0.2, 0.9])) ** 2)
    return s


def averages(x, w):
    s = 0.0
    for i in range(2):
        y = x * (s + 1.0)
        s = s + np.average(y) + np.average(y * y, weights=w) + np.nanmean(y * x)
    return s


def trapezoids(y, x):
    s = 0.0
    for i in range(2):
        z = y * (s + 1.0)
        s = s + np.sum(np.trapezoid(z) + np.trapezoid(z * z, dx=0.5)) + np.sum(np.trapezoid(z, x) ** 2)
    return s


def spaced(a, b):
    s = 0.0
    for i in range(2):
        s = s + np.sum(np.linspace(a * (s + 1.0), b, 7) ** 2) + np.sum(np.sin(np.linspace(a, b * s)))
    return s


def ranged(a, c):
    s = 0.0
    for i in range(2):
        s = s + np.sum(np.arange(a, 5.0, 0.5) ** 2) * (s + 1.0) + np.sum(np.arange(0.0, 3.0, c) ** 2)
    return s


def angles(x):
    s = 0.0
    for i in range(2):
        y = x * (s + 1.0)
        s = s + np.sum(np.angle(y - 0.5) * y) + np.angle(y[0] - 1.0, True) * y[1]
    return s


CASES += [
    (quantiles, (normal(5),), 0),
    (averages, (normal(2, 3), rng.uniform(0.5, 2.0, size=(2, 3))), (0, 1)),
    (trapezoids, (normal(2, 5), np.cumsum(rng.uniform(0.5, 1.0, size=5))), 0),
    (spaced, (0.7, 1.3), (0, 1)),
    (ranged, (1.2, 0.7), (0, 1)),
    (angles, (normal(4),), 0),
]


def added_at(x, idx):
    total = 0.0
    for i in range(3):
        acc = np.zeros(4)
        np.add.at(acc, idx, x * (i + 1))  # lowered to a whole-array write, acc[...] = t
        total += np.sum(np.sin(acc))
    return total


def put_in(x, idx):
    total = 0.0
    for i in range(2):
        y = x * (i + 1.0)
        np.put(y, idx, x[:2] * 3.0)
        total += np.sum(y * y)
    return total


def unpacked(x):
    s = 0.0
    for i in range(x.shape[0] - 2):
        a, b, c_ = x[i], x[i + 1], x[i + 2]  # a tuple of numbers: its adjoint is added to by item
        u, v = a / (1.0 + c_ * c_), np.sin(b)
        s += u * v
    return s


def decompositions(A):
    s = 0.0
    for i in range(2):  # the adjoints of tuples of arrays, (w, v), (u, s, vh), (q, r)
        B = A * (s * 0.1 + 1.0)
        w, v = np.linalg.eigh(B @ B.T + np.eye(3))
        u, sv, vh = np.linalg.svd(B)
        q, r = np.linalg.qr(B)
        s = s + np.sum(w * w) + np.sum(v[:, 0] ** 2 * w) + np.sum(sv ** 3) + np.sum(u[0] * vh[0] * sv[0]) \
            + np.sum(r * r) + np.sum(q[:, 0] * q[:, 1])
    return s


def stacked_list(x, A):
    s = 0.0
    for i in range(2):
        rows = [x * (0.1 * s + 1.0), np.sin(x), x * x]  # np.stack of a list (Numba's: a tuple)
        s = s + 0.1 * np.sum(np.stack(rows) ** 2) + np.sum(np.tanh(np.stack([A[0] * s, A[1]], axis=1)))
    return s


def listed(x, A):
    s = 0.0
    for i in range(2):
        y = x * (s * 0.1 + 1.0)
        y[[0, 2]] += np.tanh(x[[2, 0]])  # a list as an index, read and written
        s = s + np.sum(y * y) + np.sum(A[[1, 0]] * A[[0, 0]])
    return s


def masked_grid(A):
    s = 0.0
    for i in range(2):
        B = A * (s * 0.1 + 1.0)
        B[B > 0.2] -= 0.5 * A[0, 0]  # a mask of two axes, read and written
        s = s + np.sum(B * B) + np.sum(np.sin(A[A < 0.0]))
    return s


def means(A, T):
    s = 0.0
    for i in range(2):
        s = s + np.sum(np.mean(A * (s + 1.0), axis=1) ** 2) + np.sum(np.mean(T, axis=0, keepdims=True) * A[0]) \
            + np.sum(np.mean(np.transpose(T, (2, 0, 1)), axis=-1) ** 2)
    return s


def joined_list(x, A):
    s = 0.0
    for i in range(2):
        z = np.concatenate([x[:1] * s, np.sin(x[2:])])  # a list, not a tuple
        w = np.concatenate([A, A * A], axis=1)
        s = s + np.sum(z * z) + np.sum(w * np.arange(w.shape[1]))
    return s


def complex_broadcast(x, y):
    s = 0.0
    for i in range(2):
        z = x * np.exp(1j * y[:, None]) + 0.5j  # a complex adjoint summed over the broadcast axis
        s = s + np.sum(np.abs(z)) + np.sum(np.imag(z * (x + 2j)))
    return s


def summed_list(x, A):
    s = 0.0
    for i in range(2):
        rows = [x * (s + 1.0), np.sin(x), A[0] * x]
        s = s + np.sum(sum(rows) ** 2) + sum([x[0] * s, x[1] ** 2])  # built-in sum of lists
    return s


def reshaped_back(v, g):
    s = 0.0
    for i in range(2):
        w = np.ones(3) * (s + 1.0) + v[0]
        s = s + np.sum(np.sin(np.outer(v, w * g).reshape(3, 2).T @ w))  # transpose_grad, then a reshape
    return s


def bound_in_the_loop(x, A):
    s = 0.0
    for i in range(3):
        y = np.sin(x * i)  # unbound before the loop: taped before its binding
        y = y * s + A[0]
        z = x * y
        for j in range(2):
            z = np.tanh(z) * x  # bound again in an inner loop
        s = s + np.sum(y * x) + np.sum(z)
    return s


def where_of_numbers(x):
    s = 0.0
    for i in range(3):
        s = s + np.where(x[i] > 0, x[i], 2.0 * x[i])  # a 0-d array; its adjoint added into x_bar[i]
    return s


CASES += [
    (stacked_list, (normal(3), 0.3 * normal(2, 3)), (0, 1)),
    (decompositions, (0.5 * normal(3, 3),), 0),
    (unpacked, (normal(5),), 0),
    (added_at, (normal(3), np.array([0, 2, 0])), 0),
    (put_in, (normal(4), np.array([3, 3])), 0),
    (differences, (normal(4), normal(3, 3)), (0, 1)),
    (finite, (rng.uniform(0.5, 1.5, size=4), np.array([0.0, np.inf, np.nan, -np.inf])), 0),
    (interpolated, (np.array([-1.5, 0.2, 0.7, 1.4, 2.5]), normal(4)), 0),
    (inserted, (normal(4),), 0),
    (selected, (normal(5),), 0),
    (sorted_rows, (normal(2, 3),), 0),
    (taken_along, (normal(2, 3), np.array([[0, 2, 2], [1, 1, 0]])), 0),
    (pieces, (normal(4), normal(2, 3)), (0, 1)),
    (at_least, (normal(4), normal(4, 4)), (0, 1)),
    (cholesky, (normal(3, 3),), 0),
    (eigenvalues, (normal(3, 3),), 0),
    (pseudo_inverse, (normal(4, 3),), 0),
    (powers, (0.5 * normal(3, 3) + np.eye(3),), 0),
    (kronecker, (normal(2, 3), normal(3, 2), normal(2)), (0, 1, 2)),
    (convolutions, (normal(5), normal(3)), (0, 1)),
]
CASES += [  # drawn after the cases above, whose arguments stay as they were
    (reshaped_back, (normal(2), normal(3)), (0, 1)),
    (summed_list, (normal(3), normal(2, 3)), (0, 1)),
    (listed, (normal(3), normal(2, 3)), (0, 1)),
    (masked_grid, (normal(3, 4),), 0),
    (means, (normal(2, 3), normal(4, 2, 3)), (0, 1)),
    (joined_list, (normal(3), normal(2, 3)), (0, 1)),
    (complex_broadcast, (normal(3), normal(2)), (0, 1)),
]
def flipped(x, A):
    s = 0.0
    for i in range(2):
        s = s + np.sum(np.tanh(np.flip(x * (s + 1.0))) * x) + np.sum(np.flip(A) * A)  # np.flip(g, None)
    return s


CASES += [
    (flipped, (normal(3), normal(2, 3)), (0, 1)),
    (bound_in_the_loop, (normal(3), normal(2, 3)), (0, 1)),
    (where_of_numbers, (normal(4),), 0),
]


def swapped(x, A):
    a = np.sin(A) * x[0]
    c = x[1] * 2.0
    a, c = c, a  # a tuple of a number and an array: its adjoint is held one name per item
    s = 0.0
    for i in range(2):
        s = s + np.sum(c * a) * (s + 1.0)
    return s


def written_in_place(x, A):
    y = np.zeros(3)
    y[-1] = x[0]  # an element: numbers on the tape of this write
    for i in range(3):
        y[y > 0.5] = np.dot(x, x) * 0.1 * (i + 1.0)  # a mask: arrays on a tape of its own
        y[:2] = y[:2] + A[0, :2] * x[1]  # a slice: arrays of another size on another
    return np.sum(np.tanh(y) * x)


def halved(v):
    return v * 0.5


def complex_spread(x):
    s = 0.0
    for i in range(2):
        y = halved(x) * (s + 1.0)  # a helper's value: not proven real
        z = np.sqrt(np.sum(y) - 0.3 + 0j)  # so its sum's adjoint is complex, spread over y
        s = s + np.abs(z) + np.sum(np.tanh(x)) * s
    return s


def target_reused(x, A):
    s = 0.0
    if x[0] > -10.0:
        for row in range(2):  # an int here
            s = s + x[row]
    for k, row in enumerate(A):  # an array there: its values are a name of their own
        s = s + np.sum(np.tanh(row * s)) * x[k]
    return s


X3, A23 = np.array([0.3, -0.7, 1.1]), np.array([[0.2, -0.4, 0.9], [1.3, -0.6, 0.1]])
CASES += [
    (swapped, (X3, A23), (0, 1)),
    (written_in_place, (np.array([0.9, -0.8, 0.6]), A23), (0, 1)),
    (complex_spread, (np.array([0.9, 0.8, 0.6]),), 0),
    (target_reused, (X3, A23), (0, 1)),
]


def returned_in_the_loop(x, A):
    s = np.sum(A * x)
    x = x[0]  # another rank: no rank is proven for x, nor for what the loop returns
    for i in range(2):
        x = 0.9 * x + 0.1 * np.cos(x - s)
        if s < 50.0:
            return np.sum(x * A)  # taped before its first binding: the return value starts as None
    return s + x


def cube(v):
    return v ** 3


def bound_in_a_branch(x, A):
    t = cube(x[0])  # a helper's result: no rank or realness is proven for it, nor for m
    s = np.sum(x)
    if x[1] > 0.0:  # not taken for the arguments below: m's adjoint starts from None
        if t > -100.0:
            m = A * t
        else:
            m = A
        s = s + np.sum(m * m)
    return s


def outer_in_the_loop(x, A):
    for i in range(2):
        if x[i] > 0.0:
            m = A
        else:
            m = np.outer(x, x)[:2]  # 2-D whatever its operands' ranks: so are m and A
        A = 0.5 * A + np.sin(m)  # m is taped before its first binding
    return np.sum(A)


def clipped(v):
    return np.minimum(v, 2.0)


def tolerance(v, c):
    return np.sum(clipped(np.abs(v))) * c  # calls a helper of its own


def called_as_is(x, A):
    def limit(v):
        return clipped(v) * 0.5  # lifted
    s = 0.0
    for i in range(3):
        t = tolerance(A[0], 0.1)  # no derivative: the compiled module calls the helpers themselves
        if t > 10.0 or np.sum(limit(A[1])) > 10.0:
            break
        s = s + np.sum(np.sin(x * i) * A[1]) + t * x[i]
    return s


CASES += [
    (returned_in_the_loop, (normal(3), normal(2, 3)), (0, 1)),
    (bound_in_a_branch, (np.array([0.3, -0.4, 0.2]), normal(2, 3)), (0, 1)),
    (outer_in_the_loop, (np.array([0.5, -0.7, 0.2]), normal(2, 3)), (0, 1)),
    (called_as_is, (normal(3), normal(2, 3)), (0, 1)),
]


def smallest_by_weight(x):
    """``min`` of a list with a helper as its key: the list's adjoint is added item by item
    (Numba's ``list += list`` appends)."""
    return min([x[0], x[1]], key=clipped) * 2.0 + x[2]


CASES += [(smallest_by_weight, (np.array([-1.2, 0.3, 0.5]),), 0)]


def ranked_late(x, c):
    h = x.copy()
    k = 0
    while k < 3:
        k += 1
        # the second branch's rank, c * np.ones(3), is known only once np.ones(3)'s is: the
        # choice's rank stays proven, so it starts as an empty array, not None
        h += np.tanh(0.7 * np.ones(3) if c * k > 10.0 else c * np.ones(3))
    return np.sum(h ** 2)


def bound_again_with_another_rank(x, A):
    s = 0.0
    for i in range(2):
        z = np.sin(x * (i + 1.0))  # a row, first bound in the loop: taped before its binding
        s = s + np.sum(z * z)
    z = A * s  # a matrix from here on: a version of its own (z_1), so z keeps rank 1
    return np.sum(z ** 2)


def reduced_in_the_loop(x, c):
    g = c
    for k in range(2):
        # np.max over an axis has a rank (one less), so g and the choice keep theirs
        g = 0.5 * g + np.sin(np.max(x, axis=1) if k > 5 else g + 1.0)
    return np.sum(g ** 2)


CASES += [(ranked_late, (normal(3), 0.4), (0, 1)),
          (bound_again_with_another_rank, (normal(3), normal(3, 3)), (0, 1)),
          (reduced_in_the_loop, (normal(2, 3), normal(2)), (0, 1))]


# -- a list's adjoint added into another's (Numba's list += list appends; by_items adds) ------
def aliased_list(x):
    a = [x[0] * 2.0, x[1]]
    b = a  # a_bar += b_bar: item by item
    return b[0] * b[1] + np.sum(np.array(a))


def pair_product(pair):
    return pair[0] * pair[1]


def list_through_a_helper(x):
    a = [x[0] * 2.0, x[1]]
    return pair_product(a) + a[0]  # the helper's adjoint of its list, added into a_bar


def list_carried(x):
    a = [x[0], x[1]]
    s = 0.0
    for _ in range(3):
        b = [a[0] * a[1], a[1] + 1.0]
        s = s + a[0]
        a = b  # a list bound to another each trip: b_bar += a_bar
    return s + a[0] + a[1]


def aliased_arrays(x, y):
    a = [x * 2.0, y]
    b = a
    return np.sum(b[0] * b[1]) + np.sum(a[0] * y)


def aliased_tuple(x, y):
    a = (x * 2.0, y)
    b = a
    return np.sum(b[0] * b[1]) + np.sum(a[0] * y)


CASES += [(aliased_list, (normal(3),), 0),
          (list_through_a_helper, (normal(3),), 0),
          (list_carried, (0.5 * normal(2),), 0),
          (aliased_arrays, (normal(3), normal(3)), (0, 1)),
          (aliased_tuple, (normal(3), normal(3)), (0, 1))]


def nested_lists(x):
    s = 0.0
    for i in range(2):
        rows = [[x[j] * (s + k) for j in range(3)] for k in range(2)]  # a list of lists: its adjoint too
        s = s + np.sum(np.sin(np.array(rows))) + rows[1][2] * x[0]  # read whole and item by item
    return s


def column_of_complex(x, A):
    s = 0.0
    for i in range(2):
        col = A[:, 1:2].ravel()  # its adjoint: a complex one's real part, reshaped back
        s = s + np.sum(np.abs(col * np.exp(1j * x * (s + 1.0)) + 0.5j))
    return s


def shape_in_a_branch(x, A):
    s = np.sum(x)
    if x[0] > 0.0:
        q = cube(x)  # a helper's result, not proven real: q starts as None, taped before q = ...
        s = s + np.sum(np.outer(q, x) * A[0, 0])  # whose adjoint reads q's shape
    q = np.sin(x)
    return s + np.sum(q * A[1])


def aliased_nested_lists(x):
    s = 0.0
    for i in range(2):
        a = [[x[0] * (s + 1.0), x[1]], [x[2], x[0]]]
        c = a[0]  # an item's adjoint, a Rows, added to by a list
        b = a  # a list of Rows added into another, item by item
        s = s + c[0] * c[1] + b[0][0] + a[1][1] * np.sum(np.array(b[1]))
    return s


CASES += [
    (nested_lists, (X3,), 0),
    (aliased_nested_lists, (X3,), 0),
    (column_of_complex, (np.array([0.4, -0.9]), A23), (0, 1)),
    (shape_in_a_branch, (np.array([0.5, -0.7, 0.2]), A23), (0, 1)),
]


# -- the user's functions with keyword-only parameters (Numba types no keyword call of them) --
def stepped(v, *, rate, floor=0.1):
    return v * rate + floor


def offset(v, /, shift=0.5, *, scale):
    return (v + shift) * scale


def keyword_only_helpers(x):
    s = 0.0
    for i in range(x.shape[0]):
        if stepped(x[i], rate=2.0) > offset(x[i], scale=0.5) and offset(x[i], 0.2, scale=1.0) < 3.0:
            s = s + x[i] ** 2  # the helpers decide the branch only: called, not differentiated
        s = s + x[i] * stepped(1.0, floor=0.3, rate=0.5)
    return s


shifted = lambda v, *, by=0.5: v + by  # noqa: E731  (a lambda of the user's, keyword-only)


def keyword_only_lambda(x):
    s = 0.0
    for i in range(x.shape[0]):
        if shifted(x[i], by=0.2) > 0.0:
            s = s + x[i] * shifted(x[i])
    return s


def lambda_reading_locals(x):
    r = np.sum(x) * x[0]
    near = lambda a: np.minimum(r, np.where(r > -0.3, a, x[1]))  # lifted: r and x by keyword
    s = 0.0
    for i in range(2):
        if near(x[i]) > 0.1:
            s = s + r * x[i]
    return s + np.sum(x ** 2)


CASES += [(keyword_only_helpers, (np.array([0.3, -0.2, 0.9]),), 0),
          (keyword_only_lambda, (np.array([0.3, -0.5, 0.9]),), 0),
          (lambda_reading_locals, (np.array([0.6, 0.2, -0.4]),), 0)]


# -- ranks of advanced indexing, lists of 0-d arrays -----------------------------------------
def fancy_indexed_choice(x, A):
    y = x[[2, 0, 2]][::-1]  # a list of ints indexes one axis: y has x's rank
    s = 0.0
    for i in range(A.shape[0]):
        if A[i, 0] > -2.0:
            z = y if A[i, 1] > 0.0 else 2.0 * y  # a choice first bound in the loop: taped
            s = s + np.sum(np.tanh(A[i] * z))
    return s


def zero_d_items(x):
    s = 0.0
    for i in range(2):
        picks = [np.where(v > 0.0, v * (s + 1.0), 0.5 * v) for v in x]  # 0-d arrays, a list of them
        s = s + sum(picks) + picks[0] * x[1]
    return s


CASES += [(fancy_indexed_choice, (X3, A23), (0, 1)), (zero_d_items, (X3,), 0)]


def as_tuple(value, wrt):
    return value if isinstance(wrt, tuple) else (value,)


@pytest.mark.parametrize("fun,args,wrt", CASES, ids=[f.__name__ for f, _, _ in CASES])
def test_compiles_with_numba_and_agrees(fun, args, wrt):
    # Numba's np.dot and @ (in these programs and in the twins of their adjoints) need SciPy
    pytest.importorskip("scipy", reason="Numba's linear algebra needs SciPy")
    g = adjoint.grad(fun, wrt, backend="numba")
    with warnings.catch_warnings():
        warnings.simplefilter("error", adjoint.BackendWarning)  # a fallback fails the test
        got = as_tuple(g(*args), wrt)
    (entry,) = g._entries.values()
    assert entry["main"].compiled
    assert isinstance(entry["main"].call, numba.core.dispatcher.Dispatcher)
    want = as_tuple(adjoint.grad(fun, wrt, backend="numpy")(*args), wrt)
    numeric = numerical_grad(fun, args, list(wrt) if isinstance(wrt, tuple) else [wrt])
    for a, b, n in zip(got, want, numeric):
        np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-12)
        np.testing.assert_allclose(a, n, rtol=1e-5, atol=1e-7)
