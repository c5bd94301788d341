"""Second derivatives (forward over reverse), jacobians, and grad of grad."""
import math

import numpy as np
import pytest

import adjoint
from adjoint import api

from . import constructs as c
from .test_constructs import CASES

IDS = [f"{f.__name__}-{i}" for i, (f, _, _) in enumerate(CASES)]


def _first(wrt):
    return wrt[0] if isinstance(wrt, tuple) else wrt


def _unit(x, i):
    e = np.zeros(np.size(x))
    e[i] = 1.0
    return e.reshape(np.shape(x)) if np.ndim(x) else float(e[0])


def fd_jacobian(fun, args, p, eps=1e-5):
    """Central differences of ``fun`` along each entry of ``args[p]``: shape out + x."""
    x = args[p]
    cols = []
    for i in range(int(np.size(x))):
        hi, lo = list(args), list(args)
        hi[p] = x + eps * _unit(x, i)
        lo[p] = x - eps * _unit(x, i)
        cols.append((np.asarray(fun(*hi), dtype=float) - np.asarray(fun(*lo), dtype=float)) / (2 * eps))
    out_shape = np.shape(cols[0])
    return np.moveaxis(np.array(cols), 0, -1).reshape(out_shape + np.shape(x))


@pytest.mark.parametrize("fun,args,wrt", CASES, ids=IDS)
def test_hessian_matches_differences_of_the_gradient(fun, args, wrt):
    p = _first(wrt)
    H = adjoint.hessian(fun, p)(*args)
    x = args[p]
    assert np.shape(H) == np.shape(x) * 2
    want = fd_jacobian(adjoint.grad(fun, p), args, p)
    np.testing.assert_allclose(H, want, rtol=1e-4, atol=1e-5)
    n = int(np.size(x))
    M = np.reshape(H, (n, n))
    np.testing.assert_allclose(M, M.T, rtol=1e-9, atol=1e-9)


def mlp_loss(W1, x, W2):
    h = np.tanh(x @ W1)
    return np.sum((h @ W2) ** 2) / 2 + 0.1 * np.sum(W1 ** 2)


