"""grad(f, checkpoint_memory=...): the first long loop of f is checkpointed without a mark."""
import warnings

import numpy as np
import pytest

import adjoint
from adjoint.checkpoint import CheckpointWarning
from adjoint.errors import BackendWarning
from adjoint.testing import numerical_grad

from .test_checkpoint import peak

rng = np.random.default_rng(140)
X, W = rng.normal(size=4), 0.5 * rng.normal(size=(4, 4))
BACKENDS = ["numpy", "auto", "numba"]


def rnn(x, W, n):
    h = x
    acc = 0.0
    for t in range(n):
        h = np.tanh(W @ h + 0.1 * t)
        acc = acc + np.sum(h * h)
    return acc + np.sum(h)


def decay(x, M):
    h = x
    steps = 0.0
    while np.sum(h * h) > 1e-3:
        h = M @ h
        steps = steps + 1.0
    return np.sum(np.sin(h)) + steps


def smooth(h, W):
    """A helper with a loop of its own: only the differentiated function's loops count."""
    for j in range(len(h)):
        h = h * 0.9 + 0.05 * np.sin(W[j] @ h)
    return h


def with_helper(x, W, n):
    for s in range(2):  # a constant trip count: not the long loop
        x = x * 1.1
    h = x
    for t in range(n):
        h = smooth(np.tanh(W @ h), W)
    return np.sum(h ** 2)


def nested_def(x, W, n):
    h = x
    c = 1.5

    def step(k):
        return np.tanh(W @ h) * c + 0.01 * k  # reads h, W and c from here
    for t in range(n):
        h = step(t)
    return np.sum(h)


def nested_def_marked(x, W, n):
    h = x

    def step(k):
        return np.tanh(W @ h) + 0.01 * k
    for t in adjoint.checkpointed(range(n), snapshots=2):
        h = step(t)
    return np.sum(h)


def comprehensions(x):
    y = x * 1.0
    while max([abs(v) for v in y]) > 0.5:  # v is the comprehension's own: no loop state
        y = np.sin(np.array([v * 0.5 for v in y]))
    return np.sum(y ** 2)


def no_loop(x, W):
    return np.sum(np.tanh(W @ x))


def nested_only(x, W, n):
    h = x
    for s in range(2):
        for t in range(n):  # not top level: left alone
            h = np.tanh(W @ h)
    return np.sum(h)


def breaks(x, W, n):
    h = x
    for t in range(n):
        if np.sum(h) > 100.0:
            break
        h = np.tanh(W @ h)
    return np.sum(h)


def target_after(x, W, n):
    h = x
    t = 0
    for t in range(n):
        h = np.tanh(W @ h)
    return np.sum(h) * t


def marked(x, W, n):
    h = x
    for t in range(n):
        h = np.tanh(W @ h)
    for t in adjoint.checkpointed(range(n), snapshots=2):
        h = np.sin(W @ h)
    return np.sum(h)


def close(a, b, tol=1e-10):
    for p, q in zip(a, b):
        assert np.max(np.abs(np.asarray(p) - np.asarray(q)), initial=0.0) <= tol


def both(fn, args, wrt, backend, memory):
    """(checkpointed, plain) gradients. The Numba backend runs a checkpointed loop on NumPy
    (the revolve driver is Python) and says so; the plain gradient is NumPy's, since
    tests/test_numba*.py check that Numba's equals it."""
    plain = adjoint.grad(fn, wrt=wrt, backend="numpy")(*args)
    with warnings.catch_warnings(record=True) as record:
        warnings.simplefilter("always")
        got = adjoint.grad(fn, wrt=wrt, backend=backend, checkpoint_memory=memory)(*args)
    said = [str(w.message) for w in record]
    if backend == "numba":  # when the derivative is built (once per function and budget)
        pytest.importorskip("numba")
        assert all("checkpointed loop runs on the NumPy backend" in m for m in said)
    else:
        assert not said
    return got, plain


def test_numba_backend_says_it_runs_on_numpy():
    pytest.importorskip("numba")
    with pytest.warns(BackendWarning, match="checkpointed loop runs on the NumPy backend"):
        got = adjoint.grad(rnn, wrt=(0, 1), backend="numba", checkpoint_memory=77)(X, W, 5)
    close(got, adjoint.grad(rnn, wrt=(0, 1), backend="numpy")(X, W, 5))


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("memory", [40, 100, "1KB", "256MB"])
def test_for_loop_equals_plain(backend, memory):
    for n in (0, 1, 9):
        close(*both(rnn, (X, W, n), (0, 1), backend, memory))


