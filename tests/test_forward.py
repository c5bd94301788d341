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


# -- every tangent has its primal's shape (issue 10, class 8) ------------------------------------
def broadcast_by_constant(a):
    return np.sum(np.ones((4, 3)) + a[2])


def constant_operands(a):
    c = np.ones(3)
    M = np.ones((3, 3)) * 0.5
    joined = np.concatenate([c, a])
    stacked = np.stack([c, a])
    row = c @ M
    return np.sum(joined ** 2) + np.sum(stacked[1] * stacked[0]) + np.sum(row * a) + c[0] * a[1]


def zero_until_a_branch(x, a):
    acc = np.zeros(3)
    if x > 0:
        acc = acc + a * x
    picked = acc[1:]
    return np.sum(np.concatenate([picked, acc]) @ np.ones(5))


def written_after_a_copy_free_op(a):
    b = a + 1.0
    b[0] = a[1] * 3.0
    return np.sum(b * a)


def joined(a, c):
    return np.sum(np.concatenate([a, c]) ** 2)


def uses_helper_with_constant(a):
    c = np.arange(3.0)
    return joined(a, c) + joined(c, a * 2.0)


SHAPES = [
    (broadcast_by_constant, (np.arange(9.0).reshape(3, 3),)),
    (constant_operands, (np.array([0.3, -0.7, 1.1]),)),
    (zero_until_a_branch, (0.5, np.array([0.3, -0.7, 1.1]))),
    (zero_until_a_branch, (-0.5, np.array([0.3, -0.7, 1.1]))),
    (written_after_a_copy_free_op, (np.array([0.3, -0.7, 1.1]),)),
    (uses_helper_with_constant, (np.array([0.3, -0.7, 1.1]),)),
]


@pytest.mark.parametrize("fun,args", SHAPES, ids=[f"{f.__name__}-{i}" for i, (f, _) in enumerate(SHAPES)])
def test_tangents_keep_their_primal_shapes(fun, args):
    """Constants broadcast, joined, indexed and multiplied with tangents: jvp = FD = <grad, v>."""
    positions = list(range(len(args)))
    tangents = _direction(args, positions)
    _, out_dot = adjoint.jvp(fun)(args, tangents)
    assert np.isclose(out_dot, central_tangent(fun, list(args), positions, tangents), rtol=1e-6)
    grads = adjoint.grad(fun, tuple(positions))(*args)
    assert np.isclose(out_dot, sum(tree_vdot(g, t) for g, t in zip(grads, tangents)), rtol=1e-9)


def test_broadcast_by_a_constant_closed_form():
    """d/da sum(ones((4, 3)) + a[2]) along v is 4 * sum(v[2]), not sum(v[2])."""
    v = np.arange(9.0).reshape(3, 3)
    _, out_dot = adjoint.jvp(broadcast_by_constant)((np.zeros((3, 3)),), (v,))
    assert out_dot == pytest.approx(4 * np.sum(v[2]))


def written_tangent_does_not_leak(a):
    b = a + 0.0
    b[0] = 5.0
    return np.sum(b) + np.sum(a)


def written_after_a_constant_sum(a):
    c = np.ones(3) * 2.0
    b = a + c
    b[0] = 5.0
    return np.sum(b) + np.sum(a)


def written_after_a_swap(a):
    b = a + 1.0  # a new array, whose tangent would be a's
    c = np.zeros(3)
    b, c = c, b  # written below under another name
    c[0] = 5.0
    return np.sum(c) + np.sum(a) + np.sum(b) - 1.0


def written_through_a_list(a):
    b = np.exp(0.0) * a
    pair = [b, a]
    c = pair[0]
    c[0] = 5.0
    return np.sum(a) + np.sum(c)


@pytest.mark.parametrize("fun", [written_tangent_does_not_leak, written_after_a_constant_sum,
                                 written_after_a_swap])
def test_writing_a_tangent_leaves_its_source_alone(fun):
    """``b = a + 0.0`` is a new array: writing into b's tangent must not change a's."""
    _, out_dot = adjoint.jvp(fun)((np.ones(3),), (np.ones(3),))
    assert out_dot == pytest.approx(5.0)


def test_writing_through_a_list_leaves_the_source_alone():
    _, out_dot = adjoint.jvp(written_through_a_list)((np.ones(3),), (np.ones(3),))
    assert out_dot == pytest.approx(5.0)


# -- complex tangents of functions that are not holomorphic -----------------------------------------
def absolute(z):
    return np.abs(z)


def angle(z):
    return np.angle(z) + np.angle(z, deg=True)


def imag(z):
    return np.imag(z) * 2.0


@pytest.mark.parametrize("fun", [absolute, angle, imag])
def test_complex_tangents_keep_their_imaginary_part(fun):
    z = np.array([1.0 + 2.0j, -0.5 + 0.3j, 2.0 - 1.0j])
    v = np.array([1j, 0.5 - 0.5j, -2.0 + 1.0j])
    _, out_dot = adjoint.jvp(fun)((z,), (v,))
    h = 1e-7
    np.testing.assert_allclose(out_dot, (fun(z + h * v) - fun(z - h * v)) / (2 * h), rtol=1e-6)


