"""Checkpointed loops (issue 14): revolve gives the plain loop's gradient, in less memory."""
import tracemalloc
import warnings

import numpy as np
import pytest

import adjoint
from adjoint.errors import BackendWarning
from adjoint.runtime import matmul_grad_a, matmul_grad_b
from adjoint.runtime.checkpoint import add_into, add_matmul_grad_a, add_matmul_grad_b, revolve_split
from adjoint.testing import numerical_grad

from . import checkpoint_cases as c

rng = np.random.default_rng(14)
X, W = rng.normal(size=4), 0.5 * rng.normal(size=(4, 4))


def close(a, b, tol=1e-10):
    """Two gradient tuples agree entry by entry."""
    assert len(a) == len(b)
    for p, q in zip(a, b):
        assert np.max(np.abs(np.asarray(p) - np.asarray(q)), initial=0.0) <= tol


@pytest.mark.parametrize("n", [0, 1, 2, 5, 13])
@pytest.mark.parametrize("k", [1, 2, 3, 50])
def test_grad_equals_plain(n, k):
    got = adjoint.grad(c.rnn, wrt=(0, 1))(X, W, n, k)
    close(got, adjoint.grad(c.rnn_plain, wrt=(0, 1))(X, W, n, k))


@pytest.mark.parametrize("fn, plain, args, wrt", [
    (c.strided, c.strided_plain, (X, 1.3), (0, 1)),
    (c.inner_loop, c.inner_loop_plain, (X, W), (0, 1)),
    (c.twice, c.twice_plain, (X, 0.7), (0, 1)),
    (c.written, c.written_plain, (X, 6), 0),
    (c.branchy, c.branchy_plain, (X, 7), 0),
    (c.right_matmul, c.right_matmul_plain, (X, W, 0.1 * X, 6), (0, 1, 2)),
    (c.branch_read, c.branch_read_plain, (X, W, 5), (0, 1)),
    (c.make_closure(0.7), None, (X, W, 5), (0, 1)),  # closure cell, helper call, default k
    (c.calls_helper, None, (X, W), (0, 1)),
    (c.inactive, None, (X, 5), 0),  # no derivative flows through the loop
    (c.param_written, None, (X, 9), 0),  # the state is a parameter written in place
])
def test_constructs_equal_plain_and_finite_differences(fn, plain, args, wrt):
    before = [np.copy(a) for a in args]
    got = adjoint.grad(fn, wrt=wrt)(*args)
    for a, b in zip(args, before):
        np.testing.assert_array_equal(a, b)  # the caller's arrays never change
    if plain is not None:
        want = adjoint.grad(plain, wrt=wrt)(*args)
        close(got if isinstance(wrt, tuple) else [got], want if isinstance(wrt, tuple) else [want])
    positions = wrt if isinstance(wrt, tuple) else (wrt,)
    numeric = numerical_grad(fn, args, positions, 1e-6)
    for g, n in zip(got if isinstance(wrt, tuple) else [got], numeric):
        np.testing.assert_allclose(g, n, rtol=1e-5, atol=1e-6)


def test_value_and_grad_and_vjp():
    value, g = adjoint.value_and_grad(c.rnn, wrt=(0, 1))(X, W, 9, 3)
    assert value == pytest.approx(c.rnn_plain(X, W, 9, 3), abs=1e-12)
    close(g, adjoint.grad(c.rnn_plain, wrt=(0, 1))(X, W, 9, 3))
    out, pullback = adjoint.vjp(c.rnn, wrt=(0, 1))(X, W, 9, 3)
    for _ in range(2):  # a pullback may run again: revolve reads the saved state only
        close(pullback(1.0), adjoint.grad(c.rnn_plain, wrt=(0, 1))(X, W, 9, 3))


def test_jvp_runs_the_loop_as_written():
    out, dot = adjoint.jvp(c.rnn, wrt=0)((X, W, 6, 2), (np.ones(4),))
    want = numerical_grad(c.rnn_plain, (X, W, 6, 2), (0,), 1e-6)[0] @ np.ones(4)
    assert dot == pytest.approx(want, rel=1e-6)


def test_numba_backend_falls_back_to_numpy_with_a_warning():
    pytest.importorskip("numba")
    with pytest.warns(BackendWarning, match="checkpointed"):
        got = adjoint.grad(c.rnn, wrt=(0, 1), backend="numba")(X, W, 7, 2)
    close(got, adjoint.grad(c.rnn_plain, wrt=(0, 1))(X, W, 7, 2))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        got = adjoint.grad(c.rnn, wrt=(0, 1), backend="auto")(X, W, 7, 2)
    close(got, adjoint.grad(c.rnn_plain, wrt=(0, 1))(X, W, 7, 2))


def test_source_says_what_is_stored_and_recomputed():
    text = adjoint.grad(c.rnn, wrt=(0, 1)).source
    assert "revolve(rnn_loop1_step_fwd, rnn_loop1_step_bwd" in text
    assert "# checkpointed loop: run its trips without a tape, keeping" in text
    assert "# revolve (binomial checkpointing)" in text


def test_schedule_split_is_binomial():
    assert revolve_split(2, 1) == 1
    assert revolve_split(10, 100) == 1  # a snapshot per trip
    assert revolve_split(20000, 49) == 1275  # C(51, 2): C(52, 3) >= 20000, 3 recomputations


