"""Jacobians and Hessians of pytrees and tuples of arguments, nested as jax.jacobian and
jax.hessian nest them, against central differences."""
from __future__ import annotations

import math

import numpy as np
import pytest

import adjoint
from adjoint.pytree import tree_flatten, tree_unflatten


def model(p, x):
    """A pytree of parameters in, a pytree of outputs out."""
    h = np.tanh(p["w"] @ x + p["b"])
    return {"h": h, "pair": (np.sum(h ** 2) * p["s"], h[0] * x)}


def loss(p, x):
    return np.sum(np.sin(p["w"] @ x + p["b"]) ** 2) * p["s"] + np.sum(x ** 3) * p["s"] ** 2


def params(rng):
    return {"w": rng.standard_normal((2, 3)), "b": rng.standard_normal(2), "s": 0.7}


def central_columns(fun, args, k, eps=1e-6):
    """d fun / d (leaf l of argument k), entry by entry: {l: [flat outputs per entry]}."""
    leaves, td = tree_flatten(args[k])
    out = {}
    for l, leaf in enumerate(leaves):
        cols = []
        for i in range(int(np.size(leaf))):
            def at(sign):
                moved = [np.array(v, dtype=float) for v in leaves]
                moved[l].flat[i] += sign * eps
                shifted = [m if np.ndim(v) else float(m) for m, v in zip(moved, leaves)]
                call = list(args)
                call[k] = tree_unflatten(td, shifted)
                return [np.asarray(v, dtype=float) for v in tree_flatten(fun(*call))[0]]
            cols.append([(a - b) / (2 * eps) for a, b in zip(at(1), at(-1))])
        out[l] = cols
    return out


def block_from_columns(cols, o, out_shape, in_shape):
    """The block d out_o / d leaf from columns of central differences."""
    table = np.array([np.reshape(c[o], out_shape) for c in cols])
    return np.moveaxis(table.reshape((len(cols),) + tuple(out_shape)), 0, -1).reshape(
        tuple(out_shape) + tuple(in_shape))


@pytest.mark.parametrize("mode", ["forward", "reverse", "auto"])
def test_jacobian_of_pytrees_with_a_tuple_wrt(mode):
    rng = np.random.default_rng(0)
    p, x = params(rng), rng.standard_normal(3)
    J = adjoint.jacobian(model, wrt=(0, 1), mode=mode)(p, x)
    out_leaves, out_td = tree_flatten(model(p, x))
    got = tree_flatten(J)[0]  # out leaf -> (p leaves in sorted-key order, x)
    assert set(J) == {"h", "pair"} and isinstance(J["pair"], tuple)
    assert set(J["h"][0]) == {"w", "b", "s"} and J["h"][1].shape == (2, 3)
    for k in (0, 1):
        leaves = tree_flatten((p, x)[k])[0]
        cols = central_columns(model, (p, x), k)
        for o, out in enumerate(out_leaves):
            for l, leaf in enumerate(leaves):
                want = block_from_columns(cols[l], o, np.shape(out), np.shape(leaf))
                block = got[o * 4 + (l if k == 0 else 3)]
                assert np.shape(block) == np.shape(out) + np.shape(leaf)
                np.testing.assert_allclose(block, want, rtol=1e-6, atol=1e-8)


def test_jacobian_of_one_pytree_argument():
    rng = np.random.default_rng(1)
    p, x = params(rng), rng.standard_normal(3)
    J = adjoint.jacobian(model)(p, x)
    assert J["h"]["w"].shape == (2, 2, 3) and np.shape(J["pair"][0]["s"]) == ()
    cols = central_columns(model, (p, x), 0)
    np.testing.assert_allclose(J["h"]["w"], block_from_columns(cols[2], 0, (2,), (2, 3)), rtol=1e-6,
                               atol=1e-8)


def test_hessian_of_a_pytree():
    """H[a][b] of shape a.shape + b.shape, against central differences of the gradient."""
    rng = np.random.default_rng(2)
    p, x = params(rng), rng.standard_normal(3)
    H = adjoint.hessian(loss)(p, x)
    grad = adjoint.grad(loss)
    cols = central_columns(grad, (p, x), 0)
    names = ["b", "s", "w"]  # sorted-key order of the leaves
    for m, a in enumerate(names):
        for l, b in enumerate(names):
            want = block_from_columns(cols[l], m, np.shape(p[a]), np.shape(p[b]))
            assert np.shape(H[a][b]) == np.shape(p[a]) + np.shape(p[b])
            np.testing.assert_allclose(H[a][b], want, rtol=1e-5, atol=1e-7)
    np.testing.assert_allclose(H["w"]["b"], np.moveaxis(H["b"]["w"], 0, -1), atol=1e-12)


