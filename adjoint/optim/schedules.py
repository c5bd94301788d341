"""Learning-rate schedules: any callable of the step count is one.

An optimizer's ``lr`` is a number or a schedule; the schedule is called with
the number of updates made before the current one (0 for the first), as in
optax. The built-in schedules are frozen dataclasses, so they print their
settings and compare equal when equal.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Callable, Union

__all__ = ["Schedule", "LearningRate", "constant", "exponential_decay", "cosine_decay", "warmup",
           "learning_rate"]

#: A learning rate as a function of the step count.
Schedule = Callable[[int], float]
#: What an optimizer's ``lr`` accepts.
LearningRate = Union[float, Schedule]


def learning_rate(lr: LearningRate, step: int) -> float:
    """The rate ``lr`` gives at ``step``: itself for a number, else ``lr(step)``."""
    return float(lr(step)) if callable(lr) else float(lr)


@dataclass(frozen=True)
class constant:
    """The same rate at every step."""
    value: float

    def __call__(self, step: int) -> float:
        return self.value


@dataclass(frozen=True)
class exponential_decay:
    """``init * rate ** (step / steps)``: the rate multiplied by ``rate`` every ``steps`` steps.

    With ``staircase=True`` the exponent is rounded down, so the rate drops in steps.
    """
    init: float
    rate: float
    steps: int
    staircase: bool = False

    def __call__(self, step: int) -> float:
        exponent = step / self.steps
        return self.init * self.rate ** (math.floor(exponent) if self.staircase else exponent)


@dataclass(frozen=True)
class cosine_decay:
    """Half a cosine from ``init`` down to ``final`` over ``steps`` steps, then ``final``."""
    init: float
    steps: int
    final: float = 0.0

    def __call__(self, step: int) -> float:
        t = min(step, self.steps) / self.steps
        return self.final + (self.init - self.final) * 0.5 * (1 + math.cos(math.pi * t))


@dataclass(frozen=True)
class warmup:
    """A linear ramp from ``start`` over ``steps`` steps, then ``then`` (counted from its end).

    ``then`` is a number or a schedule: ``warmup(cosine_decay(1e-2, 1000), 100)``
    ramps up to 1e-2 in 100 steps, then decays over 1000.
    """
    then: LearningRate
    steps: int
    start: float = 0.0

    def __call__(self, step: int) -> float:
        if step >= self.steps:
            return learning_rate(self.then, step - self.steps)
        peak = learning_rate(self.then, 0)
        return self.start + (peak - self.start) * step / self.steps
