"""Signatures (issue 11): *args, **kwargs, keyword-only parameters and defaults, on the
differentiated function and on its helpers, against finite differences on both backends."""
import warnings

import numpy as np
import pytest

import adjoint
from adjoint.testing import numerical_grad

from . import signature_cases as c

rng = np.random.default_rng(12)
W, X = 0.7, rng.normal(size=3)

CASES = [  # helpers with these signatures, called from a function of (w, x)
    (c.calls_star_helper, (W, X), (0, 1)),
    (c.calls_mixed_helper, (W, X), (0, 1)),
    (c.calls_forwarding, (W, X), (0, 1)),
    (c.calls_keyword_only, (W, X), (0, 1)),
    (c.calls_reserved_names, (W, X), (0, 1)),
    (c.calls_defaults_then_star, (W, X), (0, 1)),
    (c.calls_function_default, (W, X), (0, 1)),
    (c.array_default, (X,), 0),
    (c.make_with_enclosing_default(2.0), (X,), 0),
]


@pytest.mark.parametrize("backend", ["numpy", "numba"])
@pytest.mark.parametrize("fun,args,wrt", CASES, ids=[f.__qualname__ for f, _, _ in CASES])
def test_helper_signatures_match_finite_differences(fun, args, wrt, backend):
    if backend == "numba":
        pytest.importorskip("numba")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", adjoint.BackendWarning)
        got = adjoint.grad(fun, wrt, backend=backend)(*args)
    got = got if isinstance(wrt, tuple) else (got,)
    positions = list(wrt) if isinstance(wrt, tuple) else [wrt]
    for g, n in zip(got, numerical_grad(fun, args, positions)):
        np.testing.assert_allclose(g, n, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("fun,args,wrt", CASES, ids=[f.__qualname__ for f, _, _ in CASES])
def test_helper_signatures_vjp_and_jvp(fun, args, wrt):
    g = adjoint.grad(fun, wrt)(*args)
    g = g if isinstance(wrt, tuple) else (g,)
    positions = list(wrt) if isinstance(wrt, tuple) else [wrt]
    _, pullback = adjoint.vjp(fun, wrt)(*args)
    pulled = pullback(1.0)
    for a, b in zip(g, pulled if isinstance(wrt, tuple) else (pulled,)):
        np.testing.assert_allclose(a, b, rtol=1e-10)
    tangents = tuple(np.ones_like(args[p]) if np.ndim(args[p]) else 1.0 for p in positions)
    _, out_dot = adjoint.jvp(fun, tuple(positions))(args, tangents)
    np.testing.assert_allclose(out_dot, sum(np.sum(d) for d in g), rtol=1e-8)


def _fd(fun, args, kwargs, position=None, key=None):
    """Central differences of ``fun(*args, **kwargs)`` along args[position] or kwargs[key]."""
    def moved(v):
        a, k = list(args), dict(kwargs)
        if key is None:
            a[position] = v
        else:
            k[key] = v
        return fun(*a, **k)
    start = args[position] if key is None else kwargs[key]
    return numerical_grad(moved, (start,), [0])[0]


@pytest.mark.parametrize("backend", ["numpy", "numba"])
def test_wrt_counts_positional_arguments_into_star_args(backend):
    if backend == "numba":
        pytest.importorskip("numba")
    args = (X, W, 2.0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", adjoint.BackendWarning)
        gx, g0, g1 = adjoint.grad(c.star_main, wrt=(0, 1, 2), backend=backend)(*args)
    for k, g in enumerate((gx, g0, g1)):
        np.testing.assert_allclose(g, _fd(c.star_main, args, {}, k), rtol=1e-6)
    assert adjoint.grad(c.star_main, wrt=2)(*args) == pytest.approx(g1)
    whole = adjoint.grad(c.star_main, wrt="args")(*args)  # the tuple's gradient, a tuple
    assert whole[0] == pytest.approx(g0) and whole[1] == pytest.approx(g1)
    assert adjoint.grad(c.star_main, wrt=1)(X, W, 3.0, 4.0) == pytest.approx(np.sum(X))
    assert adjoint.grad(c.star_main, wrt=1)(X, W, 3.0) == pytest.approx(np.sum(X))  # other arity


def test_wrt_names_keyword_arguments_and_keyword_only_parameters():
    kwargs = {"w": W, "c": 2.0}
    value, (gw, gc) = adjoint.value_and_grad(c.kwargs_main, wrt=("w", "c"))(X, **kwargs)
    assert value == pytest.approx(c.kwargs_main(X, **kwargs))
    assert gw == pytest.approx(_fd(c.kwargs_main, (X,), kwargs, key="w"))
    assert gc == pytest.approx(_fd(c.kwargs_main, (X,), kwargs, key="c"))
    assert adjoint.grad(c.kwargs_main, wrt="kwargs")(X, **kwargs) == pytest.approx({"w": gw, "c": gc})
    got = adjoint.grad(c.keyword_only, wrt=("w", "b"))(X, w=W)
    assert got[0] == pytest.approx(_fd(c.keyword_only, (X,), {"w": W}, key="w"))
    np.testing.assert_allclose(got[1], _fd(c.keyword_only, (X,), {"w": W, "b": c.OFFSET}, key="b"),
                               rtol=1e-6)
    got = adjoint.grad(c.star_then_keyword_only, wrt=(1, "scale"))(X, W, scale=3.0)
    assert got == pytest.approx((3.0 * np.sum(X), W * np.sum(X)))


def test_vjp_picks_items_of_star_args():
    out, pullback = adjoint.vjp(c.star_main, wrt=(1, 2))(X, W, 2.0)
    assert out == pytest.approx(c.star_main(X, W, 2.0))
    assert pullback(2.0) == pytest.approx((2.0 * np.sum(X), 8.0))


def test_jvp_takes_whole_star_args():
    out, out_dot = adjoint.jvp(c.star_main, wrt="args")((X, W, 2.0), ((0.1, 0.2),))
    assert out_dot == pytest.approx(0.1 * np.sum(X) + 0.2 * 4.0)
    with pytest.raises(adjoint.WrtError, match="tangent per whole parameter"):
        adjoint.jvp(c.star_main, wrt=1)


def test_wrt_errors_are_clear():
    with pytest.raises(adjoint.WrtError, match="names no parameter"):
        adjoint.grad(c.keyword_only, wrt="nope")
    with pytest.raises(adjoint.WrtError, match="out of range"):
        adjoint.grad(c.keyword_only, wrt=3)
    with pytest.raises(IndexError):  # the user's own error, as Python raises it
        adjoint.grad(c.too_few_for_star)(1.0, 2.0)
