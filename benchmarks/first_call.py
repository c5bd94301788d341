"""The first gradient call of a loop function in a cold process, per backend.

    python benchmarks/first_call.py

Each measurement runs in a fresh Python process (numpy and adjoint imported,
nothing else): the time of the first ``grad`` call (transform, compile, run),
then, for ``backend="auto"``, how long until Numba answers and what a call
costs after that. "cold cache" uses an empty Numba disk cache; "warm cache" a
second process on the cache the first one wrote; each figure is the median of
three such pairs. The target (issue 14): the first call with the default
backend at most 1.5x the NumPy backend's.
"""
from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
import time

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def simulate(k, c, x0, forcing):
    """A damped oscillator stepped with a clipped spring: 30 lines of loops and branches."""
    n = forcing.shape[0]
    x = x0
    v = 0.0
    energy = 0.0
    peak = 0.0
    for t in range(n):
        spring = k * x
        if spring > 2.0:
            spring = 2.0 + 0.1 * (spring - 2.0)
        elif spring < -2.0:
            spring = -2.0 + 0.1 * (spring + 2.0)
        a = forcing[t] - spring - c * v
        v = v + 0.01 * a
        x = x + 0.01 * v
        kinetic = 0.5 * v * v
        potential = 0.5 * k * x * x
        energy = energy + kinetic + potential
        if kinetic > peak:
            peak = kinetic
    drift = 0.0
    for t in range(n - 1):
        step = forcing[t + 1] - forcing[t]
        drift = drift + step * step * x
    total = energy / n + 0.1 * peak
    total = total + np.sin(drift) * c
    if total > 10.0:
        total = 10.0 + np.log(total - 9.0)
    return total + 0.01 * x * x + 0.01 * v * v


def _args():
    return 1.3, 0.2, 0.5, np.sin(np.linspace(0.0, 20.0, 2000))


def child(backend):
    """In a fresh process: time the first call (and, for auto, the switch to Numba)."""
    sys.path.insert(0, ROOT)
    import adjoint
    from benchmarks.first_call import _args, simulate
    g = adjoint.grad(simulate, wrt=(0, 1, 2, 3), backend=backend)
    args = _args()
    start = time.perf_counter()
    g(*args)
    out = {"first": time.perf_counter() - start}
    (entry,) = g._entries.values()
    main = entry["main"]
    if hasattr(main, "wait"):
        main.wait()
        out["numba_ready"] = time.perf_counter() - start
    start = time.perf_counter()
    for _ in range(10):
        g(*args)
    out["later"] = (time.perf_counter() - start) / 10
    return out


def run(backend, cache):
    env = dict(os.environ, ADJOINT_CACHE=cache, ADJOINT_BACKEND="auto", PYTHONPATH=ROOT)
    code = f"import json, benchmarks.first_call as b; print(json.dumps(b.child({backend!r})))"
    text = subprocess.run([sys.executable, "-c", code], env=env, cwd=ROOT, check=True,
                          capture_output=True, text=True).stdout
    return json.loads(text.strip().splitlines()[-1])


def measure(backend, repeats):
    """Medians over ``repeats`` pairs of processes: one on an empty cache, one after it."""
    cold, warm = [], []
    for _ in range(repeats):
        cache = tempfile.mkdtemp(prefix="adjoint-first-call-")
        cold.append(run(backend, cache))
        warm.append(run(backend, cache))
    return _median(cold), _median(warm)


def _median(results):
    return {k: statistics.median(r[k] for r in results) for k in results[0]}


def main(repeats=3):
    rows = []
    for backend in ("numpy", "auto", "numba"):
        cold, warm = measure(backend, repeats)
        rows += [(backend, "cold cache", cold), (backend, "warm cache", warm)]
    numpy_first = rows[0][2]["first"]
    print(f"medians of {repeats} processes each")
    print(f"{'backend':8} {'cache':11} {'first call':>11} {'vs numpy':>9} {'numba ready':>12} {'later call':>11}")
    for backend, cache, r in rows:
        ready = f"{r['numba_ready'] * 1e3:9.0f} ms" if "numba_ready" in r else " " * 12
        print(f"{backend:8} {cache:11} {r['first'] * 1e3:8.1f} ms {r['first'] / numpy_first:8.2f}x "
              f"{ready} {r['later'] * 1e3:8.3f} ms")


if __name__ == "__main__":
    main()