@pytest.mark.parametrize("backend", BACKENDS)
def test_while_loop_and_helper_equal_plain(backend):
    close(*both(decay, (X, 0.25 * W), (0, 1), backend, 64))
    close(*both(with_helper, (X, W, 7), (0, 1), backend, "100B"))
    close(*both(comprehensions, (3 * X,), 0, backend, 32))
    got = adjoint.grad(with_helper, wrt=(0, 1), checkpoint_memory=100)(X, W, 7)
    for g, n in zip(got, numerical_grad(with_helper, (X, W, 7), (0, 1), 1e-6)):
        np.testing.assert_allclose(g, n, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("fn, memory", [(nested_def, 40), (nested_def_marked, None)])
def test_a_nested_function_called_in_the_loop(fn, memory):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        got = adjoint.grad(fn, wrt=(0, 1), checkpoint_memory=memory)(X, W, 6)
    assert "revolve(" in adjoint.grad(fn, wrt=(0, 1), checkpoint_memory=memory).source
    for g, n in zip(got, numerical_grad(fn, (X, W, 6), (0, 1), 1e-6)):
        np.testing.assert_allclose(g, n, rtol=1e-5, atol=1e-6)


def test_source_shows_the_checkpointed_loop():
    g = adjoint.grad(with_helper, wrt=(0, 1), checkpoint_memory="1KB")
    g(X, W, 3)
    text = g.source
    assert "# checkpointed loop: run its trips without a tape" in text
    assert "revolve(with_helper_loop1_step_fwd" in text
    assert ", None, 1024)" in text  # the budget, in bytes
    assert text.count("checkpoint_forward(") == 1  # the helper's own loop keeps its tape
    plain = adjoint.grad(with_helper, wrt=(0, 1))
    plain(X, W, 3)
    assert "revolve" not in plain.source  # the budget is part of the cache key
    other = adjoint.grad(with_helper, wrt=(0, 1), checkpoint_memory=2048)
    other(X, W, 3)
    assert ", None, 2048)" in other.source


def test_value_and_grad_and_vjp():
    want = adjoint.grad(rnn, wrt=(0, 1))(X, W, 8)
    value, got = adjoint.value_and_grad(rnn, wrt=(0, 1), checkpoint_memory=64)(X, W, 8)
    assert value == pytest.approx(rnn(X, W, 8), abs=1e-12)
    close(got, want)
    vjp = adjoint.vjp(rnn, wrt=(0, 1), checkpoint_memory=64)
    out, pullback = vjp(X, W, 8)
    close(pullback(1.0), want)
    assert "revolve(" in vjp.source
    decorated = adjoint.grad(checkpoint_memory="1KB")(rnn)
    close([decorated(X, W, 8)], [want[0]])
    assert "revolve(" in decorated.source
    assert "revolve(" in adjoint.source(rnn, mode="vjp", checkpoint_memory=64)


@pytest.mark.parametrize("fn", [no_loop, nested_only, marked])
def test_nothing_to_choose_changes_nothing(fn):
    args = (X, W) if fn is no_loop else (X, W, 4)
    plain, budget = adjoint.grad(fn), adjoint.grad(fn, checkpoint_memory=64)
    close([budget(*args)], [plain(*args)])
    assert budget.source.split("\n", 1)[1] == plain.source.split("\n", 1)[1]


def test_budget_of_one_copy_and_below():
    close(*both(rnn, (X, W, 6), (0, 1), "numpy", 40))  # one copy of (acc, h), the minimum
    with pytest.raises(ValueError, match="holds no copy of its state, which takes 40 bytes"):
        adjoint.grad(rnn, checkpoint_memory=39)(X, W, 6)
    with pytest.raises(adjoint.AdjointError, match="a size like '256MB'"):
        adjoint.grad(rnn, checkpoint_memory="lots")
    with pytest.raises(adjoint.AdjointError, match="a size like '256MB'"):
        adjoint.grad(rnn, checkpoint_memory=-1)


@pytest.mark.parametrize("fn, words", [
    (breaks, "break in a checkpointed loop"),
    (target_after, "loop's variable 't' after the loop"),
])
def test_refused_loop_keeps_the_tape_with_a_warning(fn, words):
    with pytest.warns(CheckpointWarning, match=words) as record:
        got = adjoint.grad(fn, wrt=(0, 1), checkpoint_memory=64)(X, W, 5)
    assert len(record) == 1 and record[0].filename == __file__  # the user's call, once
    assert "keeps the plain tape" in str(record[0].message)
    assert "test_checkpoint_memory.py" in str(record[0].message)
    close(got, adjoint.grad(fn, wrt=(0, 1))(X, W, 5))


def test_higher_order_is_refused_naming_the_option():
    g = adjoint.grad(adjoint.grad(lambda x: rnn(x * np.ones(4), W, 3)))
    assert np.isfinite(g(0.3))  # without the budget: fine
    gg = adjoint.grad(adjoint.grad(scalar_rnn, checkpoint_memory=64))
    with pytest.raises(adjoint.NotDifferentiableError, match="checkpoint_memory=64"):
        gg(0.3, 3)


def scalar_rnn(a, n):
    h = a
    for t in range(n):
        h = np.sin(h) * 0.9
    return h


def recurrence(h, a, n):
    for t in range(n):
        h = np.sin(h) * a + 0.1 * h
    return np.sum(h * h)


def test_peak_memory_drops():
    h, n = rng.normal(size=200), 3000
    ck = adjoint.grad(recurrence, wrt=(0, 1), backend="numpy", checkpoint_memory=20 * 1600)
    plain = adjoint.grad(recurrence, wrt=(0, 1), backend="numpy")
    close(ck(h, 0.9, n), plain(h, 0.9, n))
    assert peak(ck, h, 0.9, n) * 10 <= peak(plain, h, 0.9, n)