def test_abs_tangent_at_a_complex_scalar():
    """d|z| along i at z = 1 + 2i is Re(conj(z) i) / |z| = 2 / sqrt(5)."""
    _, out_dot = adjoint.jvp(absolute)((1 + 2j,), (1j,))
    assert out_dot == pytest.approx(2 / np.sqrt(5))


# -- crashes ----------------------------------------------------------------------------------------
def min_of_literal(x, y):
    c = np.ones(2) * 0.25
    return np.min(np.array([x, y * 2.0, x * y])) + np.sum(np.min(np.array([c, c * x]), axis=0))


ROW_STACK = getattr(np, "row_stack", np.vstack)  # NumPy 2.0 deprecates row_stack


def row_stacked(a):
    return np.sum(ROW_STACK([a, a * 2.0]) ** 2)


@pytest.mark.filterwarnings("ignore:`row_stack` alias is deprecated:DeprecationWarning")
@pytest.mark.parametrize("fun,args", [(min_of_literal, (0.3, 0.4)),
                                      (row_stacked, (np.array([0.3, -0.2]),))])
def test_former_crashes(fun, args):
    positions = list(range(len(args)))
    tangents = _direction(args, positions)
    _, out_dot = adjoint.jvp(fun)(args, tangents)
    assert np.isclose(out_dot, central_tangent(fun, list(args), positions, tangents), rtol=1e-6)


# -- parameters outside wrt that become active by a later binding ------------------------------
def swapped(a, b):
    a, b = b, a
    return np.sum(np.sin(a)) + np.sum(b)


def written_by_the_active_one(s, w):
    s[-1] *= w
    return np.sum(s * s)


def rebound_from_the_active_one(k, A, u):
    A = 0.5 * A + 0.5 * np.sin(u[0])
    for i in range(2):
        k[i] *= np.cos(A[0, i])
    return np.mean(np.tanh(A)) + np.sum(k)


def swaps_in_a_helper(seed, saved):
    seed, saved = saved, seed
    return np.outer(np.ones(2) * 0.7, seed)


def calls_a_swapping_helper(a):
    return np.sum(swaps_in_a_helper(a[0] * a[1], np.ones(3) * 0.3) * a[0])


ENTRY_ZEROS = [
    (swapped, (np.array([0.3, -0.7, 1.1]), np.array([0.2, 0.5, -0.4])), 1),
    (written_by_the_active_one, (np.array([0.3, -0.7, 1.1]), 0.8), 1),
    (rebound_from_the_active_one, (np.array([0.3, -0.7, 1.1]), np.ones((2, 3)),
                                   np.array([[0.2, 0.5, -0.4], [0.1, 0.6, 0.9]])), 2),
    (calls_a_swapping_helper, (np.array([[0.2, 0.5, -0.4], [0.1, 0.6, 0.9]]),), 0),
]


@pytest.mark.parametrize("fun,args,wrt", ENTRY_ZEROS,
                         ids=[f.__name__ for f, _, _ in ENTRY_ZEROS])
def test_parameter_outside_wrt_made_active_later(fun, args, wrt):
    """A parameter not in ``wrt`` that a later binding makes active starts with a zero tangent."""
    tangents = _direction(args, [wrt])
    _, out_dot = adjoint.jvp(fun, wrt)(tuple(np.copy(a) for a in args), tangents)
    fresh = lambda *a: fun(*[np.copy(x) for x in a])  # noqa: E731 - the function writes in place
    assert np.isclose(out_dot, central_tangent(fresh, list(args), [wrt], tangents), rtol=1e-6)
    g = adjoint.grad(fun, wrt)(*[np.copy(a) for a in args])
    assert np.isclose(out_dot, tree_vdot(g, tangents[0]), rtol=1e-9)


# -- helpers returning a constant; tangents of parameters written through an alias --------------
def quarter(u):
    return 0.25


def uses_a_constant_helper(x):
    return quarter(x) * x + quarter(x) ** 2


def test_helper_returning_a_constant_has_a_zero_tangent():
    """d/dx (x / 4 + 1 / 16) = 1 / 4; the helper's tangent is 0.0, not None."""
    out, out_dot = adjoint.jvp(uses_a_constant_helper)((1.5,), (2.0,))
    assert (out, out_dot) == (pytest.approx(0.4375), pytest.approx(0.5))
    assert adjoint.jvp(quarter)((1.5,), (2.0,)) == (0.25, 0.0)


def written_through_an_alias(y, w):
    tmp = np.mean(np.outer(y, w), axis=1)
    v = y
    v[1] = w[-1]
    return np.sum(tmp) + 0.5 * np.sum(v ** 2)


def test_tangent_of_a_parameter_written_through_an_alias_is_private():
    """``v = y; v[1] = ...`` writes into y's private copy and into a copy of y's tangent."""
    args = (np.array([0.3, 0.5]), np.array([0.1, 0.2, 0.7]))
    tangents = [np.array([1.0, -0.5]), np.array([0.3, 0.2, 0.9])]
    kept = [np.copy(t) for t in tangents]
    _, out_dot = adjoint.jvp(written_through_an_alias)(args, tangents)
    for t, k in zip(tangents, kept):
        np.testing.assert_array_equal(t, k)
    fresh = lambda *a: written_through_an_alias(*[np.copy(x) for x in a])  # noqa: E731
    assert np.isclose(out_dot, central_tangent(fresh, list(args), [0, 1], tangents), rtol=1e-6)
