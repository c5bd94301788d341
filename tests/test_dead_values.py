"""``grad`` computes no value that the backward sweep reads only for its shape (issue 14).

The loss itself (read only by the seed), ``log1p`` of the softplus (read only
by ``count`` and ``unreduce``) and ``w * w`` (read only by ``unreduce``) are
not computed; their shapes come from their operands. ``value_and_grad`` still
computes the value.
"""
import ast
import warnings

import numpy as np
import pytest

import adjoint
from adjoint.testing import numerical_grad

rng = np.random.default_rng(14)
X = rng.normal(size=(30, 4))
Y = rng.integers(0, 2, size=30).astype(float)
W = rng.normal(size=4)


def softplus_loss(w, X, y):
    z = X @ w
    return np.mean(np.log1p(np.exp(-y * z)))


def logreg_loss(w, X, y, lam):
    z = X @ w
    return np.mean(np.logaddexp(0.0, z) - y * z) + lam * np.sum(w * w)


CASES = [(softplus_loss, (W, X, 2 * Y - 1)), (logreg_loss, (W, X, Y, 0.1))]


def _calls(tree):
    return {ast.unparse(n.func) for n in ast.walk(tree) if isinstance(n, ast.Call)}


@pytest.mark.parametrize("fun,args", CASES, ids=[f.__name__ for f, _ in CASES])
def test_grad_computes_no_value_read_only_for_its_shape(fun, args):
    g = adjoint.grad(fun)
    got = g(*args)
    tree = ast.parse(g.source)
    calls = _calls(tree)
    assert not calls & {"np.log1p", "np.mean", "np.sum", "unit_seed"}, g.source
    stored = {n.id for n in ast.walk(tree) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store)}
    loaded = {n.id for n in ast.walk(tree) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load)}
    assert stored <= loaded, f"unread: {stored - loaded}"
    np.testing.assert_allclose(got, numerical_grad(fun, args, [0])[0], rtol=1e-6, atol=1e-8)


@pytest.mark.parametrize("fun,args", CASES, ids=[f.__name__ for f, _ in CASES])
def test_value_and_grad_still_computes_the_value(fun, args):
    vg = adjoint.value_and_grad(fun)
    value, grad = vg(*args)
    assert value == pytest.approx(fun(*args), rel=1e-12)
    np.testing.assert_allclose(grad, adjoint.grad(fun)(*args), rtol=1e-12)
    assert "np.mean" in vg.source


def test_float32_gradient_keeps_its_dtype():
    args = (W.astype(np.float32), X.astype(np.float32), (2 * Y - 1).astype(np.float32))
    got = adjoint.grad(softplus_loss)(*args)
    assert got.dtype == np.float32
    np.testing.assert_allclose(got, adjoint.grad(softplus_loss)(W, X, 2 * Y - 1), rtol=1e-4)


def test_numba_backend_agrees():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", adjoint.BackendWarning)
        got = adjoint.grad(logreg_loss, backend="numba")(*CASES[1][1])
    np.testing.assert_allclose(got, adjoint.grad(logreg_loss)(*CASES[1][1]), rtol=1e-10)


def test_second_order_reads_the_stand_ins():
    """hvp transforms the gradient again: the shape stand-ins carry no derivative."""
    v = rng.normal(size=4)
    got = adjoint.hvp(logreg_loss)(W, X, Y, 0.1, v)
    grad = adjoint.grad(logreg_loss)
    want = numerical_grad(lambda w: float(np.dot(grad(w, X, Y, 0.1), v)), (W,), [0])[0]
    np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-7)


def pair_loss(a, b):
    return np.sum(np.logaddexp(a, b) * 1.5)


def test_logaddexp_derivative_is_one_logistic():
    """Where only its derivative is read, ``logaddexp(a, b)`` is never computed: the adjoint of
    ``b`` is ``logistic(b - a)``, computed without overflow or warning at any argument."""
    a = np.array([-1000.0, -30.0, 0.0, 2.0, 800.0, 5.0])
    b = np.array([1000.0, 0.0, 0.0, -3.0, 0.0, 5.0])
    g = adjoint.grad(pair_loss, wrt=(0, 1))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        a_bar, b_bar = g(a, b)
    calls = _calls(ast.parse(g.source))
    assert "logistic" in calls and not calls & {"np.logaddexp", "np.exp"}, g.source
    for got, x in ((a_bar, a), (b_bar, b)):  # exact: logaddexp itself is stable
        np.testing.assert_allclose(got, 1.5 * np.exp(x - np.logaddexp(a, b)), rtol=1e-14, atol=1e-300)
    small = rng.normal(size=(2, 6))
    np.testing.assert_allclose(g(*small), numerical_grad(pair_loss, tuple(small), [0, 1]), rtol=1e-6)


def test_logistic_regression_at_saturating_margins():
    """Margins of +-1000 saturate the logistic function: the gradient is the closed form, and
    the Numba backend compiles it (no fallback) with the same result."""
    w = np.array([300.0, -300.0, 200.0, 100.0])
    want = X.T @ (1.0 / (1.0 + np.exp(-np.clip(X @ w, -700, 700))) - Y) / len(Y) + 0.2 * w
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for backend in ("numpy", "numba"):
            got = adjoint.grad(logreg_loss, backend=backend)(w, X, Y, 0.1)
            np.testing.assert_allclose(got, want, rtol=1e-12)


def test_weight_decay_scales_the_number_first():
    """``lam * np.sum(w * w)``'s adjoint doubled: ``2 * t_bar * w``, one pass over ``w`` (not
    ``2 * (t_bar * w)``), and exactly the closed form's ``2 * lam * w`` (a power of two)."""
    g = adjoint.grad(logreg_loss)
    w = rng.normal(size=4)
    got = g(w, X, Y, 0.3)
    products = [ast.unparse(n) for n in ast.walk(ast.parse(g.source))
                if isinstance(n, ast.BinOp) and isinstance(n.op, ast.Mult)
                and isinstance(n.left, ast.Constant) and n.left.value == 2]
    assert products and all(isinstance(ast.parse(p).body[0].value.right, ast.Name) for p in products), g.source
    p = 1.0 / (1.0 + np.exp(-(X @ w)))
    np.testing.assert_allclose(got, X.T @ (p - Y) / len(Y) + 2 * 0.3 * w, rtol=1e-13)
