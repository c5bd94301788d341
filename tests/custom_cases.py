"""Functions with custom rules, stop_gradient and no_grad."""
import numpy as np

import adjoint


@adjoint.custom_vjp
def scaled_square(x, k):
    return k * x ** 2


@scaled_square.defvjp
def scaled_square_vjp(g, ans, x, k):
    # deliberately not the true derivative (2 k x): proves the rule is what runs
    return (g * 100.0 * x, None)


def uses_custom(x):
    return np.sum(scaled_square(x, 3.0))


@adjoint.custom_vjp
def safe_log(x):
    return np.log(np.maximum(x, 1e-300))


@safe_log.defvjp
def safe_log_vjp(g, ans, x):
    return (g / np.maximum(x, 1e-12),)


def uses_safe_log(x):
    return np.sum(safe_log(x) * x)


def stopped_square(x):
    return adjoint.stop_gradient(x) * x ** 2


def uses_stopped_square(x):
    return np.sum(stopped_square(x) * np.sin(x))


def uses_stop_gradient(x):
    m = adjoint.stop_gradient(np.max(x))
    return np.sum(np.exp(x - m))


def uses_no_grad(x, w):
    with adjoint.no_grad():
        scale = np.sum(x * w)
    return np.sum(w * x) * scale


@adjoint.custom_jvp
def softclip(x, k):
    return k * np.tanh(x / k)


@softclip.defjvp
def softclip_jvp(ans, x, k, x_dot, k_dot):
    # deliberately 10x the true tangent (1 - tanh^2) x_dot: proves the rule runs
    return 10.0 * (1.0 - (ans / k) ** 2) * x_dot


def uses_softclip(x):
    return np.sum(softclip(x * 2.0, 3.0) ** 2)


@adjoint.custom_vjp
def clipped(x):
    return np.clip(x, -1.0, 1.0)


clipped.defvjp(lambda g, ans, x: (g * (np.abs(x) < 1.0),))  # a lambda: its name is "<lambda>"


def uses_a_lambda_rule(x):
    return np.sum(clipped(x) ** 2)
