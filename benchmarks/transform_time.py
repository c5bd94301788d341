"""Transform + compile time of adjoint's first call, for a 30-line function.

    python benchmarks/transform_time.py

The function (``model`` below) is a small training loss of the kind scripts
contain: a helper, a loop, a branch, in-place writes and reductions. The time
reported is the first gradient call minus an ordinary gradient call, median of
several fresh transforms (adjoint's caches are cleared before each).
"""
from __future__ import annotations

import statistics
import sys
import os
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
import adjoint  # noqa: E402
from adjoint import api, frontend  # noqa: E402


def layer(W, b, x):
    return np.tanh(x @ W + b)


def model(W1, b1, W2, b2, X, Y, lam):
    h = layer(W1, b1, X)
    z = h @ W2 + b2
    m = np.max(z, axis=1, keepdims=True)
    e = np.exp(z - m)
    p = e / np.sum(e, axis=1, keepdims=True)
    nll = -np.sum(Y * np.log(p + 1e-12)) / X.shape[0]
    reg = 0.0
    for W in (W1, W2):
        reg = reg + np.sum(W * W)
    margins = np.zeros(X.shape[0])
    for i in range(X.shape[0]):
        top = np.max(z[i])
        margins[i] = top - np.sum(z[i] * Y[i])
    hinge = np.mean(np.maximum(margins, 0.0))
    if hinge > 1.0:
        hinge = np.sqrt(hinge)
    else:
        hinge = hinge * hinge
    smooth = np.sum(np.abs(b1)) + np.sum(b2 ** 2)
    total = nll + lam * reg
    total = total + 0.1 * hinge
    total = total + 0.01 * smooth
    spread = np.std(h)
    total = total + 0.001 * spread
    k = 0
    while k < 3:
        total = total * 0.999
        k += 1
    return total


def main():
    rng = np.random.default_rng(0)
    args = (rng.normal(size=(8, 16)), rng.normal(size=16), rng.normal(size=(16, 4)),
            rng.normal(size=4), rng.normal(size=(32, 8)), np.eye(4)[rng.integers(0, 4, 32)], 0.01)
    times = []
    for _ in range(7):
        api._CACHE.clear()
        frontend._PARSED.clear()
        g = adjoint.grad(model, (0, 1, 2, 3), backend="numpy")
        start = time.perf_counter()
        g(*args)
        first = time.perf_counter() - start
        start = time.perf_counter()
        g(*args)
        times.append(first - (time.perf_counter() - start))
    assert adjoint.check_grad(model, *args, wrt=(0, 1, 2, 3), rtol=1e-4, atol=1e-6)
    lines = len(api._built(model, ("W1",), "grad").source.splitlines())
    print(f"transform + compile, 30-line function: {statistics.median(times) * 1e3:.1f} ms median "
          f"(min {min(times) * 1e3:.1f} ms); generated module of the W1 gradient: {lines} lines")


if __name__ == "__main__":
    main()
