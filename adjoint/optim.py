"""Optimizers over pytrees, and a small training loop.

Each optimizer is a pair of pure functions: ``init(params) -> state`` and
``update(grads, state, params) -> (params, state)``. Nothing is mutated, so a
training step is easy to test, checkpoint or differentiate, and parameters can
be any pytree (dicts, lists, tuples of arrays and floats).
"""
from __future__ import annotations

import sys
from dataclasses import dataclass

import numpy as np

from .pytree import tree_flatten, tree_unflatten

__all__ = ["SGD", "Adam", "AdamW", "fit"]


def _leafwise(fn, params, *trees):
    """Apply ``fn`` to matching leaves; returns a tuple of trees, one per output of ``fn``."""
    leaves, treedef = tree_flatten(params)
    others = [tree_flatten(t)[0] for t in trees]
    results = [fn(p, *rest) for p, rest in zip(leaves, zip(*others))] if others else \
        [fn(p) for p in leaves]
    return tuple(tree_unflatten(treedef, list(col)) for col in zip(*results))


def _zeros(params):
    return _leafwise(lambda p: (np.zeros_like(np.asarray(p, dtype=float)) if np.ndim(p) else 0.0,),
                     params)[0]


@dataclass(frozen=True)
class SGD:
    """Stochastic gradient descent with momentum, Nesterov momentum and weight decay (PyTorch semantics)."""
    lr: float
    momentum: float = 0.0
    nesterov: bool = False
    weight_decay: float = 0.0

    def init(self, params):
        return {"step": 0, "velocity": _zeros(params)}

    def update(self, grads, state, params):
        first = state["step"] == 0

        def leaf(p, g, v):
            g = g + self.weight_decay * p
            if self.momentum:
                v = g if first else self.momentum * v + g
                g = g + self.momentum * v if self.nesterov else v
            return p - self.lr * g, v

        new_params, velocity = _leafwise(leaf, params, grads, state["velocity"])
        return new_params, {"step": state["step"] + 1, "velocity": velocity}


@dataclass(frozen=True)
class Adam:
    """Adam with bias correction; ``weight_decay`` adds an L2 term to the gradient (as torch.optim.Adam)."""
    lr: float = 1e-3
    b1: float = 0.9
    b2: float = 0.999
    eps: float = 1e-8
    weight_decay: float = 0.0
    decoupled = False

    def init(self, params):
        return {"step": 0, "m": _zeros(params), "v": _zeros(params)}

    def update(self, grads, state, params):
        t = state["step"] + 1
        c1, c2 = 1 - self.b1 ** t, 1 - self.b2 ** t

        def leaf(p, g, m, v):
            if self.decoupled:
                p = p * (1 - self.lr * self.weight_decay)
            else:
                g = g + self.weight_decay * p
            m = self.b1 * m + (1 - self.b1) * g
            v = self.b2 * v + (1 - self.b2) * g * g
            return p - self.lr * (m / c1) / (np.sqrt(v / c2) + self.eps), m, v

        new_params, m, v = _leafwise(leaf, params, grads, state["m"], state["v"])
        return new_params, {"step": t, "m": m, "v": v}


@dataclass(frozen=True)
class AdamW(Adam):
    """Adam with decoupled weight decay (as torch.optim.AdamW)."""
    weight_decay: float = 1e-2
    decoupled = True


def _batches(n, batch_size, rng):
    """Endless minibatch index arrays: a fresh permutation each epoch."""
    while True:
        if batch_size is None or batch_size >= n:
            yield slice(None)
            continue
        order = rng.permutation(n)
        for start in range(0, n - batch_size + 1, batch_size):
            yield order[start:start + batch_size]


class _Progress:
    """A one-line progress display on stderr: tqdm when installed, else plain text."""

    def __init__(self, steps, enabled):
        self.bar = None
        self.enabled = enabled
        self.steps = steps
        if enabled:
            try:
                from tqdm.auto import tqdm
                self.bar = tqdm(total=steps, leave=False)
            except ImportError:
                pass

    def update(self, step, loss):
        if not self.enabled:
            return
        if self.bar is not None:
            self.bar.update(1)
            self.bar.set_postfix(loss=f"{loss:.4g}", refresh=False)
        elif step % max(1, self.steps // 100) == 0 or step == self.steps:
            sys.stderr.write(f"\rstep {step}/{self.steps}  loss {loss:.4g}")
            sys.stderr.flush()

    def close(self):
        if self.bar is not None:
            self.bar.close()
        elif self.enabled:
            sys.stderr.write("\n")


def fit(loss, params, data, *, steps=100, batch_size=None, optimizer=None, grad_fn=None, seed=0,
        progress=None, callback=None):
    """Minimise ``loss(params, *batch)`` over minibatches of ``data``; returns (params, history).

    ``data`` is a tuple of arrays sharing their first axis; ``optimizer`` defaults
    to ``Adam(1e-2)``; ``grad_fn(params, *batch) -> (value, grads)`` defaults to
    ``adjoint.value_and_grad(loss)``. A progress bar is shown when stderr is a
    terminal (``progress=False`` hides it). ``callback(step, params, value)`` runs
    after every step.
    """
    if grad_fn is None:
        from .api import value_and_grad
        grad_fn = value_and_grad(loss)
    optimizer = optimizer or Adam(1e-2)
    data = tuple(data)
    n = len(data[0])
    rng = np.random.default_rng(seed)
    batches = _batches(n, batch_size, rng)
    state = optimizer.init(params)
    show = sys.stderr.isatty() if progress is None else bool(progress)
    bar = _Progress(steps, show)
    history = []
    try:
        for step in range(1, steps + 1):
            index = next(batches)
            value, grads = grad_fn(params, *(d[index] for d in data))
            params, state = optimizer.update(grads, state, params)
            history.append(float(value))
            bar.update(step, history[-1])
            if callback is not None:
                callback(step, params, value)
    finally:
        bar.close()
    return params, history
