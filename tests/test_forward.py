"""Forward mode: jvp against central differences and against the reverse mode."""
import numpy as np
import pytest

import adjoint
from adjoint.pytree import tree_map, tree_vdot

from . import constructs as c
from . import models
from .test_constructs import CASES

IDS = [f"{f.__name__}-{i}" for i, (f, _, _) in enumerate(CASES)]


def _positions(wrt):
    return list(wrt) if isinstance(wrt, tuple) else [wrt]


def _direction(args, positions, seed=7):
    rng = np.random.default_rng(seed)
    return [tree_map(lambda v: rng.standard_normal(np.shape(v)) if np.ndim(v) else float(rng.standard_normal()),
                     args[p]) for p in positions]


def _moved(args, positions, tangents, h):
    out = list(args)
    for p, t in zip(positions, tangents):
        out[p] = tree_map(lambda a, d: a + h * d, args[p], t)
    return out


def central_tangent(fun, args, positions, tangents, eps=1e-6):
    hi = np.asarray(fun(*_moved(args, positions, tangents, eps)), dtype=float)
    lo = np.asarray(fun(*_moved(args, positions, tangents, -eps)), dtype=float)
    return (hi - lo) / (2 * eps)


@pytest.mark.parametrize("fun,args,wrt", CASES, ids=IDS)
def test_jvp_matches_finite_differences(fun, args, wrt):
    positions = _positions(wrt)
    tangents = _direction(args, positions)
    out, out_dot = adjoint.jvp(fun, wrt)(args, tangents)
    np.testing.assert_allclose(out, fun(*args))
    want = central_tangent(fun, args, positions, tangents)
    np.testing.assert_allclose(out_dot, want, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("fun,args,wrt", CASES, ids=IDS)
def test_jvp_agrees_with_gradient(fun, args, wrt):
    """<grad f, u> from the reverse mode equals J u from the forward mode."""
    positions = _positions(wrt)
    tangents = _direction(args, positions, seed=11)
    _, out_dot = adjoint.jvp(fun, wrt)(args, tangents)
    grads = adjoint.grad(fun, tuple(positions))(*args)
    assert np.isclose(out_dot, sum(tree_vdot(g, t) for g, t in zip(grads, tangents)), rtol=1e-9)


def test_vector_output_both_ways():
    """<v, J u> from jvp equals <J^T v, u> from vjp, through a while loop."""
    x = np.array([0.1, 1.0, 0.0001])
    u, v = np.array([0.3, -1.0, 2.0]), np.array([1.0, 0.5, -0.25])
    out, out_dot = adjoint.jvp(c.while_doubling)((x,), (u,))
    _, pullback = adjoint.vjp(c.while_doubling)(x)
    np.testing.assert_allclose(out, c.while_doubling(x))
    assert np.isclose(v @ out_dot, pullback(v) @ u, rtol=1e-12)
    np.testing.assert_allclose(out_dot, central_tangent(c.while_doubling, [x], [0], [u]), rtol=1e-6)


def test_dict_params_tangent():
    rng = np.random.default_rng(5)
    params = {"W1": rng.normal(size=(3, 4)), "b1": rng.normal(size=4),
              "W2": rng.normal(size=(4, 2)), "b2": rng.normal(size=2)}
    X, Y = rng.normal(size=(5, 3)), rng.normal(size=(5, 2))
    (t,) = _direction((params,), [0])
    _, out_dot = adjoint.jvp(models.mlp, wrt=0)((params, X, Y), (t,))
    assert np.isclose(out_dot, central_tangent(models.mlp, [params, X, Y], [0], [t]), rtol=1e-6)
    assert np.isclose(out_dot, tree_vdot(adjoint.grad(models.mlp)(params, X, Y), t), rtol=1e-9)


def test_none_tangent_holds_an_argument_fixed():
    x, n = np.array([0.5, -0.2, 0.1]), 4
    out, out_dot = adjoint.jvp(c.for_range)((x, n), (np.ones(3), None))
    assert np.isclose(out_dot, central_tangent(c.for_range, [x, n], [0], [np.ones(3)]))


def test_source_is_readable_tangent_code():
    J = adjoint.jvp(c.essentials, wrt=(0, 1))
    x, y = np.linspace(0.1, 0.5, 5), np.linspace(0.6, 1.0, 5)
    J((x, y), (np.ones(5), np.zeros(5)))
    text = J.source
    assert "def essentials_jvp(x, y, x_dot, y_dot):" in text
    assert "_bar" not in text and "append" not in text  # no adjoints, no tape
    assert text == adjoint.source(c.essentials, (0, 1), mode="jvp")


def test_bad_tangents_are_clear_errors():
    J = adjoint.jvp(c.overwrite)
    with pytest.raises(adjoint.WrtError, match="shape"):
        J((np.ones(3),), (np.ones(4),))
    with pytest.raises(adjoint.WrtError, match="tuple"):
        J(np.ones(3), np.ones(3))
    with pytest.raises(adjoint.WrtError, match="integer"):
        adjoint.jvp(c.for_range)((np.ones(3), 2), (np.ones(3), 1.0))


def test_inputs_and_tangents_not_mutated():
    x, t = np.array([0.3, -0.4, 0.5]), np.array([1.0, 2.0, 3.0])
    x0, t0 = x.copy(), t.copy()
    adjoint.jvp(c.writes_param)((x,), (t,))
    np.testing.assert_array_equal(x, x0)
    np.testing.assert_array_equal(t, t0)


def test_one_element_wrt_tuple_gives_tuples():
    x = np.array([0.3, -0.4, 0.5])
    (g,) = adjoint.grad(c.overwrite, (0,))(x)
    value, (g2,) = adjoint.value_and_grad(c.overwrite, (0,))(x)
    np.testing.assert_allclose(g, adjoint.grad(c.overwrite)(x))
    np.testing.assert_allclose(g2, g)
    assert value == pytest.approx(c.overwrite(x))
