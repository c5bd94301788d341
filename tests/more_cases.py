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
