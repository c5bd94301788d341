"""Shape facts (``passes/shapes.py``, issue 14): a gradient is compiled per pattern of its
arguments' shapes, and drops the ``unbroadcast``/``unreduce``/``count`` calls the pattern
proves idle. A call whose shapes differ only by a unit dimension, or whose dimensions
coincide by accident, gets code of its own and a right gradient.
"""
import ast
import warnings

import gast
import numpy as np
import pytest

import adjoint
from adjoint.passes import shapes
from adjoint.testing import numerical_grad

rng = np.random.default_rng(1414)
BACKENDS = ["numpy", "numba"]


def logreg_loss(w, X, y, lam):
    z = X @ w
    return np.mean(np.logaddexp(0.0, z) - y * z) + lam * np.sum(w * w)


def bias_loss(x, b):
    return np.mean(np.tanh(x + b) ** 2)


def spread_mean(x, b):
    return np.mean(x + b) * 2.0 + np.sum(b * b)


def mlp_loss(W1, b1, W2, b2, X, Y):
    h = np.tanh(X @ W1 + b1)
    z = h @ W2 + b2
    m = np.max(z, axis=1, keepdims=True)
    logp = z - m - np.log(np.sum(np.exp(z - m), axis=1, keepdims=True))
    return -np.sum(Y * logp) / X.shape[0]


def integer_targets(w, X, k):
    return np.mean((X @ w - k) ** 2)


def row_scaled(A, s):
    return np.sum(np.sin(A * s) * A.T)


def seeded_product(x, y):
    return np.sum(x * y)


def loop_mean(x, b):
    s = 0.0
    for i in range(3):
        s = s + np.mean(np.sin(x * i + b))
    return s


def axis_mean(x, y):
    return np.sum(np.mean(x, axis=1, keepdims=True) * y) + np.sum(np.mean(x, axis=0) * np.mean(y, axis=0))


def _logreg(n, d):
    X = rng.normal(size=(n, d))
    return (rng.normal(size=d), X, (rng.random(n) < 0.5).astype(float), 0.1)


def _mlp(batch, inp, hidden, out):
    return (rng.normal(size=(inp, hidden)), rng.normal(size=hidden), rng.normal(size=(hidden, out)),
            rng.normal(size=out), rng.normal(size=(batch, inp)),
            np.eye(out)[rng.integers(0, out, batch)])


X34 = rng.normal(size=(3, 4))
CASES = [
    ("logreg", logreg_loss, _logreg(30, 4), 0),
    ("logreg n == d", logreg_loss, _logreg(4, 4), 0),
    ("logreg n == 1", logreg_loss, _logreg(1, 4), 0),
    ("logreg d == 1", logreg_loss, _logreg(5, 1), 0),
    ("bias (4,)", bias_loss, (X34, rng.normal(size=4)), (0, 1)),
    ("bias (1, 4)", bias_loss, (X34, rng.normal(size=(1, 4))), (0, 1)),
    ("bias (3, 1)", bias_loss, (X34, rng.normal(size=(3, 1))), (0, 1)),
    ("bias (1, 1)", bias_loss, (X34, rng.normal(size=(1, 1))), (0, 1)),
    ("bias scalar", bias_loss, (X34, 0.3), (0, 1)),
    ("bias (3, 4) with a (1, 4) x", bias_loss, (rng.normal(size=(1, 4)), X34), (0, 1)),
    ("spread mean", spread_mean, (X34, rng.normal(size=4)), (0, 1)),
    ("spread mean (1, 4)", spread_mean, (X34, rng.normal(size=(1, 4))), (0, 1)),
    ("mlp", mlp_loss, _mlp(5, 3, 4, 2), (0, 1, 2, 3)),
    ("mlp batch == hidden", mlp_loss, _mlp(4, 3, 4, 4), (0, 1, 2, 3)),
    ("mlp batch 1", mlp_loss, _mlp(1, 3, 4, 2), (0, 1, 2, 3)),
    ("integer targets", integer_targets, (rng.normal(size=3), X34.T, np.arange(4)), 0),
    ("sum of a product (3, 1)", seeded_product, (X34, rng.normal(size=(3, 1))), (0, 1)),
    ("sum of a product (1, 4)", seeded_product, (rng.normal(size=(1, 4)), X34), (0, 1)),
    ("mean in a loop", loop_mean, (X34, rng.normal(size=4)), (0, 1)),
    ("means over axes", axis_mean, (X34, rng.normal(size=(3, 4))), (0, 1)),
    ("means over axes (3, 1)", axis_mean, (X34, rng.normal(size=(3, 1))), (0, 1)),
    ("square, rows scaled", row_scaled, (rng.normal(size=(3, 3)), rng.normal(size=(3, 1))), (0, 1)),
    ("square, columns scaled", row_scaled, (rng.normal(size=(3, 3)), rng.normal(size=3)), (0, 1)),
]


