"""Functions with checkpointed loops (tests/test_checkpoint.py), beside their plain twins."""
import numpy as np

import adjoint

SCALE = 0.5


def rnn(x, W, n, k):
    h = x
    acc = 0.0
    for t in adjoint.checkpointed(range(n), snapshots=k):
        h = np.tanh(W @ h + 0.1 * t)
        acc = acc + np.sum(h * h)
    return acc + np.sum(h)


def rnn_plain(x, W, n, k):
    h = x
    acc = 0.0
    for t in range(n):
        h = np.tanh(W @ h + 0.1 * t)
        acc = acc + np.sum(h * h)
    return acc + np.sum(h)


def strided(x, a):
    y = x
    for t in adjoint.checkpointed(range(2, 11, 3), snapshots=2):
        y = np.sin(y * a) + t * SCALE
    return np.sum(y ** 2)


def strided_plain(x, a):
    y = x
    for t in range(2, 11, 3):
        y = np.sin(y * a) + t * SCALE
    return np.sum(y ** 2)


def inner_loop(x, W):
    h = x
    for s in range(3):
        for t in adjoint.checkpointed(range(5), 2):
            for j in range(2):
                h = np.sin(W @ h) * (j + 1) * SCALE
        h = h * 0.9
    return np.sum(h ** 2)


def inner_loop_plain(x, W):
    h = x
    for s in range(3):
        for t in range(5):
            for j in range(2):
                h = np.sin(W @ h) * (j + 1) * SCALE
        h = h * 0.9
    return np.sum(h ** 2)


def twice(x, c):
    y = x
    for s in adjoint.checkpointed(range(4), snapshots=2):
        for t in adjoint.checkpointed(range(3), snapshots=1):
            y = np.cos(y) * c + s
    return np.sum(y)


def twice_plain(x, c):
    y = x
    for s in range(4):
        for t in range(3):
            y = np.cos(y) * c + s
    return np.sum(y)


def written(x, n):
    buf = np.zeros(n)
    v = x
    for t in adjoint.checkpointed(range(n), snapshots=2):
        v = v * 0.8 + np.sin(v)
        buf[t] = np.sum(v)
    return np.sum(buf ** 2)


def written_plain(x, n):
    buf = np.zeros(n)
    v = x
    for t in range(n):
        v = v * 0.8 + np.sin(v)
        buf[t] = np.sum(v)
    return np.sum(buf ** 2)


def branchy(x, n):
    y = x
    for t in adjoint.checkpointed(range(n), snapshots=3):
        if t % 2 == 0:
            y = y * np.cos(y)
        else:
            y = y + 0.1 * y * y
    return np.sum(y)


def branchy_plain(x, n):
    y = x
    for t in range(n):
        if t % 2 == 0:
            y = y * np.cos(y)
        else:
            y = y + 0.1 * y * y
    return np.sum(y)


def recurrence(h, W, n, k):
    """The memory benchmark's loop: a long recurrence on a vector state."""
    for t in adjoint.checkpointed(range(n), snapshots=k):
        h = np.tanh(W @ h)
    return np.sum(h)


def recurrence_plain(h, W, n, k):
    for t in range(n):
        h = np.tanh(W @ h)
    return np.sum(h)


def right_matmul(x, W, b, n):
    """W is read on the right, twice a trip, with a vector read too: adjoints of reads summed."""
    h = x
    for t in adjoint.checkpointed(range(n), snapshots=3):
        h = np.tanh(h @ W + b) + 0.1 * (h @ W)
    return np.sum(h * h)


def right_matmul_plain(x, W, b, n):
    h = x
    for t in range(n):
        h = np.tanh(h @ W + b) + 0.1 * (h @ W)
    return np.sum(h * h)


def branch_read(x, W, n):
    """W's adjoint gets a contribution in one branch only."""
    h = x
    for t in adjoint.checkpointed(range(n), snapshots=2):
        if t % 2:
            h = np.sin(W @ h)
        else:
            h = h * 0.9
    return np.sum(h)


def branch_read_plain(x, W, n):
    h = x
    for t in range(n):
        if t % 2:
            h = np.sin(W @ h)
        else:
            h = h * 0.9
    return np.sum(h)


# -- refused -----------------------------------------------------------------------------
def breaks(x):
    y = x
    for t in adjoint.checkpointed(range(5)):
        y = y * 2.0
        if np.sum(y) > 10.0:
            break
    return np.sum(y)


def returns(x):
    y = x
    for t in adjoint.checkpointed(range(5)):
        y = y * 2.0
        if np.sum(y) > 10.0:
            return np.sum(y)
    return np.sum(y)


def target_after(x):
    y = x
    for t in adjoint.checkpointed(range(5)):
        y = y * 2.0
    return np.sum(y) * t


def unbound(x):
    for t in adjoint.checkpointed(range(5)):
        z = x * t
    return np.sum(z)


def not_range(x, items):
    y = x
    for t in adjoint.checkpointed(items):
        y = y * t
    return np.sum(y)


def newton(x, c, k):
    y = x
    err = 1.0
    steps = 0
    while adjoint.checkpointed(err > 1e-12 and steps < 50, snapshots=k):
        y = y - (y * y - c) / (2.0 * y)
        err = abs(y * y - c)
        steps = steps + 1
    return y * 3.0


def newton_plain(x, c, k):
    y = x
    err = 1.0
    steps = 0
    while err > 1e-12 and steps < 50:
        y = y - (y * y - c) / (2.0 * y)
        err = abs(y * y - c)
        steps = steps + 1
    return y * 3.0


def decay(x, W, k):
    h = x
    while adjoint.checkpointed(np.sum(h * h) > 0.01, k):
        h = 0.8 * np.tanh(W @ h)
    return np.sum(h)


def decay_plain(x, W, k):
    h = x
    while np.sum(h * h) > 0.01:
        h = 0.8 * np.tanh(W @ h)
    return np.sum(h)


def helper(h, W):
    return np.tanh(W @ h)


def make_closure(scale):
    def closure(x, W, n):
        h = x
        out = np.zeros(n)
        for t in adjoint.checkpointed(range(n)):
            h = helper(h, W) * scale
            out[t] = np.sum(h)
        return np.sum(out ** 2) + np.sum(h)
    return closure


def inside_helper(x, W):
    h = x
    for t in adjoint.checkpointed(range(4), snapshots=2):
        h = helper(h, W) + 0.1
    return h


def calls_helper(x, W):
    return np.sum(inside_helper(x, W) ** 2)


def inactive(x, n):
    c = np.ones(4)
    for t in adjoint.checkpointed(range(n), snapshots=2):
        c = c * 0.5 + t
    return np.sum(x * c)


def param_written(x, n):
    for t in adjoint.checkpointed(range(n), snapshots=2):
        x[t % 4] = np.sin(x[(t + 1) % 4]) * 2.0
    return np.sum(x ** 2)


def while_breaks(x):
    y = x
    while adjoint.checkpointed(np.sum(y) < 10.0):
        y = y * 2.0
        if np.sum(y) > 5.0:
            break
    return np.sum(y)


def budget(x, W, n, memory):
    h = x
    for t in adjoint.checkpointed(range(n), memory=memory):
        h = np.tanh(W @ h)
    return np.sum(h)


def budget_while(x, W, memory):
    h = x
    steps = 0
    while adjoint.checkpointed(steps < 9, memory=memory):
        h = np.tanh(W @ h)
        steps = steps + 1
    return np.sum(h)
