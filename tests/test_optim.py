"""Optimizers against hand-computed steps and closed-form minima; the fit loop."""
import os

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


# -- schedules, clipping, RMSprop and Adagrad ------------------------------------------

from adjoint import optim  # noqa: E402


def test_schedules_by_formula():
    assert optim.constant(0.3)(0) == optim.constant(0.3)(1000) == 0.3
    decay = optim.exponential_decay(1.0, 0.5, steps=10)
    assert decay(0) == 1.0 and abs(decay(10) - 0.5) < 1e-12 and abs(decay(5) - 0.5 ** 0.5) < 1e-12
    stairs = optim.exponential_decay(1.0, 0.5, steps=10, staircase=True)
    assert stairs(9) == 1.0 and stairs(10) == 0.5
    cosine = optim.cosine_decay(1.0, steps=100, final=0.1)
    assert cosine(0) == 1.0 and abs(cosine(50) - 0.55) < 1e-12 and cosine(100) == cosine(500) == 0.1
    ramp = optim.warmup(cosine, steps=10)
    assert ramp(0) == 0.0 and abs(ramp(5) - 0.5) < 1e-12 and ramp(10) == 1.0 and ramp(60) == cosine(50)
    assert optim.warmup(0.2, steps=4, start=0.1)(2) == pytest.approx(0.15)


def test_optimizer_calls_a_schedule_with_the_step_count():
    seen = []

    def lr(step):
        seen.append(step)
        return 0.1

    opt = SGD(lr)
    p, state = np.array([1.0]), opt.init(np.array([1.0]))
    for _ in range(3):
        p, state = opt.update(np.array([1.0]), state, p)
    assert seen == [0, 1, 2]
    np.testing.assert_allclose(p, 1.0 - 0.3)
    halving = SGD(optim.exponential_decay(1.0, 0.5, steps=1, staircase=True))
    q, s = halving.update(1.0, halving.init(0.0), 0.0)
    q, s = halving.update(1.0, s, q)
    assert q == -1.5


def test_clip_by_global_norm_scales_every_leaf_together():
    grads = {"a": np.array([3.0, 0.0]), "b": 4.0}
    assert optim.global_norm(grads) == 5.0
    clipped = optim.clip_by_global_norm(grads, 1.0)
    np.testing.assert_allclose(clipped["a"], [0.6, 0.0])
    assert abs(clipped["b"] - 0.8) < 1e-12
    assert optim.clip_by_global_norm(grads, 10.0) is grads


def test_clip_by_value_and_optimizer_clipping():
    clipped = optim.clip_by_value({"a": np.array([-3.0, 0.5]), "b": 2.0}, 1.0)
    np.testing.assert_array_equal(clipped["a"], [-1.0, 0.5])
    assert clipped["b"] == 1.0 and isinstance(clipped["b"], float)
    p = np.array([0.0, 0.0])
    by_norm = SGD(1.0, clip_norm=1.0)
    np.testing.assert_allclose(by_norm.update(np.array([3.0, 4.0]), by_norm.init(p), p)[0],
                               [-0.6, -0.8])
    by_value = SGD(1.0, clip_value=0.5)
    np.testing.assert_allclose(by_value.update(np.array([3.0, -0.1]), by_value.init(p), p)[0],
                               [-0.5, 0.1])


def test_rmsprop_and_adagrad_first_steps_by_hand():
    p, g = np.array([1.0, -1.0]), np.array([0.2, -4.0])
    rms = optim.RMSprop(0.01, alpha=0.9)
    q, state = rms.update(g, rms.init(p), p)
    np.testing.assert_allclose(q, p - 0.01 * g / (np.sqrt(0.1 * g * g) + 1e-8))
    np.testing.assert_allclose(state["square"], 0.1 * g * g)
    ada = optim.Adagrad(0.1)
    q1, s = ada.update(g, ada.init(p), p)
    q2, s = ada.update(g, s, q1)
    np.testing.assert_allclose(q1, p - 0.1 * np.sign(g), rtol=1e-9)
    np.testing.assert_allclose(q2, q1 - 0.1 * g / np.sqrt(2 * g * g), rtol=1e-9)


@pytest.mark.parametrize("opt", [optim.RMSprop(0.01), optim.RMSprop(0.005, momentum=0.9),
                                 optim.Adagrad(0.5), SGD(optim.cosine_decay(0.2, 3000, 0.01))])
def test_new_optimizers_converge_on_quadratic(opt):
    target = {"a": np.array([1.0, -2.0]), "b": 3.0}
    params = {"a": np.zeros(2), "b": 0.0}
    state = opt.init(params)
    for _ in range(3000):
        params, state = opt.update(quadratic_grad(params, target), state, params)
    np.testing.assert_allclose(params["a"], target["a"], atol=2e-2)


