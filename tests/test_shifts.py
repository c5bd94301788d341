"""The max subtracted in a softmax, a log-softmax or a log-sum-exp gets no derivative
(``passes/shifts.py``), and the extremum's adjoint, where it is needed, is added in place.

Every gradient is checked against central differences, on both backends; where the shift
provably cancels the generated source has no ``extremum_grad``, and where it does not (the
max read elsewhere, a sum over another axis, a shifted value escaping) it keeps it.
"""
import ast

import numpy as np
import pytest

import adjoint
from adjoint import runtime as rt
from adjoint.testing import numerical_grad

from .constructs import logsumexp_loop

rng = np.random.default_rng(5)
Z = rng.normal(size=(6, 4))
Z_TIES = np.round(Z)  # rows whose max is attained twice
ONEHOT = np.eye(4)[rng.integers(0, 4, 6)]


def log_softmax_nll(z, y):
    m = np.max(z, axis=1, keepdims=True)
    logp = z - m - np.log(np.sum(np.exp(z - m), axis=1, keepdims=True))
    return -np.sum(y * logp)


def softmax_nll(z, y):
    m = np.max(z, axis=-1, keepdims=True)
    e = np.exp(z - m)
    p = e / np.sum(e, axis=-1, keepdims=True)
    return -np.sum(y * np.log(p))


def logsumexp_all(z, y):
    m = np.max(z)
    return m + np.log(np.sum(np.exp(z - m))) + np.sum(y * z)


def min_shift(z, y):
    m = np.min(z, axis=1, keepdims=True)
    e = np.exp(z - m) * 2.0
    return np.sum(y * (e / np.sum(e, axis=1, keepdims=True)))


def max_read_again(z, y):
    m = np.max(z, axis=1, keepdims=True)
    logp = z - m - np.log(np.sum(np.exp(z - m), axis=1, keepdims=True))
    return -np.sum(y * logp) + np.sum(m)


def other_axis(z, y):
    m = np.max(z, axis=1, keepdims=True)
    e = np.exp(z - m)
    return np.sum(y * (e / np.sum(e, axis=0, keepdims=True)))


def shifted_escapes(z, y):
    m = np.max(z, axis=1, keepdims=True)
    e = np.exp(z - m)
    return np.sum(y * e)


def max_without_keepdims(z, y):
    m = np.max(z, axis=1)
    e = np.exp(z.T - m)
    return np.sum(y.T * (e / np.sum(e, axis=0, keepdims=True)))


def shift_doubled(z, y):
    m = np.max(z, axis=1, keepdims=True)
    d = (z - m) * 2.0
    return np.sum(y * (d - np.log(np.sum(np.exp(z - m), axis=1, keepdims=True))))


CANCELLED = [log_softmax_nll, softmax_nll, logsumexp_all, min_shift]
KEPT = [max_read_again, other_axis, shifted_escapes, max_without_keepdims, shift_doubled]


def _calls(source):
    return {ast.unparse(n.func) for n in ast.walk(ast.parse(source)) if isinstance(n, ast.Call)}


@pytest.mark.parametrize("backend", ["numpy", "numba"])
@pytest.mark.parametrize("z", [Z, Z_TIES], ids=["distinct", "ties"])
@pytest.mark.parametrize("fun", CANCELLED + KEPT, ids=lambda f: f.__name__)
def test_gradient_matches_finite_differences(fun, z, backend):
    if backend == "numba":
        pytest.importorskip("numba")
    got = adjoint.grad(fun, backend=backend)(z, ONEHOT)
    np.testing.assert_allclose(got, numerical_grad(fun, (z, ONEHOT), [0])[0], rtol=1e-6, atol=1e-7)


@pytest.mark.parametrize("fun", CANCELLED, ids=lambda f: f.__name__)
def test_a_cancelled_shift_has_no_extremum_adjoint(fun):
    g = adjoint.grad(fun, backend="numpy")
    g(Z, ONEHOT)
    calls = _calls(g.source)
    assert not {"extremum_grad", "add_extremum_grad"} & calls, g.source


@pytest.mark.parametrize("fun", KEPT, ids=lambda f: f.__name__)
def test_a_shift_that_does_not_cancel_keeps_its_adjoint(fun):
    g = adjoint.grad(fun, backend="numpy")
    g(Z, ONEHOT)
    assert {"extremum_grad", "add_extremum_grad"} & _calls(g.source), g.source