def _positions(wrt):
    return list(wrt) if isinstance(wrt, tuple) else [wrt]


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("label,fun,args,wrt", CASES, ids=[c[0] for c in CASES])
def test_matches_finite_differences(label, fun, args, wrt, backend):
    if backend == "numba":
        pytest.importorskip("numba")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", adjoint.BackendWarning)
        got = adjoint.grad(fun, wrt, backend=backend)(*args)
    got = got if isinstance(wrt, tuple) else (got,)
    for g, n, p in zip(got, numerical_grad(fun, args, _positions(wrt)), _positions(wrt)):
        assert np.shape(g) == np.shape(args[p])
        np.testing.assert_allclose(g, n, rtol=1e-5, atol=1e-6)


def test_one_derivative_serves_every_pattern_with_code_of_its_own():
    """Calls alternating between shape patterns each get their own code and a right gradient."""
    g = adjoint.grad(bias_loss, (0, 1))
    sources = {}
    for b in [rng.normal(size=4), rng.normal(size=(1, 4)), rng.normal(size=(3, 1)), rng.normal(size=4)]:
        got = g(X34, b)
        want = numerical_grad(bias_loss, (X34, b), [0, 1])
        for a, n in zip(got, want):
            np.testing.assert_allclose(a, n, rtol=1e-5, atol=1e-6)
        sources[b.shape] = g.source
    assert len(set(sources.values())) == 3
    assert ".sum(axis=0)" in sources[(4,)] and "keepdims=True" in sources[(3, 1)]


def test_value_and_grad_specialises_too():
    args = _logreg(20, 3)
    value, grad = adjoint.value_and_grad(logreg_loss)(*args)
    assert value == pytest.approx(logreg_loss(*args), rel=1e-12)
    np.testing.assert_allclose(grad, numerical_grad(logreg_loss, args, [0])[0], rtol=1e-6, atol=1e-8)


def _calls(source):
    return {ast.unparse(n.func) for n in ast.walk(ast.parse(source)) if isinstance(n, ast.Call)}


def test_logreg_gradient_reads_as_written_by_hand():
    g = adjoint.grad(logreg_loss)
    g(*_logreg(30, 4))
    calls = _calls(g.source)
    assert not calls & {"unbroadcast", "unreduce", "elementwise_shape", "count", "conj", "np.log1p",
                        "unit_seed", "np.mean"}, g.source
    assert "z_bar = t3_bar * (logistic(z) - y)" in g.source  # one product: a * X + a * Y = a * (X + Y)
    assert "X.shape[0]" in g.source  # the mean's count, read from the argument


def test_mlp_gradient_sums_where_it_broadcast():
    g = adjoint.grad(mlp_loss, (0, 1, 2, 3))
    g(*_mlp(5, 3, 4, 2))
    calls = _calls(g.source)
    assert not calls & {"unbroadcast", "unreduce"}, g.source
    assert "b2_bar = z_bar.sum(axis=0)" in g.source


def test_complex_arguments_keep_conj():
    """A complex argument has no shape facts and keeps its conjugates (d|zb|^2/dz = 2 z |b|^2)."""
    def loss(z, b):
        return np.sum(np.abs(z * b) ** 2)
    z = rng.normal(size=3) + 1j * rng.normal(size=3)
    b = rng.normal(size=3)
    g = adjoint.grad(loss)
    np.testing.assert_allclose(g(z, b), 2 * z * b ** 2)
    assert "conj" in g.source


def test_the_pattern_shares_symbols_between_equal_sizes():
    assert shapes.pattern((np.zeros((3, 4)), np.zeros(4), 2.0, [1.0])) == (("d1", "d2"), ("d2",), (), None)
    assert shapes.pattern((np.zeros((1, 5)), np.zeros((5, 5)))) == ((1, "d1"), ("d1", "d1"))