@pytest.mark.parametrize("fn, line, words", [
    (c.breaks, "break", "break in a checkpointed loop"),
    (c.returns, "return np.sum(y)", "return inside a checkpointed loop"),
    (c.target_after, "for t in", "loop's variable 't' after the loop"),
    (c.unbound, "for t in", "'z' is carried by the checkpointed loop but not bound"),
    (c.not_range, "for t in", "over anything but range"),
    (c.while_breaks, "break", "break in a checkpointed loop"),
])
def test_refusals_name_the_line(fn, line, words):
    args = (X, [1.0, 2.0]) if fn is c.not_range else (X,)
    with pytest.raises(adjoint.UnsupportedSyntaxError, match=words) as info:
        adjoint.grad(fn)(*args)
    assert "checkpoint_cases.py" in str(info.value) and line in str(info.value)


def peak(fn, *args):
    tracemalloc.start()
    try:
        fn(*args)
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def test_peak_memory_is_lower():
    h, M = rng.normal(size=50), rng.normal(size=(50, 50)) / 10
    ck, plain = adjoint.grad(c.recurrence, wrt=(0, 1)), adjoint.grad(c.recurrence_plain, wrt=(0, 1))
    close(ck(h, M, 2000, 10), plain(h, M, 2000, 10))  # built before measuring
    assert peak(ck, h, M, 2000, 10) * 5 < peak(plain, h, M, 2000, 10)


def test_a_trip_makes_no_array_of_a_read_size():
    """The step's backward sweep adds W's adjoint (an outer product) into revolve's sum in
    place: the peak holds that sum and the snapshots, never a second matrix."""
    h, M = rng.normal(size=200), rng.normal(size=(200, 200)) / 200 ** 0.5
    ck, plain = adjoint.grad(c.recurrence, wrt=(0, 1)), adjoint.grad(c.recurrence_plain, wrt=(0, 1))
    close(ck(h, M, 300, 10), plain(h, M, 300, 10))  # built before measuring
    assert "add_matmul_grad_a(W_bar_sum" in ck.source
    assert peak(ck, h, M, 300, 10) < 1.5 * M.nbytes


@pytest.mark.parametrize("a, b, g, rows", [
    ((30, 40), (40,), (30,), 30),  # an outer product, added a block of rows at a time
    ((30, 40), (40,), (30,), 1),
    ((40,), (40, 30), (30,), 7),
    ((6, 5), (5, 4), (6, 4), 2),  # a matrix product, added whole
    ((5,), (5,), (), 2),
])
@pytest.mark.parametrize("dtype", [np.float64, np.complex128, np.float32])
def test_in_place_sums_are_the_plain_sums(a, b, g, rows, dtype, monkeypatch):
    import adjoint.runtime.checkpoint as runtime
    monkeypatch.setattr(runtime, "_BLOCK", rows * 40)
    r = np.random.default_rng(3)
    A, B, G = (r.normal(size=s).astype(dtype) for s in (a, b, g))
    for add, grad in ((add_matmul_grad_a, matmul_grad_a), (add_matmul_grad_b, matmul_grad_b)):
        want = np.ones(np.shape(grad(G, A, B)), dtype) + grad(G, A, B)
        total = np.ones(want.shape, dtype)
        got = add(total, G, A, B)
        assert got.dtype == want.dtype and np.array_equal(got, want)
        assert got is total or np.ndim(want) == 0
    total = np.ones((2, 2), np.float32)
    assert add_into(total, np.ones((2, 2))).dtype == np.float64  # no sum that loses precision
    first = np.ones(3)
    assert add_into(None, first) is not first


@pytest.mark.parametrize("k", [1, 2, 4, 100])
def test_while_loops(k):
    got = adjoint.grad(c.newton, wrt=(0, 1))(1.5, 2.0, k)
    want = adjoint.grad(c.newton_plain, wrt=(0, 1))(1.5, 2.0, k)
    close(got, want)
    assert got[1] == pytest.approx(3.0 / (2 * np.sqrt(2.0)), rel=1e-8)  # d(3 sqrt(c))/dc
    M = 0.25 * W  # a contraction: the loop ends
    got = adjoint.grad(c.decay, wrt=(0, 1))(X, M, k)
    close(got, adjoint.grad(c.decay_plain, wrt=(0, 1))(X, M, k))
    numeric = numerical_grad(c.decay, (X, M, k), (0, 1), 1e-6)
    for g, n in zip(got, numeric):
        np.testing.assert_allclose(g, n, rtol=1e-5, atol=1e-6)


def test_higher_order_is_refused_clearly():
    with pytest.raises(adjoint.NotDifferentiableError, match="checkpoint_forward"):
        adjoint.hvp(c.rnn)(X, W, 3, 2, np.ones(4))


@pytest.mark.parametrize("memory", [40, "1KB", 10**6])
def test_memory_budget_chooses_snapshots(memory):
    want = adjoint.grad(c.recurrence_plain, wrt=(0, 1))(X, W, 9, 0)
    close(adjoint.grad(c.budget, wrt=(0, 1))(X, W, 9, memory), want)
    close(adjoint.grad(c.budget_while, wrt=(0, 1))(X, W, memory), want)


def test_memory_budget_too_small_or_malformed():
    with pytest.raises(ValueError, match="holds no copy"):
        adjoint.grad(c.budget)(X, W, 9, 8)  # one copy of h takes 32 bytes
    with pytest.raises(ValueError, match="a size like"):
        adjoint.grad(c.budget)(X, W, 9, "lots")
