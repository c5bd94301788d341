"""The worked examples from the documentation, with exact values."""
import numpy as np

import adjoint


def mean_square(x):
    out = np.mean(3 * (x + 2) ** 2)
    return out


def doubling(x):
    y = 2 * x
    while np.linalg.norm(y) < 1000:
        y = 2 * y
    return y


def per_sample_loss(w, x, y):
    return (x * w - y) ** 2


def line_loss(w, b, X, Y):
    return np.mean((w * X + b - Y) ** 2)


def test_mean_of_square_gives_4_5_everywhere():
    g = adjoint.grad(mean_square)(np.ones((2, 2)))
    np.testing.assert_allclose(g, np.full((2, 2), 4.5))


def test_vjp_through_data_dependent_while():
    x = np.array([0.1, 1.0, 0.0001])
    seed = np.array([0.1, 1.0, 0.0001])
    out, pullback = adjoint.vjp(doubling)(x)
    k = int(np.log2(out[0] / x[0]))  # doublings, including the first y = 2x
    np.testing.assert_allclose(out, x * 2.0 ** k)
    np.testing.assert_allclose(pullback(seed), seed * 2.0 ** k)
    assert k == 10


def test_per_sample_gradient_is_minus_two():
    assert adjoint.grad(per_sample_loss)(1.0, 1.0, 2.0) == -2.0


def test_gradient_descent_fits_a_line():
    rng = np.random.default_rng(0)
    X = rng.uniform(0, 1, 200)
    Y = 2 + 3 * X + rng.normal(0, 0.05, 200)
    dloss = adjoint.grad(line_loss, wrt=(0, 1))
    w, b = 0.0, 0.0
    for _ in range(3000):
        gw, gb = dloss(w, b, X, Y)
        w, b = w - 0.5 * gw, b - 0.5 * gb
    assert abs(w - 3) < 0.05 and abs(b - 2) < 0.05