def test_new_sizes_of_one_pattern_reuse_the_code():
    g = adjoint.grad(logreg_loss)
    for n in (10, 11, 12):
        args = _logreg(n, 3)
        np.testing.assert_allclose(g(*args), numerical_grad(logreg_loss, args, [0])[0],
                                   rtol=1e-6, atol=1e-8)
    assert len({id(e) for e in g._entries.values()}) == 1


def scaled_sum(x, s):
    return np.sum(x * s) * s


def test_calls_alternating_numbers_and_arrays_get_their_own_code():
    """Once an array has come, call keys skip the argument types: numbers, then arrays, then
    numbers again, each call gets the gradient of its own arguments (2-D, 1-D, float)."""
    g = adjoint.grad(scaled_sum, wrt=(0, 1))
    for x in (2.0, np.arange(3.0), np.ones((2, 2)), 1.5, np.arange(3.0) + 1.0, 3.0):
        s = 0.7
        got = g(x, s)
        want = (np.zeros_like(x) + s * s, 2 * s * np.sum(x))
        np.testing.assert_allclose(got[0], want[0], rtol=1e-12)
        np.testing.assert_allclose(got[1], want[1], rtol=1e-12)
        assert type(got[0]) is type(x) and np.shape(got[0]) == np.shape(x)


def stacked(a, b, c):
    v = np.array([a * b, b + c, c])
    r = v * 2.0 - 1.0
    return np.sum(r * r) + a


def unpacked(p, q):
    r0, r1 = p[0], p[1]
    s = r0 * q + r1
    res = np.array([s * s, s - r0])
    return res[0] * 2.0 + res[1]


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("fun,args,wrt", [(stacked, (0.5, 1.5, -0.3), (0, 1, 2)),
                                          (unpacked, (np.array([0.3, -1.2]), 0.7), (0, 1))],
                         ids=["np.array of numbers", "unpacked items"])
def test_ranks_through_displays_and_np_array(fun, args, wrt, backend):
    """Items of a tuple display are the names put there (rank 0), ``np.array([...])`` of numbers
    has rank 1: no ``unbroadcast`` between numbers, none where the shapes match."""
    if backend == "numba":
        pytest.importorskip("numba")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", adjoint.BackendWarning)
        g = adjoint.grad(fun, wrt, backend=backend)
        got = g(*args)
    for a, n in zip(got, numerical_grad(fun, args, list(wrt))):
        np.testing.assert_allclose(a, n, rtol=1e-6, atol=1e-8)
    if backend == "numpy" and fun is stacked:
        assert "unbroadcast" not in g.source, g.source


def test_ranks_of_displays():
    import gast
    from adjoint import compile as C

    def f(p, q):
        r0, r1 = p[0], p[1]
        v = np.array([r0 * q, r1])
        w = [r0, r1]
        w.append(q)
        return np.sum(v) + w[0]
    t = C._FunctionTransform(f, C._Program(layout={}), {"p": 1, "q": 0})
    names = {s.targets[0].id: s.value for s in t.body if isinstance(s, gast.Assign)
             and isinstance(s.targets[0], gast.Name)}
    assert t.ranks["r0"] == 0 and t.ranks["r1"] == 0 and t.ranks["v"] == 1
    lists = [k for k, v in names.items() if isinstance(v, gast.List) and len(v.elts) == 2
             and [e.id for e in v.elts] == ["r0", "r1"]]
    item = [k for k, v in names.items() if isinstance(v, gast.Subscript)
            and getattr(v.value, "id", None) in lists]
    assert item and all(k not in t.ranks for k in item)  # a list changed later: not proven


@pytest.mark.parametrize("expr", ["x[[2, 0, 2]]", "A[[1, 0]]", "A[0, [1, 2]]", "A[[0, 1], 0]",
                                  "A[:, [0, 2]]", "A[[0, 1], [1, 2]]", "A[None, [1], 1:]", "x[idx]",
                                  "A[idx, ::2]"])
def test_ranks_of_indexing_by_lists_of_ints(expr):
    """A list of ints (a display, or a name bound once to one) indexes one axis: the ranks the
    compiler infers are NumPy's."""
    from adjoint.passes import kinds
    body = gast.parse(f"idx = [1, 0]\nv = {expr}").body
    x, A, idx = np.arange(3.0), np.arange(6.0).reshape(2, 3), [1, 0]
    assert kinds.infer(body, {"x": 1, "A": 2}, set())["v"] == np.ndim(eval(expr))