def test_the_log_softmax_gradient_reads_as_written_by_hand():
    g = adjoint.grad(log_softmax_nll, backend="numpy")
    g(Z, ONEHOT)
    body = g.source.split('"""')[2]
    assert "m_bar" not in body and "t14" not in body, g.source


# -- the extremum's adjoint added in place --------------------------------------------------
def _added(x_bar, g, x, ans, axis=None, keepdims=False):
    want = x_bar + rt.extremum_grad(g, x, ans, axis, keepdims)
    got = rt.add_extremum_grad(x_bar.copy(), g, x, ans, axis, keepdims)
    np.testing.assert_array_equal(got, want)


@pytest.mark.filterwarnings("ignore:divide by zero", "ignore:invalid value")
@pytest.mark.parametrize("x", [Z, Z_TIES, Z_TIES.T, np.array([[1.0, np.nan], [2.0, 2.0]])],
                         ids=["distinct", "ties", "view", "nan"])
def test_add_extremum_grad_equals_adding_the_shares(x):
    base = rng.normal(size=x.shape)
    _added(base, 1.5, x, np.max(x))
    _added(base, rng.normal(size=x.shape[1]), x, np.max(x, axis=0), 0)
    _added(base, rng.normal(size=(x.shape[0], 1)), x, np.min(x, axis=1, keepdims=True), 1, True)


def test_add_extremum_grad_of_a_number_or_a_list():
    assert rt.add_extremum_grad(1.0, 2.0, 3.0, 3.0) == 3.0
    np.testing.assert_array_equal(rt.add_extremum_grad(np.zeros(3), 1.0, [1.0, 4.0, 4.0], 4.0),
                                  [0.0, 0.5, 0.5])


@pytest.mark.parametrize("backend", ["numpy", "numba"])
def test_a_loops_max_adds_its_share_in_place(backend):
    if backend == "numba":
        pytest.importorskip("numba")
    x = np.array([0.5, 2.0, -1.0, 2.0, 1.0])
    g = adjoint.grad(logsumexp_loop, backend=backend)
    np.testing.assert_allclose(g(x), numerical_grad(logsumexp_loop, (x,), [0])[0], rtol=1e-7, atol=1e-9)
    assert "add_extremum_grad" in _calls(g.source) and "extremum_grad" not in _calls(g.source)


# -- sums of an adjoint computed once, negations outside the sum ------------------------------
def test_a_row_sum_of_an_adjoint_is_computed_once():
    g = adjoint.grad(max_read_again, backend="numpy")
    g(Z, ONEHOT)
    sums = [n for n in ast.walk(ast.parse(g.source)) if isinstance(n, ast.Call)
            and isinstance(n.func, ast.Attribute) and n.func.attr == "sum"]
    texts = [ast.unparse(n) for n in sums]
    assert len(texts) == len(set(texts)), g.source
    assert "(-" not in "".join(texts), g.source  # -(x.sum()), not (-x).sum()


@pytest.mark.parametrize("fun", [log_softmax_nll, softmax_nll], ids=lambda f: f.__name__)
def test_second_order_through_a_cancelled_shift(fun):
    z = Z[:3]
    hess = adjoint.hessian(fun)(z, ONEHOT[:3])
    grad = adjoint.grad(fun, backend="numpy")
    columns = [numerical_grad(lambda z: np.sum(grad(z, ONEHOT[:3]) * e), (z,), [0])[0]
               for e in np.eye(z.size).reshape(z.size, *z.shape)]
    np.testing.assert_allclose(np.reshape(hess, (z.size, z.size)),
                               np.reshape(columns, (z.size, z.size)), rtol=1e-5, atol=1e-6)


def mean_of_products(w, X, y):
    z = X @ w
    return np.mean(np.tanh(z) - y * z)


@pytest.mark.parametrize("backend", ["numpy", "numba"])
def test_a_common_scale_is_factored_out(backend):
    """``v = -a * X; v += a * Y`` is ``v = a * (Y - X)``: one product fewer, the same gradient."""
    if backend == "numba":
        pytest.importorskip("numba")
    w, X, y = rng.normal(size=3), rng.normal(size=(7, 3)), rng.normal(size=7)
    g = adjoint.grad(mean_of_products, backend=backend)
    np.testing.assert_allclose(g(w, X, y), numerical_grad(mean_of_products, (w, X, y), [0])[0],
                               rtol=1e-7, atol=1e-9)
    assert "* (" in g.source and "z_bar +=" not in g.source, g.source