def test_hvp_equals_hessian_times_vector():
    rng = np.random.default_rng(0)
    W1, x, W2 = rng.normal(size=(3, 4)), rng.normal(size=(5, 3)), rng.normal(size=(4, 2))
    v = rng.normal(size=(3, 4))
    H = adjoint.hessian(mlp_loss)(W1, x, W2)
    hv = adjoint.hvp(mlp_loss)(W1, x, W2, v)
    assert hv.shape == W1.shape
    np.testing.assert_allclose(hv, np.tensordot(H, v, axes=2), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(H.reshape(12, 12), H.reshape(12, 12).T, atol=1e-12)


def test_second_derivatives_are_cached():
    H = adjoint.hessian(mlp_loss)
    rng = np.random.default_rng(1)
    args = rng.normal(size=(3, 4)), rng.normal(size=(5, 3)), rng.normal(size=(4, 2))
    H(*args)
    size = len(api._CACHE)
    H(*args)
    adjoint.hessian(mlp_loss)(*args)
    adjoint.hvp(mlp_loss)(*args, np.ones((3, 4)))
    assert len(api._CACHE) == size
    assert "def mlp_loss_grad_jvp(W1, x, W2, W1_dot):" in H.source


def sin_x2(x):
    return math.sin(x) * x ** 2


def test_grad_of_grad_closed_form():
    d2 = adjoint.grad(adjoint.grad(sin_x2))
    x = 0.7
    want = 2 * math.sin(x) + 4 * x * math.cos(x) - x * x * math.sin(x)
    assert d2(x) == pytest.approx(want, rel=1e-12)
    assert isinstance(d2(x), float)


def mixed(x, y):
    return x ** 2 * y ** 3 + np.sin(x * y)


def test_mixed_partial():
    """d/dx (df/dy) = 6 x y^2 + cos(xy) - xy sin(xy)."""
    x, y = 0.4, 1.3
    got = adjoint.grad(adjoint.grad(mixed, wrt=1), wrt=0)(x, y)
    want = 6 * x * y ** 2 + np.cos(x * y) - x * y * np.sin(x * y)
    assert got == pytest.approx(want, rel=1e-12)


def scalar_weight(w, x):
    return np.sum(np.tanh(w * x) ** 2)


def test_grad_of_grad_through_a_loop():
    d2 = adjoint.grad(adjoint.grad(c.scalar_loop, wrt=0), wrt=0)
    args = (0.9, 0.3, 0.5)
    want = fd_jacobian(adjoint.grad(c.scalar_loop, wrt=0), args, 0)
    assert d2(*args) == pytest.approx(float(want), rel=1e-6)


def test_grad_of_a_jacobian_is_refused_clearly():
    with pytest.raises(adjoint.AdjointError, match="grad of a gradient"):
        adjoint.grad(adjoint.jacobian(sin_x2))


def test_grad_of_grad_needs_a_scalar_gradient():
    with pytest.raises(adjoint.AdjointError, match="hessian"):
        adjoint.grad(adjoint.grad(scalar_weight))(np.ones(3), np.ones(3))


def vector_map(x, A):
    return np.tanh(A @ x) * x[0]


@pytest.mark.parametrize("mode", ["auto", "forward", "reverse"])
def test_jacobian(mode):
    rng = np.random.default_rng(2)
    x, A = rng.normal(size=3), rng.normal(size=(5, 3))
    J = adjoint.jacobian(vector_map, mode=mode)(x, A)
    assert J.shape == (5, 3)
    np.testing.assert_allclose(J, fd_jacobian(vector_map, (x, A), 0), rtol=1e-6, atol=1e-8)
    JA = adjoint.jacobian(vector_map, wrt="A", mode=mode)(x, A)
    assert JA.shape == (5, 5, 3)
    np.testing.assert_allclose(JA, fd_jacobian(vector_map, (x, A), 1), rtol=1e-6, atol=1e-8)


def test_hessian_through_sort():
    """The adjoint of sort has a forward rule: the Hessian of sum(sort(x)^3) is diag(6 x)."""
    def sorted_sum(x):
        return np.sum(np.sort(x) ** 3)
    x = np.array([0.3, 0.1, 0.2])
    np.testing.assert_allclose(adjoint.hessian(sorted_sum)(x), np.diag(6 * x), rtol=1e-12)


def abs_squared(z):
    return np.abs(z) ** 2 + np.abs(z)


def test_hvp_of_abs_at_a_complex_point():
    """The gradient of |z|^2 + |z| is 2z + z/|z|; its derivative along v, by differences."""
    z, v = 1.0 + 2.0j, 0.3 - 0.5j
    grad = adjoint.grad(abs_squared)
    h = 1e-6
    want = (grad(z + h * v) - grad(z - h * v)) / (2 * h)
    assert adjoint.hvp(abs_squared)(z, v) == pytest.approx(want, rel=1e-6)


def test_hessian_with_respect_to_two_arguments():
    """Blocks ((H_xx, H_xy), (H_yx, H_yy)), H_ij of shape x_i.shape + x_j.shape, from FD of grad."""
    x, y = np.array([0.3, 0.7]), np.array([1.1, -0.4, 0.2])
    H = adjoint.hessian(two_args, wrt=(0, 1))(x, y)
    args = (x, y)
    for i in range(2):
        for j in range(2):
            want = fd_jacobian(adjoint.grad(two_args, i), args, j)
            assert H[i][j].shape == np.shape(args[i]) + np.shape(args[j])
            np.testing.assert_allclose(H[i][j], want, rtol=1e-6, atol=1e-8)
    np.testing.assert_allclose(H[0][1], H[1][0].T, atol=1e-12)
    hv = adjoint.hvp(two_args, wrt=(0, 1))(x, y, (np.ones(2), np.ones(3)))
    np.testing.assert_allclose(hv[0], H[0][0] @ np.ones(2) + H[0][1] @ np.ones(3))
    np.testing.assert_allclose(hv[1], H[1][0] @ np.ones(2) + H[1][1] @ np.ones(3))


def two_args(x, y):
    return np.sum(x ** 2 * y[0]) + np.sum(np.sin(y) * x[1]) + x[0] * y[2] ** 3


def test_scalar_hessian_blocks():
    H = adjoint.hessian(mixed, wrt=(0, 1))(0.4, 1.3)
    x, y = 0.4, 1.3
    assert float(H[0][1]) == pytest.approx(6 * x * y ** 2 + np.cos(x * y) - x * y * np.sin(x * y))
    assert float(H[1][0]) == pytest.approx(float(H[0][1]))


def test_grad_of_grad_refuses_several_arguments():
    with pytest.raises(adjoint.WrtError, match="one argument"):
        adjoint.grad(adjoint.grad(mixed, wrt=1), wrt=(0, 1))


def det(a):
    return np.linalg.det(a)


def test_a_function_named_like_a_runtime_helper():
    """grad of a function named det is det_grad: it must not hide the runtime's det_grad."""
    a = np.array([[2.0, 0.3], [0.1, 1.5]])
    np.testing.assert_allclose(adjoint.grad(det)(a), np.linalg.det(a) * np.linalg.inv(a).T)


def test_hessian_of_det():
    """d2 det / dA_ij dA_kl from differences of the gradient (det A inv(A)^T)."""
    a = np.array([[2.0, 0.3, 0.1], [0.1, 1.5, -0.2], [0.4, 0.0, 1.0]])
    H = adjoint.hessian(det)(a)
    np.testing.assert_allclose(H, fd_jacobian(adjoint.grad(det), (a,), 0), rtol=1e-6, atol=1e-8)


def _stacked(x):
    return np.sum(np.sin(np.stack([x, x * x])) * np.cumsum(x))


def _joined(x):
    return np.sum(np.tanh(np.concatenate([x[:2] * x[1], x])) ** 2)


@pytest.mark.parametrize("fun", [_stacked, _joined])
def test_hvp_through_stack_concatenate_and_cumsum(fun):
    """Their adjoints (unstack, unconcatenate, cumsum_grad) are differentiated again, not refused."""
    x, v = np.array([0.3, -0.7, 1.1]), np.array([0.5, 0.2, -0.4])
    grad = adjoint.grad(fun)
    h = 1e-5
    want = (grad(x + h * v) - grad(x - h * v)) / (2 * h)
    np.testing.assert_allclose(adjoint.hvp(fun)(x, v), want, rtol=1e-6, atol=1e-8)


def swapped_then_written(a, b, s):
    a, b = b, a
    s[0] *= np.sum(a)
    return np.sum(np.sin(a) * b) + np.sum(s ** 2)


def test_hvp_with_a_parameter_made_active_later():
    """Parameters outside wrt that a swap or a write makes active: hvp = FD of the gradient."""
    a, b, s = np.array([0.3, -0.7, 1.1]), np.array([0.2, 0.5, -0.4]), np.array([0.4, 0.9])
    v = np.array([0.6, -0.2, 0.5])
    hv = adjoint.hvp(swapped_then_written, wrt=1)(a, b, s, v)
    want = fd_jacobian(adjoint.grad(swapped_then_written, 1), [a, b, s], 1) @ v
    np.testing.assert_allclose(hv, want, rtol=1e-6, atol=1e-8)


def restored_through_a_view(k1):
    h = (1.0 / (1.5 + k1[-1] * np.ones((2, 3)))).T
    h[1, 0] += k1[0]
    return np.sum(h ** 2)


def restored_through_an_alias(B, y):
    out = B ** 2 * y
    x_tape = y
    x_tape[-1] = out[-1]
    return 0.5 * np.sum(out ** 2) + np.sum(x_tape * B)


@pytest.mark.parametrize("fun,args", [
    (restored_through_a_view, (np.array([0.3, -0.5, 0.8]),)),
    (restored_through_an_alias, (0.7, np.array([0.3, 0.4, 0.9])))])
def test_hvp_keeps_a_tape_restore_seen_through_another_name(fun, args):
    """The gradient restores a written entry through a view or alias; the base is read after."""
    v = np.array([0.2, 0.7, -0.4]) if np.ndim(args[0]) else 1.3
    hv = adjoint.hvp(fun)(*[np.copy(a) for a in args], v)
    want = np.tensordot(fd_jacobian(adjoint.grad(fun), list(args), 0), v, axes=np.ndim(v))
    np.testing.assert_allclose(np.atleast_1d(hv), np.atleast_1d(want), rtol=1e-6, atol=1e-8)


def adjoint_named_parameters(x_bar, t1):
    return np.sum(np.sin(x_bar) * t1) ** 2


def test_second_order_of_parameters_named_like_generated_names():
    """The gradient's own ``x_bar`` is renamed when it is differentiated again; ``wrt`` follows."""
    x, t, v = np.array([0.3, 0.5]), np.array([1.0, 2.0]), np.array([1.0, -1.0])
    h = adjoint.hessian(adjoint_named_parameters, (0, 1))(x, t)
    hv = adjoint.hvp(adjoint_named_parameters, (0, 1))(x, t, (v, v))
    np.testing.assert_allclose(hv[0], h[0][0] @ v + h[0][1] @ v, rtol=1e-10)
    np.testing.assert_allclose(hv[1], h[1][0] @ v + h[1][1] @ v, rtol=1e-10)
    s = np.sum(np.sin(x) * t)  # closed form: d2/dx2 of s**2 is 2 (cos x t)(cos x t)^T - 2 s diag(sin x t)
    want = 2 * np.outer(np.cos(x) * t, np.cos(x) * t) - 2 * s * np.diag(np.sin(x) * t)
    np.testing.assert_allclose(h[0][0], want, rtol=1e-10)


def _chosen(a, x, c):
    return np.log(1.0 + np.where(a > 0.3, x, c) ** 2)


def chosen_in_a_helper(x, c):
    return np.sum(_chosen(x, x, c)) + np.sum(x ** 3)


def _turned(a, w):
    t = np.transpose(np.outer(a, w).reshape(3, 2), (-1, 0))
    return np.sum(np.sin(t) * w[:2, None])


def turned_in_a_helper(x, w):
    return _turned(x ** 2, w) * np.sum(x)


def _spread(e):
    m = np.min(e, axis=-1, keepdims=True)
    return np.sum((e - m) ** 2 * e)


def spread_in_a_helper(x):
    return _spread(np.sin(x) * np.ones((2, 3)))


def _stepped(x):
    s = 0.0
    for i in range(3):
        y = np.where(x > 0.1 * i, x, x ** 2)
        x = np.sin(y) + x
        t = np.transpose(np.outer(x, x), (1, 0))
        s = s + np.sum(t * np.min(x * np.ones((2, 3)), axis=-1)[0])
    return s


def stepped_in_a_helper(x):
    return _stepped(x) + np.sum(x)


@pytest.mark.parametrize("fun,args", [
    (stepped_in_a_helper, (np.array([0.3, -0.2, 0.5]),)),
    (chosen_in_a_helper, (np.array([0.1, 0.7, -0.4]), 0.6)),
    (turned_in_a_helper, (np.array([0.3, -0.8]), np.array([0.5, 1.2, -0.7]))),
    (spread_in_a_helper, (np.array([0.2, 0.9, -0.5]),))])
def test_hvp_through_a_helper_saving_values_without_a_derivative(fun, args):
    """A helper's backward sweep unpacks a mask, a tuple of axes or an axis from its saved
    tuple (with active values beside them), or their tapes in a loop: differentiated again,
    they carry no derivative."""
    v = np.linspace(-0.6, 0.9, np.size(args[0])).reshape(np.shape(args[0]))
    hv = adjoint.hvp(fun)(*args, v)
    want = fd_jacobian(adjoint.grad(fun), list(args), 0) @ v
    np.testing.assert_allclose(hv, want, rtol=1e-6, atol=1e-8)


def _held(x):
    with adjoint.no_grad():
        c = x ** 2
    return np.sum(c * np.sin(x))


def held_in_a_helper(x):
    return _held(x) + np.sum(x)


def test_hvp_through_a_helper_differentiates_its_no_grad_values_as_the_gradient_computes_them():
    """A value of a ``no_grad`` block varies with the argument: the gradient reads it, so its
    derivative is part of the gradient's (the saved value is not one without a derivative)."""
    x, v = np.array([0.3, -0.2, 0.5]), np.array([0.2, 0.1, -0.4])
    want = fd_jacobian(adjoint.grad(held_in_a_helper), [x], 0) @ v
    np.testing.assert_allclose(adjoint.hvp(held_in_a_helper)(x, v), want, rtol=1e-6, atol=1e-8)


@adjoint.custom_vjp
def _squared(x):
    return x * x


@_squared.defvjp
def _squared_vjp(g, ans, x):
    return (2 * x * g,)


def squared_by_a_custom_rule(x):
    y = np.sin(x)
    return np.sum(_squared(y))  # no forward rule


def test_a_refusal_in_generated_code_names_the_users_line():
    """Differentiating the gradient again fails at a generated line: the error names the
    user's line that code came from, and the generated line after it."""
    with pytest.raises(adjoint.NotDifferentiableError) as info:
        adjoint.hvp(squared_by_a_custom_rule)(np.array([0.3, 0.5]), np.ones(2))
    exc = info.value
    assert exc.filename == __file__
    assert "# no forward rule" in open(__file__).read().splitlines()[exc.lineno - 1]
    assert exc.generated_place[0].startswith("<adjoint: grad of squared_by_a_custom_rule")
    assert "in the code generated for its derivative" in str(exc)
