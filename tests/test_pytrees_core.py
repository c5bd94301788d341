"""Parameters as dicts, lists and tuples; has_aux; globals, closures and lambdas."""
import numpy as np
import pytest

import adjoint
from adjoint.testing import check_grad

from . import models

rng = np.random.default_rng(3)


def mlp_params():
    return {"W1": rng.normal(size=(3, 4)), "b1": rng.normal(size=4),
            "W2": rng.normal(size=(4, 2)), "b2": rng.normal(size=2)}


def test_dict_params_gradient_has_same_structure():
    params = mlp_params()
    X, Y = rng.normal(size=(5, 3)), rng.normal(size=(5, 2))
    g = adjoint.grad(models.mlp)(params, X, Y)
    assert isinstance(g, dict) and set(g) == set(params)
    for k in params:
        assert g[k].shape == params[k].shape
    check_grad(models.mlp, params, X, Y)


def test_list_of_tuples_params():
    params = [(rng.normal(size=(3, 3)), rng.normal(size=3)) for _ in range(2)]
    x = rng.normal(size=3)
    g = adjoint.grad(models.layers)(params, x)
    assert isinstance(g, list) and isinstance(g[0], tuple)
    check_grad(models.layers, params, x)


def test_nested_tree():
    tree = {"a": rng.normal(size=3), "pair": (0.7, rng.normal(size=2)), "list": [1.5, -0.5]}
    x = rng.normal(size=3)
    g = adjoint.grad(models.nested)(tree, x)
    assert isinstance(g["pair"], tuple) and isinstance(g["list"], list)
    assert isinstance(g["pair"][0], float)
    check_grad(models.nested, tree, x)


def test_has_aux():
    w, x = rng.normal(size=3), rng.normal(size=3)
    g, aux = adjoint.grad(models.with_aux, has_aux=True)(w, x)
    np.testing.assert_allclose(g, 2 * w * x * x)
    np.testing.assert_allclose(aux["pred"], w * x)
    assert aux["count"] == 3
    (value, aux2), g2 = adjoint.value_and_grad(models.with_aux, has_aux=True)(w, x)
    np.testing.assert_allclose(value, np.sum((w * x) ** 2))
    np.testing.assert_allclose(g2, g)


def test_global_rebinding_is_seen():
    g = adjoint.grad(models.uses_global)
    w = np.array([1.0, 2.0])
    np.testing.assert_allclose(g(w), 2 * 2.0 * w)
    old = models.SCALE
    models.SCALE = 5.0
    try:
        np.testing.assert_allclose(g(w), 2 * 5.0 * w)
    finally:
        models.SCALE = old


def test_closure():
    k = 3.0

    def f(x):
        return np.sum(k * x ** 2)

    np.testing.assert_allclose(adjoint.grad(f)(np.array([1.0, 2.0])), [6.0, 12.0])


def test_lambda():
    square = lambda x: x ** 3  # noqa: E731
    assert adjoint.grad(square)(2.0) == pytest.approx(12.0)


def test_dict_display():
    check_grad(models.builds_dict, rng.normal(size=4))


def test_float32_stays_float32():
    w = rng.normal(size=3).astype(np.float32)
    x = rng.normal(size=3).astype(np.float32)
    g = adjoint.grad(models.with_aux, has_aux=True)(w, x)[0]
    assert g.dtype == np.float32
