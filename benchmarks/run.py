"""Run the benchmark suite: every engine on every workload, side by side, one thread.

    python benchmarks/run.py            # full run (about 10-15 minutes on 2 cores)
    python benchmarks/run.py --quick    # smallest size of each workload, fewer repeats
    python benchmarks/run.py --only recurrence,tiny --markdown

Engines are timed in alternating rounds (each round times every engine once),
so drift in the machine's speed affects all of them alike.

Columns: median time per gradient; ratio to the hand-written NumPy gradient;
ratio to the function alone; first call (setup, transform and compilation
included); status (ok, WRONG if the gradient disagrees with the hand-written
one, skipped or failed with the reason).
"""
from __future__ import annotations

import os

for _var in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS", "NUMBA_NUM_THREADS",
             "VECLIB_MAXIMUM_THREADS"):
    os.environ[_var] = "1"
os.environ.setdefault("XLA_FLAGS", "--xla_cpu_multi_thread_eigen=false intra_op_parallelism_threads=1")

import argparse  # noqa: E402
import datetime  # noqa: E402
import platform  # noqa: E402
import statistics  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
import warnings  # noqa: E402

import numpy as np  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
try:
    import adjoint  # noqa: F401
except ImportError:  # running from a checkout
    sys.path.insert(0, os.path.dirname(HERE))
from workloads import ENGINES, WORKLOADS  # noqa: E402

SLOW_CALL = 2.0  # seconds: an engine slower than this for one call is not timed
COMPILING = {"adjoint-numba", "numba", "jax"}  # a slow first call is their compiler at work


def _close(a, b):
    a = [np.asarray(x, dtype=float) for x in a]
    b = [np.asarray(x, dtype=float) for x in b]
    return len(a) == len(b) and all(x.shape == y.shape and np.allclose(x, y, rtol=1e-6, atol=1e-9)
                                    for x, y in zip(a, b))


def calibrate(fn, args):
    """How many calls make one sample of about 20 ms (so the timer's resolution is irrelevant)."""
    number = 1
    while True:
        start = time.perf_counter()
        for _ in range(number):
            fn(*args)
        if time.perf_counter() - start > 0.02 or number > 1 << 20:
            return number
        number *= 4


def prepare(engine, workload, args, reference):
    """(gradient function or None, first-call seconds, status) for one engine on one size."""
    start = time.perf_counter()
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            fn = ENGINES[engine](workload.name)
            out = fn(*args)
    except ImportError as exc:
        return None, None, f"skipped: {exc.name or exc} not installed"
    except Exception as exc:  # a failing engine is reported, not fatal
        return None, None, f"failed: {type(exc).__name__}: {str(exc).splitlines()[0][:60]}"
    first = time.perf_counter() - start
    if engine != "function" and reference is not None and not _close(out, reference):
        return None, first, "WRONG"
    if first > SLOW_CALL * 5 and engine not in COMPILING:
        return None, first, "skipped: too slow"
    once = time.perf_counter()
    fn(*args)
    if time.perf_counter() - once > SLOW_CALL:
        return None, first, "skipped: one call > 2 s"
    return fn, first, "ok"


def interleaved_medians(fns, args, budget):
    """Median seconds per call of each function, sampled in rounds that visit every one in turn.

    On a shared machine the speed drifts over seconds; sampling the engines
    alternately lets every engine see the same drift, so their ratios hold.
    """
    if not fns:
        return {}
    numbers = {e: calibrate(fn, args) for e, fn in fns.items()}
    samples = {e: [] for e in fns}
    deadline = time.perf_counter() + budget * max(len(fns), 1)
    while True:
        for e, fn in fns.items():
            start = time.perf_counter()
            for _ in range(numbers[e]):
                fn(*args)
            samples[e].append((time.perf_counter() - start) / numbers[e])
        rounds = len(next(iter(samples.values())))
        if rounds >= 15 or (rounds >= 3 and time.perf_counter() > deadline):
            return {e: statistics.median(v) for e, v in samples.items()}


