"""Custom rules are called by name; stop_gradient and no_grad cut derivatives."""
import numpy as np
import pytest

import adjoint
from adjoint.testing import check_grad

from . import custom_cases as cc


def test_custom_rule_is_used_even_when_wrong():
    x = np.array([1.0, -2.0])
    g = adjoint.grad(cc.uses_custom)
    np.testing.assert_allclose(g(x), 100.0 * x)  # the true derivative would be 6 x
    assert "scaled_square_vjp(" in g.source  # called by name in the generated code


def test_correct_custom_rule_matches_finite_differences():
    check_grad(cc.uses_safe_log, np.array([0.5, 2.0, 3.0]))


def test_custom_function_still_computes_its_value():
    assert cc.scaled_square(2.0, 3.0) == 12.0


def test_stop_gradient_treats_value_as_constant():
    x = np.array([0.1, 0.7, 0.3])
    expected = np.exp(x - np.max(x))  # m is a constant for differentiation
    np.testing.assert_allclose(adjoint.grad(cc.uses_stop_gradient)(x), expected)


@pytest.mark.parametrize("hessian", ["hvp", "hessian"])
def test_stop_gradient_is_a_constant_in_every_order(hessian):
    """f = sum(s x^2 sin x), s the stopped x: the second derivative holds s fixed too (as
    jax.lax.stop_gradient does), so it is not the finite difference of the gradient."""
    x, v = np.array([0.3, 0.7, 1.1]), np.array([1.0, -0.5, 0.25])
    s = x
    expected = s * (2 * np.sin(x) + 4 * x * np.cos(x) - x**2 * np.sin(x)) * v
    if hessian == "hvp":
        got = adjoint.hvp(cc.uses_stopped_square)(x, v)
    else:
        got = adjoint.hessian(cc.uses_stopped_square)(x) @ v
    np.testing.assert_allclose(got, expected, rtol=1e-12)


def test_no_grad_block_carries_no_derivative():
    x, w = np.array([1.0, 2.0]), np.array([0.5, -1.0])
    scale = np.sum(x * w)
    np.testing.assert_allclose(adjoint.grad(cc.uses_no_grad, wrt=1)(x, w), x * scale)
    assert cc.uses_no_grad(x, w) == np.sum(w * x) * scale  # the block still runs normally


def test_custom_jvp_rule_is_called_in_forward_mode():
    x, v = np.array([0.2, -0.4, 0.9]), np.array([1.0, 0.5, -2.0])
    out, out_dot = adjoint.jvp(cc.uses_softclip)((x,), (v,))
    y = 3.0 * np.tanh(2.0 * x / 3.0)
    true_tangent = 2 * y * (1 - (y / 3.0) ** 2) * 2.0 * v
    assert out == pytest.approx(np.sum(y ** 2))
    np.testing.assert_allclose(out_dot, 10.0 * np.sum(true_tangent))
    assert "softclip_jvp(" in adjoint.source(cc.uses_softclip, mode="jvp")


def test_custom_vjp_only_is_refused_in_forward_mode():
    with pytest.raises(adjoint.NotDifferentiableError, match="forward-mode"):
        adjoint.jvp(cc.uses_custom)((np.ones(3),), (np.ones(3),))


def test_a_lambda_as_the_rule():
    x = np.array([0.5, -2.0, 0.25])
    np.testing.assert_allclose(adjoint.grad(cc.uses_a_lambda_rule)(x), 2 * x * (np.abs(x) < 1.0))
