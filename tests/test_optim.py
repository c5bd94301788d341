"""Optimizers against hand-computed steps and closed-form minima; the fit loop."""
import numpy as np
import pytest

import adjoint
from adjoint.optim import SGD, Adam, AdamW, fit
from adjoint.pytree import tree_leaves


def quadratic_grad(params, target):
    return {k: params[k] - target[k] for k in params}


@pytest.mark.parametrize("opt", [SGD(0.1), SGD(0.05, momentum=0.9), SGD(0.05, momentum=0.9, nesterov=True),
                                 Adam(0.05), AdamW(0.05, weight_decay=0.0)])
def test_converges_to_minimum_of_quadratic(opt):
    target = {"a": np.array([1.0, -2.0]), "b": 3.0}
    params = {"a": np.zeros(2), "b": 0.0}
    state = opt.init(params)
    for _ in range(2000):
        params, state = opt.update(quadratic_grad(params, target), state, params)
    np.testing.assert_allclose(params["a"], target["a"], atol=1e-3)
    assert abs(params["b"] - 3.0) < 1e-3


def test_sgd_momentum_first_steps_by_hand():
    p, g = np.array([1.0]), np.array([0.5])
    opt = SGD(0.1, momentum=0.9)
    state = opt.init(p)
    p1, state = opt.update(g, state, p)          # v = g
    np.testing.assert_allclose(p1, 1.0 - 0.1 * 0.5)
    p2, state = opt.update(g, state, p1)         # v = 0.9 * 0.5 + 0.5
    np.testing.assert_allclose(p2, p1 - 0.1 * 0.95)
    nest = SGD(0.1, momentum=0.9, nesterov=True)
    s = nest.init(p)
    q1, s = nest.update(g, s, p)                 # v = g; step g + 0.9 v
    np.testing.assert_allclose(q1, 1.0 - 0.1 * (0.5 + 0.45))


def test_weight_decay_couples_into_gradient_for_sgd_and_adam_but_not_adamw():
    p, g = np.array([2.0]), np.array([0.0])
    np.testing.assert_allclose(SGD(0.1, weight_decay=0.5).update(g, SGD(0.1).init(p), p)[0], 2.0 - 0.1 * 1.0)
    adam = Adam(0.1, weight_decay=0.5)
    q, _ = adam.update(g, adam.init(p), p)
    np.testing.assert_allclose(q, 2.0 - 0.1 * 1.0 / (1.0 + 1e-8))  # m/c1 = v**0.5/c2 = |g + wd p|
    adamw = AdamW(0.1, weight_decay=0.5)
    r, _ = adamw.update(g, adamw.init(p), p)
    np.testing.assert_allclose(r, 2.0 * (1 - 0.1 * 0.5))  # zero gradient: only the decay acts


def test_adam_first_step_by_hand():
    p, g = np.array([1.0, -1.0]), np.array([0.2, -4.0])
    q, state = Adam(0.01).update(g, Adam(0.01).init(p), p)
    np.testing.assert_allclose(q, p - 0.01 * g / (np.abs(g) + 1e-8))
    assert state["step"] == 1


def test_update_does_not_mutate():
    params = {"w": np.ones(3)}
    grads = {"w": np.ones(3)}
    opt = Adam(0.1)
    state = opt.init(params)
    opt.update(grads, state, params)
    np.testing.assert_array_equal(params["w"], np.ones(3))
    assert all(np.all(x == 0) for x in tree_leaves(state["m"]))


def line_loss(params, X, Y):
    return np.mean((params["w"] * X + params["b"] - Y) ** 2)


def test_fit_linear_regression_with_minibatches():
    rng = np.random.default_rng(0)
    X = rng.uniform(0, 1, 256)
    Y = 2 + 3 * X + rng.normal(0, 0.05, 256)
    params, history = fit(line_loss, {"w": 0.0, "b": 0.0}, (X, Y), steps=1500, batch_size=32,
                          optimizer=Adam(0.05), progress=False)
    assert abs(params["w"] - 3) < 0.1 and abs(params["b"] - 2) < 0.1
    assert np.mean(history[-50:]) < history[0] / 10
    again, history2 = fit(line_loss, {"w": 0.0, "b": 0.0}, (X, Y), steps=20, batch_size=32,
                          optimizer=Adam(0.05), progress=False)
    _, history3 = fit(line_loss, {"w": 0.0, "b": 0.0}, (X, Y), steps=20, batch_size=32,
                      optimizer=Adam(0.05), progress=False)
    assert history2 == history3  # batches are drawn from a seeded generator


def test_fit_uses_given_grad_fn_and_callback():
    calls = []

    def grad_fn(params, X, Y):
        return 1.0, {"w": 1.0, "b": 0.0}

    params, history = fit(line_loss, {"w": 0.0, "b": 0.0}, (np.ones(4), np.ones(4)), steps=3,
                          optimizer=SGD(0.5), grad_fn=grad_fn, progress=False,
                          callback=lambda step, p, v: calls.append(step))
    assert params["w"] == -1.5 and history == [1.0, 1.0, 1.0] and calls == [1, 2, 3]


def test_fit_plain_progress(capsys, monkeypatch):
    import sys
    monkeypatch.setitem(sys.modules, "tqdm", None)  # force the plain-text fallback
    monkeypatch.setitem(sys.modules, "tqdm.auto", None)
    fit(line_loss, {"w": 0.0, "b": 0.0}, (np.ones(4), np.ones(4)), steps=3, progress=True,
        grad_fn=adjoint.value_and_grad(line_loss))
    assert "step 3/3" in capsys.readouterr().err
