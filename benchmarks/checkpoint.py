"""Checkpointed loops: peak memory (tracemalloc) and time of the gradient against the plain loop.

    python benchmarks/checkpoint.py [--steps 20000] [--size 200] [--snapshots 50 ...]

The workload is issue 14's: ``h = tanh(W @ h)`` repeated ``steps`` times on a
``size``-vector, reversed with a tape of every trip (plain) or by revolve with
``snapshots`` stored states. Prints one row per run: steps, snapshots, peak
memory, time, and their ratios to the plain loop.
"""
from __future__ import annotations

import argparse
import os
import sys
import time
import tracemalloc

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))

import adjoint  # noqa: E402
from tests.checkpoint_cases import recurrence, recurrence_plain  # noqa: E402


def measure(fn, args):
    """(peak bytes under tracemalloc, seconds without it) of one call, built beforehand
    (on a one-trip loop: the code depends on the ranks only)."""
    fn(*args[:2], 1, args[3])
    start = time.perf_counter()
    fn(*args)
    seconds = time.perf_counter() - start
    tracemalloc.start()
    try:
        fn(*args)
        return tracemalloc.get_traced_memory()[1], seconds
    finally:
        tracemalloc.stop()


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, nargs="+", default=[20000])
    parser.add_argument("--size", type=int, default=200)
    parser.add_argument("--snapshots", type=int, nargs="+", default=[50])
    opts = parser.parse_args(argv)
    rng = np.random.default_rng(0)
    h, W = rng.normal(size=opts.size), rng.normal(size=(opts.size, opts.size)) / opts.size ** 0.5
    print(f"{'steps':>8} {'snapshots':>9} {'peak MB':>9} {'time s':>8} {'memory':>8} {'time':>6}")
    for n in opts.steps:
        plain = adjoint.grad(recurrence_plain, wrt=(0, 1), backend="numpy")
        want = plain(h, W, n, 0)
        base_mem, base_time = measure(plain, (h, W, n, 0))
        print(f"{n:>8} {'plain':>9} {base_mem / 2**20:>9.2f} {base_time:>8.3f} {1:>8.3f} {1:>6.2f}")
        for k in opts.snapshots:
            ck = adjoint.grad(recurrence, wrt=(0, 1), backend="numpy")
            got = ck(h, W, n, k)
            err = max(np.max(np.abs(a - b)) for a, b in zip(got, want))
            mem, seconds = measure(ck, (h, W, n, k))
            print(f"{n:>8} {k:>9} {mem / 2**20:>9.2f} {seconds:>8.3f} {mem / base_mem:>8.4f} "
                  f"{seconds / base_time:>6.2f}   max |difference| {err:.1e}")


if __name__ == "__main__":
    main()