def _extrapolated(previous, size):
    """Seconds one call would take at ``size``, from a smaller size, assuming linear cost."""
    if previous is None:
        return 0.0
    small, (t, first, _) = previous
    known = t if t is not None else first
    return (known or 0.0) * float(np.prod(size)) / float(np.prod(small))


def run(names, quick):
    results = []
    budget = 0.3 if quick else 1.5
    for name in names:
        workload = WORKLOADS[name]
        sizes = workload.sizes[:1] if quick else workload.sizes
        previous = {}
        for size in sizes:
            args = workload.data(size)
            reference = workload.hand(*args)
            prepared, tried = {}, []
            for engine in ENGINES:
                guess = _extrapolated(previous.get(engine), size)
                if guess > SLOW_CALL * 5:
                    prepared[engine] = (None, None, f"skipped: ~{guess:.0f} s per call or more "
                                                    "(extrapolated from the smaller size)")
                else:
                    prepared[engine] = prepare(engine, workload, args, reference)
                    tried.append(engine)
                print(f"  {name} {workload.label(size)} {engine}: {prepared[engine][2]}",
                      file=sys.stderr)
            medians = interleaved_medians({e: p[0] for e, p in prepared.items() if p[0]}, args,
                                          budget)
            rows = {e: (medians.get(e), first, status) for e, (_, first, status) in prepared.items()}
            previous.update({e: (size, rows[e]) for e in tried})
            results.append((name, workload.label(size), rows))
    return results


def _fmt_time(t):
    if t is None:
        return "-"
    for unit, scale in (("s", 1), ("ms", 1e-3), ("µs", 1e-6)):
        if t >= scale:
            return f"{t / scale:.3g} {unit}"
    return f"{t * 1e9:.3g} ns"


def _ratio(t, base):
    return f"{t / base:.2f}x" if t is not None and base else "-"


def table(name, label, rows, markdown):
    base = rows["numpy"][0]
    alone = rows["function"][0]
    header = ["engine", "median", "vs hand NumPy", "vs function", "first call", "status"]
    lines = []
    for engine, (t, first, status) in rows.items():
        lines.append([engine, _fmt_time(t), _ratio(t, base), _ratio(t, alone), _fmt_time(first), status])
    title = f"{name} ({label})"
    if markdown:
        out = [f"#### {title}", "", "| " + " | ".join(header) + " |",
               "|" + "---|" * len(header)]
        out += ["| " + " | ".join(r) + " |" for r in lines]
        return "\n".join(out) + "\n"
    widths = [max(len(str(r[i])) for r in lines + [header]) for i in range(len(header))]
    fmt = "  ".join(f"{{:<{w}}}" for w in widths)
    return "\n".join([title, fmt.format(*header)] + [fmt.format(*r) for r in lines]) + "\n"


def machine():
    cpu = platform.processor() or "unknown CPU"
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    versions = [f"Python {platform.python_version()}", f"numpy {np.__version__}"]
    from importlib import metadata
    for mod in ("numba", "autograd", "jax", "torch"):
        try:
            versions.append(f"{mod} {metadata.version(mod)}")
        except metadata.PackageNotFoundError:
            versions.append(f"{mod} not installed")
    return (f"{cpu}, {os.cpu_count()} cores, threads pinned to 1; " + ", ".join(versions)
            + f"; {datetime.date.today().isoformat()}")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="smallest size only, short timings")
    parser.add_argument("--only", help="comma-separated workloads: " + ", ".join(WORKLOADS))
    parser.add_argument("--markdown", action="store_true", help="print markdown tables")
    args = parser.parse_args(argv)
    names = args.only.split(",") if args.only else list(WORKLOADS)
    unknown = [n for n in names if n not in WORKLOADS]
    if unknown:
        parser.error(f"unknown workloads {unknown}")
    print(("Machine: " if args.markdown else "") + machine() + "\n")
    for name, label, rows in run(names, args.quick):
        print(table(name, label, rows, args.markdown))


if __name__ == "__main__":
    main()
