"""Optimizers over pytrees: SGD, Adam, AdamW, RMSprop and Adagrad (PyTorch's semantics).

Each optimizer is a pair of pure functions: ``init(params) -> state`` and
``update(grads, state, params) -> (params, state)``. Nothing is mutated, so a
training step is easy to test, checkpoint or differentiate, and parameters can
be any pytree (dicts, lists, tuples of arrays and floats). Every optimizer
takes a learning rate or a schedule (``lr``), and clips the gradients first
when asked (``clip_norm``: their global norm, ``clip_value``: each entry).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable, TypeVar

import numpy as np

from ..pytree import tree_flatten, tree_unflatten
from .clipping import clip_by_global_norm, clip_by_value
from .schedules import LearningRate, learning_rate

__all__ = ["Optimizer", "SGD", "Adam", "AdamW", "RMSprop", "Adagrad"]

T = TypeVar("T")
State = dict[str, Any]


def _leafwise(fn: Callable[..., tuple[Any, ...]], params: Any, *trees: Any) -> tuple[Any, ...]:
    """Apply ``fn`` to matching leaves; returns a tuple of trees, one per output of ``fn``."""
    leaves, treedef = tree_flatten(params)
    others = [tree_flatten(t)[0] for t in trees]
    results = [fn(p, *rest) for p, rest in zip(leaves, zip(*others))] if others else \
        [fn(p) for p in leaves]
    return tuple(tree_unflatten(treedef, list(col)) for col in zip(*results))


def _zeros(params: Any, fill: float = 0.0) -> Any:
    """A slot of the optimizer's state: ``fill`` shaped like each parameter."""
    return _leafwise(lambda p: (np.full(np.shape(p), fill) if np.ndim(p) else fill,), params)[0]


@dataclass(frozen=True)
class Optimizer:
    """What every optimizer shares: the learning rate (or schedule), clipping, the step count.

    A subclass gives ``slots(params)`` (its state besides the step) and
    ``step(grads, state, params, lr)``, which returns the new parameters and slots.
    """
    lr: LearningRate
    clip_norm: float | None = field(default=None, kw_only=True)
    clip_value: float | None = field(default=None, kw_only=True)

    def init(self, params: Any) -> State:
        """The state before the first update."""
        return {"step": 0, **self.slots(params)}

    def update(self, grads: Any, state: State, params: T) -> tuple[T, State]:
        """One step: the new parameters and state (``params`` and ``state`` are not changed)."""
        if self.clip_norm is not None:
            grads = clip_by_global_norm(grads, self.clip_norm)
        if self.clip_value is not None:
            grads = clip_by_value(grads, self.clip_value)
        lr = learning_rate(self.lr, state["step"])
        new_params, slots = self.step(grads, state, params, lr)
        return new_params, {"step": state["step"] + 1, **slots}

    def slots(self, params: Any) -> State:
        """The optimizer's own state for ``params`` (moments, velocities)."""
        return {}

    def step(self, grads: Any, state: State, params: Any, lr: float) -> tuple[Any, State]:
        """The new parameters and slots, given the learning rate of this step."""
        raise NotImplementedError


@dataclass(frozen=True)
class SGD(Optimizer):
    """Stochastic gradient descent with momentum, Nesterov momentum and weight decay."""
    momentum: float = 0.0
    nesterov: bool = False
    weight_decay: float = 0.0

    def slots(self, params: Any) -> State:
        return {"velocity": _zeros(params)}

    def step(self, grads: Any, state: State, params: Any, lr: float) -> tuple[Any, State]:
        first = state["step"] == 0

        def leaf(p: Any, g: Any, v: Any) -> tuple[Any, Any]:
            g = g + self.weight_decay * p
            if self.momentum:
                v = g if first else self.momentum * v + g
                g = g + self.momentum * v if self.nesterov else v
            return p - lr * g, v

        new_params, velocity = _leafwise(leaf, params, grads, state["velocity"])
        return new_params, {"velocity": velocity}


@dataclass(frozen=True)
class Adam(Optimizer):
    """Adam with bias correction; ``weight_decay`` adds an L2 term to the gradient (as torch.optim.Adam)."""
    lr: LearningRate = 1e-3
    b1: float = 0.9
    b2: float = 0.999
    eps: float = 1e-8
    weight_decay: float = 0.0
    decoupled = False

    def slots(self, params: Any) -> State:
        return {"m": _zeros(params), "v": _zeros(params)}

    def step(self, grads: Any, state: State, params: Any, lr: float) -> tuple[Any, State]:
        t = state["step"] + 1
        c1, c2 = 1 - self.b1 ** t, 1 - self.b2 ** t

        def leaf(p: Any, g: Any, m: Any, v: Any) -> tuple[Any, Any, Any]:
            if self.decoupled:
                p = p * (1 - lr * self.weight_decay)
            else:
                g = g + self.weight_decay * p
            m = self.b1 * m + (1 - self.b1) * g
            v = self.b2 * v + (1 - self.b2) * g * g
            return p - lr * (m / c1) / (np.sqrt(v / c2) + self.eps), m, v

        new_params, m, v = _leafwise(leaf, params, grads, state["m"], state["v"])
        return new_params, {"m": m, "v": v}


@dataclass(frozen=True)
class AdamW(Adam):
    """Adam with decoupled weight decay (as torch.optim.AdamW)."""
    weight_decay: float = 1e-2
    decoupled = True


@dataclass(frozen=True)
class RMSprop(Optimizer):
    """Steps scaled by a running root mean square of the gradients (as torch.optim.RMSprop)."""
    lr: LearningRate = 1e-2
    alpha: float = 0.99
    eps: float = 1e-8
    momentum: float = 0.0
    weight_decay: float = 0.0

    def slots(self, params: Any) -> State:
        return {"square": _zeros(params), "velocity": _zeros(params)}

    def step(self, grads: Any, state: State, params: Any, lr: float) -> tuple[Any, State]:
        def leaf(p: Any, g: Any, s: Any, v: Any) -> tuple[Any, Any, Any]:
            g = g + self.weight_decay * p
            s = self.alpha * s + (1 - self.alpha) * g * g
            direction = g / (np.sqrt(s) + self.eps)
            v = self.momentum * v + direction if self.momentum else direction
            return p - lr * v, s, v

        new_params, square, velocity = _leafwise(leaf, params, grads, state["square"],
                                                 state["velocity"])
        return new_params, {"square": square, "velocity": velocity}


@dataclass(frozen=True)
class Adagrad(Optimizer):
    """Steps scaled by the root of the sum of all squared gradients so far (as torch.optim.Adagrad)."""
    lr: LearningRate = 1e-2
    eps: float = 1e-10
    initial_accumulator: float = 0.0
    weight_decay: float = 0.0

    def slots(self, params: Any) -> State:
        return {"sum": _zeros(params, self.initial_accumulator)}

    def step(self, grads: Any, state: State, params: Any, lr: float) -> tuple[Any, State]:
        def leaf(p: Any, g: Any, s: Any) -> tuple[Any, Any]:
            g = g + self.weight_decay * p
            s = s + g * g
            return p - lr * g / (np.sqrt(s) + self.eps), s

        new_params, total = _leafwise(leaf, params, grads, state["sum"])
        return new_params, {"sum": total}
