"""Programs for tests/test_constructs_more.py (issue 11): nonlocal in the differentiated function,
**kwargs passed on, methods of objects reached through attributes, try/except in loops."""
import dataclasses

import numpy as np


# -- nonlocal in the differentiated function itself -------------------------------------------
def make_scaled_counter():
    calls = 0

    def loss(x):
        nonlocal calls
        calls += 1
        return calls * np.sum(x ** 2)
    return loss


def make_loop_counter():
    steps = 0

    def loss(x):
        nonlocal steps
        total = 0.0
        for k in range(3):
            steps = steps + 1
            total = total + np.sum(np.sin(x * k))
        return total
    return loss


def make_active_write():
    last = 0.0

    def loss(x):
        nonlocal last
        last = np.sum(x)
        return last ** 2
    return loss


def make_shared_cell():
    calls = 0

    def bump():
        nonlocal calls
        calls += 1

    def loss(x):
        nonlocal calls
        calls += 1
        bump()
        return np.sum(x ** 2)
    return loss


def make_deleting():
    seen = 1

    def loss(x):
        nonlocal seen
        seen = 2
        del seen
        return np.sum(x ** 2)
    return loss


scaled_counter = make_scaled_counter()
loop_counter = make_loop_counter()
active_write = make_active_write()
shared_cell = make_shared_cell()
deleting = make_deleting()


# -- **kwargs passed on ---------------------------------------------------------------------
def penalty(w, *, kind="l2", strength=1.0):
    if kind == "l1":
        return strength * np.sum(np.abs(w))
    return strength * np.sum(w ** 2)


SHIFT = np.array([0.5, -0.25, 1.0])


def shifted(w, shift=SHIFT, *, scale):
    return scale * np.sum((w - shift) ** 2)


def kwargs_loss(w, X, **options):
    return np.sum(np.tanh(X @ w)) + penalty(w, **options)


def forwards(w, **kw):
    return penalty(w, **kw)


def kwargs_chain(w):
    return forwards(w, kind="l1", strength=2.0) + forwards(w)


def local_dict(w, s):
    opts = dict(strength=s * s)
    opts["kind"] = "l1" if s > 1.0 else "l2"
    return penalty(w, **opts)


def array_default(w, **options):
    return shifted(w, **options)


def named_twice(w, **options):
    return penalty(w, kind="l1", **options)


def takes_more(w, **rest):
    return np.sum(w) * len(rest)


def passes_to_more(w, **options):
    return takes_more(w, **options)


# -- methods of objects reached through attributes -------------------------------------------
class Scale:
    def __init__(self, c):
        self.c = c

    def apply(self, h):
        return self.c * h


class Encoder:
    def __init__(self, W):
        self.W = W
        self.post = Scale(1.5)

    @property
    def width(self):
        return self.W.shape[0]

    def forward(self, x):
        return self.post.apply(np.tanh(self.W @ x)) / self.width


class Decoder:
    def __init__(self, V):
        self.V = V

    def forward(self, h):
        return np.sin(self.V @ h)


class AutoEncoder:
    def __init__(self, W, V):
        self.encoder = Encoder(W)
        self.decoder = Decoder(V)

    def loss(self, x):
        h = self.encoder.forward(x)
        y = self.decoder.forward(h)
        return np.sum((y - x) ** 2) + self.encoder.post.apply(np.sum(h ** 2))


class Other:
    def __init__(self, W):
        self.W = W

    def forward(self, x):
        return np.cos(self.W @ x)


def uses_model(model, x):
    return model.loss(x) + np.sum(model.encoder.forward(x))


def encode(model, x):
    return np.sum(model.encoder.forward(x) ** 2)


def encode_twice(model, x):
    enc = model.encoder
    return np.sum(enc.forward(x))


MODEL = AutoEncoder(np.array([[0.3, -0.2, 0.5], [0.1, 0.4, -0.3]]),
                    np.array([[0.2, 0.1], [-0.4, 0.3], [0.5, -0.1]]))


def global_model(x):
    return np.sum(MODEL.encoder.forward(x) ** 2)


@dataclasses.dataclass
class Layer:
    W: np.ndarray
    b: np.ndarray

    def __call__(self, x):
        return np.tanh(self.W @ x + self.b)

    def apply(self, x):
        return np.tanh(self.W @ x + self.b)


@dataclasses.dataclass
class Net:
    first: Layer
    second: Layer

    def loss(self, x):
        return np.sum(self.second.apply(self.first.apply(x)) ** 2)


def net_loss(net, x):
    return net.loss(x) + np.sum(net.first.apply(x))


# -- try/except inside a loop ----------------------------------------------------------------
def checked_log(v):
    if v <= 0.0:
        raise ValueError("not positive")
    return np.log(v)


def logs_or_linear(x):
    total = 0.0
    for i in range(len(x)):
        try:
            v = checked_log(x[i])
        except ValueError:
            v = 0.5 * x[i]
        total = total + v * x[i]
    return total


def keeps_last_good(x):
    v = 1.0
    total = 0.0
    for i in range(len(x)):
        try:
            v = checked_log(x[i]) * v
        except ValueError as err:
            total = total + 0.1 * x[i] * len(str(err))
        else:
            total = total + v
        finally:
            total = total * 0.9
    return total


def jittered_cholesky(A, b):
    jitter = 0.0
    n = len(b)
    for k in range(6):
        try:
            L = np.linalg.cholesky(A + jitter * np.eye(n))
            break
        except np.linalg.LinAlgError:
            jitter = 10.0 * jitter + 0.5
    z = np.linalg.solve(L, b)
    return np.sum(z ** 2) + np.sum(np.log(np.diag(L)))


def skips_bad_rows(X, w):
    total = 0.0
    for row in X:
        try:
            s = checked_log(row @ w)
        except ValueError:
            continue
        total = total + s
    return total


def returns_in_loop_try(x):
    for i in range(3):
        try:
            return checked_log(x[i])
        except ValueError:
            pass
    return 0.0


# -- functions returned by helpers -----------------------------------------------------------
def relu(v):
    return np.maximum(v, 0.0)


def pick(kind):
    if kind == "tanh":
        return np.tanh
    return relu


def picked_activation(w, x, kind):
    act = pick(kind)
    return np.sum(act(w * x) ** 2)


def make_scaler(s):
    return lambda v: v * s


def returned_closure(w, x):
    f = make_scaler(w)
    return np.sum(f(x))


def attribute_counter(x):
    attribute_counter.calls += 1
    return attribute_counter.calls * np.sum(x ** 2)


attribute_counter.calls = 0


class Stacked:
    def __init__(self, rng):
        self.layers = [Dense(0.5 * rng.normal(size=(3, 3)), rng.normal(size=3)) for _ in range(3)]
        self.head = (Dense(rng.normal(size=(1, 3)), rng.normal(size=1)),)

    def loss(self, x):
        h = x
        for layer in self.layers:
            h = layer.forward(h)
        return np.sum(self.head[0].forward(h) ** 2) + np.sum(self.layers[-1].forward(x))


class Dense:
    def __init__(self, W, b):
        self.W = W
        self.b = b

    def forward(self, x):
        return np.tanh(self.W @ x + self.b)


def activated(w, *, act=np.tanh, s=1.0):
    return s * np.sum(act(w))


def activated_loss(w, **options):
    return activated(w, **options)
