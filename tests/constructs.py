"""Functions exercising each construct adjoint differentiates.

They live at module level in a file of their own so their source is readable
and their line numbers are stable for the error tests.
"""
import math

import numpy as np

# -- straight-line code -----------------------------------------------------------


def arith(x, y):
    a = x + y * 2.0 - x / y
    b = -a ** 2 + (x - 3.0) * y
    return np.sum(a * b) / 7.0


def powers(x, y):
    return np.sum(x ** y + 2.0 ** x + x ** 3)


def augmented(x, y):
    z = x * 1.0
    z += y
    z *= x
    z -= 2.0 * y
    z /= y + 3.0
    z **= 2
    return np.sum(z)


def overwrite(x):
    y = x * 2.0
    y = np.sin(y) + y
    y = y * x
    return np.sum(y)


def tuples(x, y):
    a, b = x * 2.0, y + 1.0
    b, a = a, b
    pair = (a, b)
    c, d = pair
    return np.sum(c * d)


def conditional_expr(x):
    y = x * 3.0 if np.sum(x) > 0 else x * -2.0
    return np.sum(y ** 2)


def matmul_chain(A, B, v):
    return np.sum(A @ B @ v) + v @ v


def constants_only(x):
    c = 3.0
    k = c * 2
    return np.sum(x * k)


def essentials(x, y):
    a = np.exp(x) + np.log(y) + np.sin(x) * np.cos(y) + np.tanh(x) + np.sqrt(y)
    b = np.abs(x) + np.maximum(x, y) + np.minimum(x, 0.3) + np.where(x > 0.1, x, y)
    return np.sum(a * b)


def reductions(x):
    return np.sum(np.sum(x, axis=0) ** 2) + np.mean(x, axis=1, keepdims=True).sum() \
        + np.sum(np.mean(x ** 2, axis=(0, 1)))


def linalg_shapes(A, v):
    w = np.dot(A, v) + np.matmul(v, A)
    M = np.transpose(A) * A.T
    r = np.reshape(M, (-1,)) + M.reshape(9)
    return np.sum(w ** 2) + np.dot(r, r) + np.dot(v, v)


def broadcasting(M, row, col, s):
    return np.sum(M + row) + np.sum(M * col) + np.sum(M - s) + np.sum(row / (M + 3.0)) \
        + np.sum((M + 2.0) ** col) + np.sum(M @ row)


def methods(x):
    return x.sum() + x.mean() * x.max() + (x ** 2).sum(axis=0).dot(x[0]) + x.T.reshape(6).sum()


def math_scalar(a, b):
    return math.sin(a) * math.exp(b) + math.sqrt(a * a + b * b) + abs(a - b) + a ** b


# -- user functions ---------------------------------------------------------------


def affine(x, w, b=0.5):
    return x * w + b


def two_outputs(x):
    return x * 2.0, np.sin(x)


def uses_helpers(x, w):
    h = affine(x, w)
    k = affine(h, w, b=1.5)
    p, q = two_outputs(k)
    return np.sum(p * q) + np.sum(affine(x, w=2.0))


def recursive_power(x, n):
    if n == 0:
        return 1.0
    return x * recursive_power(x, n - 1)


def calls_recursive(x):
    return recursive_power(x, 3)


# -- control flow ---------------------------------------------------------------


def branches(x, t):
    if t > 1.0:
        y = x * 2.0
    elif t > 0.0:
        y = np.sin(x)
    else:
        y = x ** 3
    return np.sum(y)


def for_range(x, n):
    s = 0.0
    for i in range(n):
        s = s + x * i
        s = np.tanh(s)
    return np.sum(s)


def for_rows(X, w):
    total = 0.0
    for row in X:
        total = total + np.dot(row, w) ** 2
    return total


def for_enumerate_zip(xs, ws):
    total = 0.0
    for i, x in enumerate(xs):
        total = total + x * i
    for x, w in zip(xs, ws):
        total = total + x * w
    return total


def while_doubling(x):
    y = 2.0 * x
    while np.linalg.norm(y) < 1000:
        y = 2.0 * y
    return y


def with_break(x):
    s = 0.0
    for i in range(10):
        s = s + x * x
        if s > 3.0:
            break
        s = s * 1.5
    return s


def with_continue(xs):
    s = 0.0
    for i in range(len(xs)):
        if xs[i] < 0:
            continue
        s = s + xs[i] ** 2
    return s


def return_in_branch(x):
    if x > 1.0:
        return x ** 2
    y = x * 3.0
    return np.sin(y)


def return_in_loop(x):
    y = x
    for i in range(20):
        y = y * 1.3
        if y > 5.0:
            return y * 2.0
    return y


def nested_loops(A, x):
    total = 0.0
    for i in range(3):
        acc = 0.0
        for j in range(3):
            acc = acc + A[i, j] * x[j]
        total = total + acc ** 2
    return total


def while_counter(x):
    k = 0
    s = x
    while k < 5:
        s = s * np.cos(s)
        k = k + 1
    return s


# -- subscripts ------------------------------------------------------------------


def reads(x):
    idx = np.array([0, 2, 2])
    mask = x > 0.0
    return x[0] * x[-1] + np.sum(x[1:3] ** 2) + np.sum(x[idx]) + np.sum(x[mask] ** 3)


def reads_2d(M):
    j = 1
    return np.sum(M[:, j] * M[:, 0]) + M[1, 2] * M[-1, -1] + np.sum(M[::2, 1:] ** 2)


def writes(x):
    n = x.shape[0]
    S = np.zeros(n)
    for i in range(n):
        S[i] = x[i] ** 2
    S[0] = S[0] * 3.0
    return np.sum(S * x)


def writes_2d(x):
    K = np.zeros((3, 3))
    for i in range(3):
        for j in range(3):
            K[i, j] += x[i] * x[j]
            K[i, j] += np.sin(x[i])
    return np.sum(K ** 2)


def writes_copy(x):
    y = x.copy()
    y[1] = y[0] * y[2]
    y[0] = 0.0
    return np.sum(y * y)


def writes_param(x):
    x[0] = x[1] * 4.0
    return np.sum(x ** 2)


def writes_slice(x):
    S = np.zeros(4)
    S[1:3] = x[:2] * 2.0
    S[3] = x[2]
    return np.sum(np.sin(S))


def appends(x):
    out = []
    for i in range(3):
        out.append(x[i] * (i + 1.0))
    v = np.array(out)
    return np.sum(v ** 2)


def scalar_loop(a, b, x0):
    x = x0
    for i in range(50):
        x = a * x + b * np.sin(x)
    return x


def logsumexp_loop(x):
    m = np.max(x)
    s = 0.0
    for i in range(x.shape[0]):
        s += np.exp(x[i] - m)
    return m + np.log(s)
