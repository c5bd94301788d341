"""backend="auto": the first calls run on NumPy while Numba compiles in the background."""
import threading
import warnings

import numpy as np
import pytest

numba = pytest.importorskip("numba")

import adjoint  # noqa: E402
from adjoint.backends.numba import Tiered  # noqa: E402
from adjoint.testing import numerical_grad  # noqa: E402

rng = np.random.default_rng(41)


def recurrence(w, x):
    h = 0.0
    for t in range(x.shape[0]):
        h = np.tanh(w * h + x[t]) + 0.1 * h * h
    return h


def refused_later(A):
    s = 0.0
    for i in range(2):
        s = s + np.sum(np.max(A * (s + 1.0), axis=(0, 1)))  # Numba's np.max takes no tuple of axes
    return s


@pytest.fixture
def auto(monkeypatch):
    monkeypatch.setenv("ADJOINT_BACKEND", "auto")


def _entry(g):
    (entry,) = g._entries.values()
    return entry["main"]


def test_first_call_on_numpy_then_numba(auto):
    x = rng.normal(size=6)
    g = adjoint.grad(recurrence, wrt=(0, 1))
    first = g(0.7, x)
    main = _entry(g)
    assert isinstance(main, Tiered)
    assert main.wait(120)
    assert isinstance(main.call, numba.core.dispatcher.Dispatcher)
    later = g(0.7, x)
    want = adjoint.grad(recurrence, wrt=(0, 1), backend="numpy")(0.7, x)
    numeric = numerical_grad(recurrence, (0.7, x), [0, 1])
    for a, b, w, n in zip(first, later, want, numeric):
        np.testing.assert_allclose(a, w, rtol=1e-12)
        np.testing.assert_allclose(b, w, rtol=1e-10, atol=1e-12)
        np.testing.assert_allclose(b, n, rtol=1e-5, atol=1e-7)


def test_threads_calling_while_it_compiles_agree(auto):
    x = rng.normal(size=5)
    g = adjoint.grad(recurrence, wrt=1)
    want = adjoint.grad(recurrence, wrt=1, backend="numpy")(0.3, x)
    results, errors = [], []

    def work():
        try:
            for _ in range(20):
                results.append(g(0.3, x))
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)
    threads = [threading.Thread(target=work) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors and len(results) == 80
    for r in results:
        np.testing.assert_allclose(r, want, rtol=1e-10, atol=1e-12)
    _entry(g).wait(120)


def test_refusal_in_the_background_is_said_at_the_next_call(auto):
    A = rng.normal(size=(2, 3))
    g = adjoint.grad(refused_later)
    with warnings.catch_warnings():
        warnings.simplefilter("error", adjoint.BackendWarning)
        first = g(A)  # NumPy answers; nothing to say yet
    main = _entry(g)
    assert not main.wait(120)
    with pytest.warns(adjoint.BackendWarning, match="No implementation of function"):
        second = g(A)
    with warnings.catch_warnings():
        warnings.simplefilter("error", adjoint.BackendWarning)
        third = g(A)  # said once
    np.testing.assert_allclose(first, numerical_grad(refused_later, (A,), [0])[0], rtol=1e-6)
    assert np.array_equal(first, second) and np.array_equal(second, third)
