"""A user's typed training script: ``mypy --strict`` must accept it (tests/test_typing.py)."""
from __future__ import annotations

from typing import Any, Callable

import numpy as np
import numpy.typing as npt

import adjoint
from adjoint import optim

Array = npt.NDArray[np.float64]


def loss(w: Array, X: Array, y: Array) -> float:
    pred = np.tanh(X @ w)
    return float(np.mean((pred - y) ** 2))


def loss_and_pred(w: Array, X: Array) -> tuple[float, Array]:
    pred = X @ w
    return float(np.sum(pred ** 2)), pred


def params_loss(params: dict[str, Array], X: Array, y: Array) -> float:
    return loss(params["w"], X, y)


class Linear:
    def __init__(self, w: Array) -> None:
        self.w = w


def linear_loss(model: Linear, X: Array, steps: int) -> float:
    total = 0.0
    for _ in adjoint.checkpointed(range(steps), snapshots=2):
        total = total + float(np.sum(X @ model.w))
    return total


def main() -> None:
    X: Array = np.ones((4, 3))
    y: Array = np.zeros(4)
    w: Array = np.zeros(3)
    dloss = adjoint.grad(loss)
    g: Array = dloss(w, X, y)
    print(g, dloss.source[:10])
    value, grads = adjoint.value_and_grad(loss, wrt=(0, 1))(w, X, y)
    total: float = value + 1.0
    (v2, pred), g2 = adjoint.value_and_grad(loss_and_pred, has_aux=True)(w, X)
    out, pullback, aux = adjoint.vjp(loss_and_pred, has_aux=True)(w, X)
    first: Array = pullback(1.0)
    out2, pullback2 = adjoint.vjp(loss)(w, X, y)
    decorated = adjoint.grad(wrt="w")(loss)
    step: Callable[[Array, Array, Array], Any] = decorated
    schedule = optim.warmup(optim.cosine_decay(1e-2, 100), 10)
    opt = optim.Adam(schedule, clip_norm=1.0)
    params: dict[str, Array] = {"w": w}
    state = opt.init(params)
    params, state = opt.update({"w": g}, state, params)
    trained, history = optim.fit(params_loss, params, (X, y), epochs=2, batch_size=2,
                                 optimizer=optim.RMSprop(1e-2), validation_data=(X, y),
                                 callbacks=[optim.EarlyStopping(patience=2)], progress=False)
    best: dict[str, Array] = trained
    adjoint.register_pytree(Linear, lambda m: ((m.w,), None), lambda aux, ch: Linear(*ch))
    model_grad = adjoint.grad(linear_loss)(Linear(w), X, 3)
    if not adjoint.check_grad(loss, w, X, y):
        raise SystemExit("wrong gradient")
    print(total, v2, pred, g2, out, aux, first, out2, pullback2, step, grads, best,
          history.val_loss, model_grad, adjoint.__version__)


if __name__ == "__main__":
    main()
