"""Functions on objects for tests/test_objects.py: methods, attributes, dataclasses, named tuples,
registered classes, function attributes and library code."""
import dataclasses
import math
import statistics
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np
try:  # the library-code cases need SciPy (the [scipy] extra)
    import scipy.optimize
except ImportError:
    scipy = None

import adjoint


@dataclass
class Params:
    W: np.ndarray
    b: float
    layers: int = 2  # an int field is static: no derivative


def dense_loss(p, x):
    h = x
    for _ in range(p.layers):
        h = np.tanh(p.W @ h + p.b)
    return np.sum(h ** 2)


@dataclass(frozen=True)
class Gaussian:
    mean: np.ndarray
    log_std: np.ndarray
    name: str = "q"

    @property
    def std(self):
        return np.exp(self.log_std)

    def log_density(self, x):
        z = (x - self.mean) / self.std
        return -0.5 * np.sum(z ** 2) - np.sum(self.log_std)


def gaussian_loss(q, x):
    return -q.log_density(x) + 0.1 * np.sum(q.std)


class State(NamedTuple):
    x: np.ndarray
    v: np.ndarray


def step(s, k, dt):
    return State(s.x + dt * s.v, s.v - dt * k * s.x)


def simulate(s, k):
    for _ in range(5):
        s = step(s, k, 0.1)
    return 0.5 * np.sum(s.v ** 2) + 0.5 * k * np.sum(s.x ** 2)


def simulate_inline(s, k):
    for _ in range(4):
        s = State(x=s.x + 0.1 * s.v, v=s.v - 0.1 * k * s.x)
    return np.sum(s.x * s.v)


class Affine:
    """A user class made a pytree by registration."""

    scale = 2.0  # a class attribute: a constant

    def __init__(self, W, b):
        self.W = W
        self.b = b
        self.total = float(np.sum(W))  # neither a child nor a constant: reading it is refused


adjoint.register_pytree(Affine, lambda a: ((a.b, a.W), None), lambda aux, ch: Affine(ch[1], ch[0]))


def affine_loss(a, x):
    return np.sum((a.W @ x + a.b) ** 2) * a.scale


class RNN:
    """A model whose loss is a bound method reading ``self.W`` and calling ``self.cell``."""

    def __init__(self, W, U):
        self.W = W
        self.U = U
        self.steps = 3

    @property
    def gain(self):
        return 0.5 * np.sum(self.U ** 2)

    def cell(self, h, x):
        return np.tanh(self.W @ h + self.U @ x)

    def loss(self, h, x):
        for _ in range(self.steps):
            h = self.cell(h, x)
        return np.sum(h ** 2) * self.gain


class Config:
    scale = 1.5
    offset = 0.25


CONFIG = Config()


def uses_config(x, cfg):
    return np.sum((cfg.scale * x - cfg.offset) ** 2) + CONFIG.scale * math.pi * np.sum(x)


def counts_calls(x):
    counts_calls.calls += 1
    return np.sum(x ** 3)


counts_calls.calls = 0


# -- refused ---------------------------------------------------------------------------
def writes_self(model, x):
    model.W = model.W * 2.0
    return np.sum(model.W * x)


def writes_made_state(x):
    s = State(x, x)
    s.x = x * 2.0
    return np.sum(s.x)


def logs_active_value(x):
    counts_calls.last = x * 2.0
    return np.sum(x)


def writes_through_self(model, x):
    w = model.W
    w[0] = 0.0
    return np.sum(w * x)


def calls_scipy(x):
    y = x * 2.0
    return scipy.optimize.rosen(y)


def calls_scipy_on_constants(x):
    c = scipy.optimize.rosen(np.array([1.0, 2.0, 3.0]))
    return c * np.sum(x ** 2)


def calls_stdlib(x):
    y = x * 2.0
    return statistics.fmean(y)


def reads_computed(a, x):
    return np.sum(a.total * x)


class Scaler:
    def __init__(self, k):
        self.k = k

    @staticmethod
    def square(v):
        return v * v

    def apply(self, x):
        return self.k * self.square(x)


def scaled(scaler, x):
    return np.sum(scaler.apply(x))


def calls_method_of_a_local(model, x):
    inner = model.W
    return np.sum(inner.my_method(x))


@dataclass
class Layer:
    W: np.ndarray
    b: np.ndarray


@dataclass
class Net:
    first: Layer
    second: Layer
    activation: str = "tanh"


def layers_loss(layers, x):
    h = x
    for layer in layers:
        h = np.tanh(layer.W @ h + layer.b)
    return np.sum(h ** 2)


def net_loss(net, x):
    h = np.tanh(net.first.W @ x + net.first.b)
    return np.sum((net.second.W @ h + net.second.b) ** 2)


class Mixed(NamedTuple):
    a: np.ndarray
    n: int
    b: np.ndarray


def indexes_named_tuple(m, x):
    first, count, last = m
    return np.sum(m[0] * x) * m[1] + np.sum(m[2] ** 2) * count + np.sum(last * first)


class WithProperty:
    def __init__(self, W):
        self.W = W

    @property
    def double(self):
        return 2.0 * self.W


adjoint.register_pytree(WithProperty, lambda w: ((w.W,), None), lambda aux, ch: WithProperty(*ch))


def reads_property_in_helper(x, w):
    return helper_reading_property(x, w)


def helper_reading_property(x, w):
    return np.sum(w.double * x)


def writes_into_attribute_item(model, x):
    model.W[0] = 0.0
    return np.sum(model.W * x)


def leapfrog(s, k):
    for _ in range(4):
        s = s._replace(v=s.v - 0.05 * k * s.x)
        s = s._replace(x=s.x + 0.1 * s.v)
    return np.sum(s.x ** 2) + 0.5 * np.sum(s.v ** 2)


@dataclass(frozen=True)
class Particle:
    x: np.ndarray
    m: float
    tag: str = "p"


def moves(p, f):
    q = dataclasses.replace(p, x=p.x + f / p.m)
    return np.sum(q.x ** 2) * q.m


class Stack:
    def __init__(self):
        self.items = [1.0, 2.0]


def pops_from_self(stack, x):
    t = stack.items.pop()
    return np.sum(x ** 2) * t


def pops_a_parameter(lst, x):
    t = lst.pop()
    return np.sum(x ** 2) * t


@dataclass
class Checked:
    x: np.ndarray
    scale: float

    def __post_init__(self):
        if self.scale <= 0:
            raise ValueError("scale must be positive")


@dataclass
class Normalised:
    x: np.ndarray

    def __post_init__(self):
        self.x = self.x / np.sum(self.x)


def replaces_checked(c, y):
    d = dataclasses.replace(c, x=c.x * y)
    return np.sum(d.x ** 2) * d.scale


def replaces_normalised(n, y):
    m = dataclasses.replace(n, x=n.x * y)
    return np.sum(m.x ** 2)


class Shadowed:
    def __init__(self):
        self.k = 2.0
        self.apply = self.twice  # hides the method of the class

    def apply(self, x):
        return self.k * x

    def twice(self, x):
        return 2.0 * self.k * x


def calls_shadowed(obj, x):
    return np.sum(obj.apply(x))


class Pair:
    def __init__(self, a, b):
        self.a = a
        self.b = b


adjoint.register_pytree(Pair, lambda p: ((p.b, p.a), None), lambda aux, ch: Pair(ch[1], ch[0]))


def pair_loss(p, x):
    return p.a * x + 3.0 * p.b * x
