"""What goes on the tape: elements of unchanging parameters are read again, not taped; a
parameter the function writes or binds again, or an index that is not a loop counter, keeps
its tape. Each case against central differences on both backends."""
import re
import warnings

import numpy as np
import pytest

import adjoint
from adjoint.testing import numerical_grad

rng = np.random.default_rng(11)


def read_only(X, w):
    s = 0.0
    for i in range(X.shape[0]):
        for j in range(X.shape[1]):
            s = s + np.sin(X[i, j] * w[j] * s + 0.1)
    return s


def written(X, w):
    s = 0.0
    for i in range(3):
        for j in range(2):
            X[i, j] = X[i, j] * 2.0  # a parameter written: its elements are taped
            t = X[i, j]
            s = s + np.sin(t * w[j] * s + 0.1)
    return s + np.sum(X * w[0])


def rebound(X, w):
    s = 0.0
    for i in range(3):
        t = X[i, 0]
        X = X * 1.5
        s = s + np.sin(t * w[0] * s + 0.2)
    return s


def other_index(X, w):
    s = 0.0
    for i in range(3):
        k = (i + 1) % 3
        t = X[k, 1]
        s = s + np.sin(t * w[1] * s + 0.3)
    return s


CASES = [(read_only, True), (written, False), (rebound, False), (other_index, False)]


def _backends():
    try:
        import numba  # noqa: F401
    except ImportError:
        return ["numpy"]
    return ["numpy", "numba"]


@pytest.mark.parametrize("backend", _backends())
@pytest.mark.parametrize("fun,read_again", CASES, ids=[f.__name__ for f, _ in CASES])
def test_elements_of_unchanging_parameters_are_read_again(fun, read_again, backend):
    X, w = rng.normal(size=(3, 2)), rng.normal(size=2)
    g = adjoint.grad(fun, (0, 1), backend=backend)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", adjoint.BackendWarning)
        got = g(X.copy(), w)
    want = numerical_grad(lambda X, w: fun(X.copy(), w), (X, w), [0, 1])  # fun may write X
    for a, b in zip(got, want):
        np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-9)
    backward = g.source.split("_bar = ", 1)[1]
    element = "X[i, j]" if fun is read_only else None
    if read_again:
        assert element in backward and not re.search(r"\b(X|t5|t)_tape\b", g.source)
    else:
        assert re.search(r"\bt_tape\b", g.source)
