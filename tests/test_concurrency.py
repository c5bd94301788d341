"""First calls from many threads, and caches that neither go stale nor grow without bound."""
import gc
import threading
import weakref

import numpy as np
import pytest

import adjoint
from adjoint import api
from adjoint.testing import numerical_grad

THREADS = 8
ROUNDS = 20


def looped(x, a):
    s = 0.0
    for i in range(x.shape[0]):
        s = s + np.sin(a * x[i]) * x[i]
    return s


X = np.array([0.3, -1.2, 0.8, 2.0])
A = 0.7
WANT = numerical_grad(looped, (X, A), [0, 1])


def _arguments(k):
    """Half the threads pass ``a`` as a float, half as a 0-d array: two call keys, one build."""
    return (X.copy(), A) if k % 4 < 2 else (X.copy(), np.array(A))


def _first_calls(backend):
    """One round: THREADS threads start together, on a shared derivative and on their own."""
    shared = adjoint.grad(looped, (0, 1), backend=backend)
    start = threading.Barrier(THREADS)
    results, errors = [None] * THREADS, []

    def work(k):
        g = shared if k % 2 else adjoint.grad(looped, (0, 1), backend=backend)
        start.wait()
        try:
            results[k] = g(*_arguments(k))
        except Exception as exc:  # reported below, with the thread's number
            errors.append((k, exc))

    threads = [threading.Thread(target=work, args=(k,)) for k in range(THREADS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors
    return shared, results


@pytest.mark.parametrize("backend", ["numpy", "numba"])
def test_concurrent_first_calls(backend, tmp_path, monkeypatch):
    """Every round starts with empty caches; each thread's gradient matches finite differences."""
    if backend == "numba":
        pytest.importorskip("numba")
    monkeypatch.setenv("ADJOINT_CACHE", str(tmp_path))  # the module file is written in round 1
    builds = []
    real_build = api._build
    monkeypatch.setattr(api, "_build", lambda *a: builds.append(a[1:]) or real_build(*a))
    for _ in range(ROUNDS):
        api._CACHE.clear()
        builds.clear()
        shared, results = _first_calls(backend)
        for got in results:
            np.testing.assert_allclose(got[0], WANT[0], rtol=1e-6, atol=1e-8)
            np.testing.assert_allclose(got[1], WANT[1], rtol=1e-6, atol=1e-8)
        assert len(builds) == 1  # one thread built, the others waited and reused it
    if backend == "numba":
        for entry in shared._entries.values():
            assert entry["main"].call is entry["main"].jitted  # compiled, no fallback


def test_module_file_written_by_many_threads(tmp_path):
    """Writers racing on one file: each writes its own temporary, readers see the whole text."""
    from adjoint.backends.numba import _write_once
    text = "VALUE = 1\n" * 2000
    for k in range(ROUNDS):
        path = str(tmp_path / f"m{k}.py")
        start = threading.Barrier(THREADS)
        threads = [threading.Thread(target=lambda: (start.wait(), _write_once(path, text)))
                   for _ in range(THREADS)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        with open(path) as f:
            assert f.read() == text
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(f"m{k}.py" for k in range(ROUNDS))


class Scale:
    """A value a closure reads; weakly referenceable, so a test can see whether it is kept."""

    def __init__(self, value):
        self.value = value


def make_loss(scale):
    def loss(x):
        return np.sum(np.sin(x) * scale.value)
    return loss


def test_closures_made_in_a_loop_do_not_grow_the_cache():
    x = np.array([0.1, 0.5, 0.9])
    api._CACHE.clear()
    alive = []
    for k in range(3 * api._VARIANTS):
        scale = Scale(float(k + 1))
        alive.append(weakref.ref(scale))
        got = adjoint.grad(make_loss(scale))(x)
        np.testing.assert_allclose(got, np.cos(x) * (k + 1), rtol=1e-12)
        del scale
    gc.collect()
    assert sum(r() is not None for r in alive) <= api._VARIANTS  # the old closures are freed
    assert len(api._CACHE) == 1 and len(next(iter(api._CACHE.values()))) == api._VARIANTS


def test_cache_is_bounded(monkeypatch):
    monkeypatch.setattr(api, "_CACHE_SIZE", 3)
    api._CACHE.clear()
    for k in range(6):
        adjoint.grad(looped)(X, float(k))
        adjoint.grad(looped, 1)(X, float(k))
        adjoint.grad(make_loss(Scale(2.0)))(X)
    assert len(api._CACHE) <= 3


def test_reused_ids_never_return_a_stale_derivative():
    """A closure freed and a new one made in its place (the same id) gets its own derivative."""
    x = np.array([0.2, -0.4])
    seen, reused = set(), 0
    for k in range(6 * api._VARIANTS):
        loss = make_loss(Scale(float(k) - 3.5))
        reused += id(loss) in seen
        seen.add(id(loss))
        np.testing.assert_allclose(adjoint.grad(loss)(x), np.cos(x) * (k - 3.5), rtol=1e-12)
        del loss
    assert reused  # CPython gives a freed function's memory to the next one: the case is exercised


def test_a_shared_derivative_pairs_each_call_with_its_own_code():
    """Threads alternating argument kinds on one derivative never run another kind's code."""
    g = adjoint.grad(looped, 1)
    want = {kind: g(X, a) for kind, a in (("float", A), ("array", np.array(A)))}
    errors = []

    def work(a, kind):
        for _ in range(200):
            got = g(X, a)
            if type(got) is not type(want[kind]) or not np.allclose(got, want[kind]):
                errors.append(kind)

    threads = [threading.Thread(target=work, args=(A, "float")),
               threading.Thread(target=work, args=(np.array(A), "array"))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