# -- fit: epochs, validation, callbacks, errors, interruptions ---------------------------

def line_data(n=40, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.uniform(0, 1, n)
    return X, 2 + 3 * X + rng.normal(0, 0.01, n)


def test_fit_epochs_count_batches_and_record_validation():
    X, Y = line_data(40)
    params, history = fit(line_loss, {"w": 0.0, "b": 0.0}, (X, Y), epochs=5, batch_size=16,
                          validation_data=line_data(10, seed=1), optimizer=Adam(0.1),
                          progress=False)
    assert len(history) == 5 * 3  # 16 + 16 + 8 per epoch
    assert [e["epoch"] for e in history.epochs] == [1, 2, 3, 4, 5]
    assert len(history.val_loss) == 5 and history.val_loss[-1] < history.val_loss[0]
    assert history.loss[0] == pytest.approx(np.mean(history[:3]))
    assert history.stopped is None


def test_fit_without_shuffle_visits_the_data_in_order():
    seen = []

    def grad_fn(params, X):
        seen.append(X.tolist())
        return 0.0, 0.0

    fit(line_loss, 0.0, np.arange(5.0), epochs=2, batch_size=2, shuffle=False, grad_fn=grad_fn,
        optimizer=SGD(0.1), progress=False)
    assert seen == [[0.0, 1.0], [2.0, 3.0], [4.0]] * 2


def test_early_stopping_stops_and_restores_the_best_epoch():
    losses = iter([5.0, 4.0, 4.5, 4.2, 4.1, 3.0])
    calls = []

    def val_loss(params, X):
        return next(losses) if X.shape == (3,) else 0.0

    def grad_fn(params, X):
        calls.append(params)
        return 0.0, -1.0  # each step adds lr to the parameter

    stop = optim.EarlyStopping(patience=3)
    params, history = fit(val_loss, 0.0, np.ones(4), epochs=10, grad_fn=grad_fn, optimizer=SGD(1.0),
                          validation_data=np.ones(3), callbacks=[stop], progress=False)
    assert history.val_loss == [5.0, 4.0, 4.5, 4.2, 4.1]
    assert history.stopped == "early stopping at epoch 5"
    assert params == 2.0 and stop.best_epoch == 2  # the parameters after epoch 2
    assert len(history) == 5


def test_early_stopping_needs_what_it_monitors():
    with pytest.raises(ValueError, match="validation_data") as info:
        fit(line_loss, {"w": 0.0, "b": 0.0}, line_data(8), epochs=2, progress=False,
            callbacks=[optim.EarlyStopping(monitor="val_loss")])
    assert info.value.params is not None  # the parameters after the first epoch


def test_a_step_callback_stops_by_returning_true():
    params, history = fit(line_loss, {"w": 0.0, "b": 0.0}, line_data(8), steps=50, progress=False,
                          callbacks=[lambda step, p, loss: step == 4])
    assert len(history) == 4 and history.stopped == "stopped by a callback at step 4"


def test_a_callback_object_stops_after_an_epoch():
    class AtEpoch(optim.Callback):
        def on_epoch(self, epoch, params, logs):
            return epoch == 2

    params, history = fit(line_loss, {"w": 0.0, "b": 0.0}, line_data(8), epochs=9, batch_size=4,
                          progress=False, callbacks=[AtEpoch()])
    assert len(history.epochs) == 2 and len(history) == 4
    assert history.stopped == "early stopping at epoch 2"


class Boom(Exception):
    pass


def test_an_exception_in_a_callback_keeps_the_trained_parameters():
    def callback(step, params, loss):
        if step == 3:
            raise Boom("disk full")

    with pytest.raises(Boom) as info:
        fit(line_loss, {"w": 0.0, "b": 0.0}, line_data(8), steps=10, optimizer=SGD(0.1),
            progress=False, callback=callback)
    assert info.value.params["w"] != 0.0 and len(info.value.history) == 3


def test_ctrl_c_returns_the_parameters_trained_so_far(capsys):
    def callback(step, params, loss):
        if step == 3:
            raise KeyboardInterrupt

    params, history = fit(line_loss, {"w": 0.0, "b": 0.0}, line_data(8), steps=10,
                          optimizer=SGD(0.1), progress=False, callback=callback)
    assert len(history) == 3 and params["w"] != 0.0
    assert history.stopped == "interrupted at step 3"
    assert "interrupted at step 3" in capsys.readouterr().err


@pytest.mark.parametrize("data, kind, words", [
    ((np.ones(4), np.ones(5)), ValueError, "data[0]: 4, data[1]: 5"),
    ((np.ones(4), np.array(["a", "b", "c", "d"])), TypeError, "data[1] has dtype <U1"),
    ((np.ones(4), [[1.0], [2.0, 3.0]]), TypeError, "data[1] is not an array of numbers"),
    ((), ValueError, "data is empty"),
    ((np.ones(4), 3.0), ValueError, "data[1] is a single number"),
    (3.0, TypeError, "data must be a tuple of arrays sharing their first axis, such as (X, y), "
                     "not a float"),
    ({"X": np.ones(4)}, TypeError, "not a dict"),
])
def test_fit_data_errors_say_what_is_wrong(data, kind, words):
    with pytest.raises(kind) as info:
        fit(line_loss, {"w": 0.0, "b": 0.0}, data, steps=1, progress=False)
    assert words in str(info.value)


def test_fit_validation_data_and_argument_errors():
    with pytest.raises(ValueError, match=r"validation_data\[0\]: 3, validation_data\[1\]: 2"):
        fit(line_loss, {"w": 0.0, "b": 0.0}, line_data(8), validation_data=(np.ones(3), np.ones(2)))
    with pytest.raises(ValueError, match="steps or epochs"):
        fit(line_loss, {"w": 0.0, "b": 0.0}, line_data(8), steps=3, epochs=2)
    with pytest.raises(ValueError, match="batch_size"):
        fit(line_loss, {"w": 0.0, "b": 0.0}, line_data(8), batch_size=0)


def test_plain_progress_line_is_erased(capsys, monkeypatch):
    import sys
    monkeypatch.setitem(sys.modules, "tqdm", None)
    monkeypatch.setitem(sys.modules, "tqdm.auto", None)
    fit(line_loss, {"w": 0.0, "b": 0.0}, line_data(8), steps=12, progress=True)
    pieces = capsys.readouterr().err.split("\r")  # each write starts at the line's start
    assert "step 12/12" in pieces[-3] and pieces[-1] == ""
    assert set(pieces[-2]) == {" "} and len(pieces[-2]) >= max(map(len, pieces[:-2]))
    assert not any("\n" in p for p in pieces)


def test_tqdm_progress_bar_is_left_off_the_screen(capsys):
    pytest.importorskip("tqdm")
    fit(line_loss, {"w": 0.0, "b": 0.0}, line_data(8), steps=12, progress=True)
    err = capsys.readouterr().err
    assert "/12 [" in err and err.endswith("\r") and "\n" not in err  # tqdm(leave=False) erases it


def test_vjp_has_aux_returns_aux_and_a_reusable_pullback():
    from adjoint.testing import numerical_vjp

    def f(x):
        y = np.sin(x) * x
        return y, np.sum(x)

    x = np.array([0.3, -1.2, 2.0])
    out, pullback, aux = adjoint.vjp(f, has_aux=True)(x)
    np.testing.assert_allclose(out, np.sin(x) * x)
    assert aux == pytest.approx(np.sum(x))
    seed = np.array([1.0, -2.0, 0.5])
    want = numerical_vjp(lambda x: f(x)[0], (x,), [0], seed)[0]
    np.testing.assert_allclose(pullback(seed), want, rtol=1e-6)
    np.testing.assert_allclose(pullback(seed), want, rtol=1e-6)  # again, from a fresh sweep


def test_early_stopping_starts_afresh_in_each_fit():
    stop = optim.EarlyStopping(patience=1, monitor="loss")
    data = line_data(8)
    fit(line_loss, {"w": 0.0, "b": 0.0}, data, epochs=30, optimizer=SGD(0.3), callbacks=[stop],
        progress=False)  # a low best loss, which the next run's losses never reach
    params, history = fit(line_loss, {"w": 0.0, "b": 0.0}, data, epochs=3, optimizer=SGD(0.001),
                          callbacks=[stop], progress=False)
    assert len(history.epochs) == 3 and stop.best_epoch == 3


def _adjoint_frames(tb):
    import traceback
    package = os.path.dirname(adjoint.__file__) + os.sep
    return [f.f_code.co_filename for f, _ in traceback.walk_tb(tb)
            if f.f_code.co_filename.startswith(package)]


def test_fit_shows_its_errors_at_the_callers_line():
    """A loss adjoint cannot differentiate, or data fit cannot take: one frame of fit's, no more."""
    def loss(w, X):
        return np.sum(np.tahn(X @ w))

    with pytest.raises(adjoint.AdjointError, match="did you mean np.tanh") as info:
        fit(loss, np.zeros(2), (np.ones((4, 2)),), steps=2, progress=False)
    assert len(_adjoint_frames(info.tb)) == 1 and info.value.params is not None
    with pytest.raises(ValueError, match="lengths differ") as info:
        fit(line_loss, {"w": 0.0, "b": 0.0}, (np.ones(3), np.ones(2)), progress=False)
    assert len(_adjoint_frames(info.tb)) == 1