def test_hessian_of_a_pytree_and_an_array():
    rng = np.random.default_rng(3)
    p, x = params(rng), rng.standard_normal(3)
    H = adjoint.hessian(loss, wrt=(0, 1))(p, x)
    assert H[1][1].shape == (3, 3) and H[0][1]["w"].shape == (2, 3, 3)
    assert H[1][0]["s"].shape == (3,)
    cols = central_columns(adjoint.grad(loss, wrt=1), (p, x), 0)  # d grad_x / d p
    np.testing.assert_allclose(H[1][0]["w"], block_from_columns(cols[2], 0, (3,), (2, 3)),
                               rtol=1e-5, atol=1e-7)
    np.testing.assert_allclose(H[0][1]["w"], np.moveaxis(H[1][0]["w"], 0, -1), atol=1e-10)
    cols = central_columns(adjoint.grad(loss, wrt=1), (p, x), 1)
    np.testing.assert_allclose(H[1][1], block_from_columns(cols[0], 0, (3,), (3,)), rtol=1e-5,
                               atol=1e-7)


# -- third order and beyond: grad of grad of grad, on scalar functions --------------------------
def sin_cubed(x):
    return np.sin(x) * x ** 3


def exp_twice(x):
    return np.exp(2.0 * x)


def fifth(x):
    return x ** 5


def log_of(x):
    return math.log(x) + np.tanh(0.0 * x)


def mixed(x, y):
    return np.exp(x * y) + x ** 2 * y ** 3


def scaled_sine(a, b):
    return a * np.sin(b)


def through_a_helper(x):
    """The helper's jvp takes tangents by keyword (``a_dot=``); differentiated again, its own
    ``a_dot`` parameter is renamed and every call passes it under the new name."""
    return scaled_sine(x, x) ** 2 + scaled_sine(b=x, a=2.0)


THIRD = [
    (sin_cubed, lambda x: -np.cos(x) * x ** 3 - 9 * np.sin(x) * x ** 2 + 18 * np.cos(x) * x
     + 6 * np.sin(x)),
    (exp_twice, lambda x: 8 * np.exp(2 * x)),
    (fifth, lambda x: 60 * x ** 2),
    (log_of, lambda x: 2 / x ** 3),
    (through_a_helper, lambda x: 6 * np.sin(2 * x) + 12 * x * np.cos(2 * x)
     - 4 * x ** 2 * np.sin(2 * x) - 2 * np.cos(x)),
]


@pytest.mark.parametrize("fun, closed", THIRD, ids=[f.__name__ for f, _ in THIRD])
def test_third_derivative_of_a_scalar_function(fun, closed):
    d3 = adjoint.grad(adjoint.grad(adjoint.grad(fun)))
    for x in (0.4, 1.3):
        assert d3(x) == pytest.approx(closed(x), rel=1e-10)


def test_fourth_derivative_and_mixed_third_partials():
    assert adjoint.grad(adjoint.grad(adjoint.grad(adjoint.grad(fifth))))(0.7) == \
        pytest.approx(120 * 0.7, rel=1e-12)
    x = 0.7  # x^2 sin^2 x + 2 sin x = x^2/2 - x^2 cos(2x)/2 + 2 sin x
    fourth = 24 * np.cos(2 * x) - 32 * x * np.sin(2 * x) - 8 * x ** 2 * np.cos(2 * x) + 2 * np.sin(x)
    assert adjoint.grad(adjoint.grad(adjoint.grad(adjoint.grad(through_a_helper))))(x) == \
        pytest.approx(fourth, rel=1e-10)
    x, y = 0.3, 0.5
    dxyy = adjoint.grad(adjoint.grad(adjoint.grad(mixed, 0), 1), 1)(x, y)
    e = np.exp(x * y)
    assert dxyy == pytest.approx(2 * x * e + x * x * y * e + 12 * x * y, rel=1e-10)


def test_third_derivative_needs_scalar_arguments():
    def cubic_sum(x):
        return np.sum(x ** 3)
    with pytest.raises(adjoint.AdjointError, match="beyond the second"):
        adjoint.grad(adjoint.grad(adjoint.grad(cubic_sum)))(np.ones(2))
