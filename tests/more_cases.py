"""Programs for tests/test_constructs_more.py (issue 11): nonlocal in the differentiated function,
**kwargs passed on, methods of objects reached through attributes, try/except in loops."""
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
