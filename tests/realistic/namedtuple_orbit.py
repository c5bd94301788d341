"""A planet orbiting a star, the state a NamedTuple, integrated by leapfrog."""
from typing import NamedTuple

import numpy as np


class State(NamedTuple):
    pos: np.ndarray
    vel: np.ndarray


def accel(pos, gm):
    r = np.sqrt(np.sum(pos ** 2))
    return -gm * pos / r ** 3


def leapfrog(s, gm, dt):
    vel = s.vel + 0.5 * dt * accel(s.pos, gm)
    pos = s.pos + dt * vel
    vel = vel + 0.5 * dt * accel(pos, gm)
    return State(pos, vel)


def loss(gm, s0):
    s = s0
    for _ in range(20):
        s = leapfrog(s, gm, 0.05)
    return np.sum((s.pos - np.array([0.0, 1.0])) ** 2)


def args():
    return 1.0, State(np.array([1.0, 0.0]), np.array([0.0, 1.0]))


WRT = (0, 1)
