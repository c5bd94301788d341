"""Run the benchmark suite: every engine on every workload, side by side, one thread.

    python benchmarks/run.py            # full run (about 10-15 minutes on 2 cores)
    python benchmarks/run.py --quick    # smallest size of each workload, fewer repeats
    python benchmarks/run.py --only recurrence,tiny --markdown

Engines are timed in alternating rounds (each round times every engine once),
so drift in the machine's speed affects all of them alike.

Columns: median time per gradient; ratio to the hand-written NumPy gradient;
ratio to the function alone; J/f, the ratio to the objective evaluated by the
same tool (the figure of merit of the published AD benchmarks; shown where a
workload has objectives beside NumPy's: "function (numba)", "(jax)", "(torch)");
first call (setup, transform and compilation included); for the loop
workloads, the peak memory of one call (the resident set's high-water mark
above its level before the call, and tracemalloc's peak, which sees NumPy's
and Numba's arrays as both allocate through Python's raw allocator); status
(ok, WRONG if the gradient disagrees with the reference, a Numba fallback
with Numba's reason, skipped or failed with the reason).
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
from workloads import WORKLOADS, Skip  # noqa: E402

SLOW_CALL = 2.0  # seconds: an engine slower than this for one call is not timed
MEMORY_LIMIT = 3 << 30  # bytes: an engine estimated to need more for one call is not run
COMPILING = ("adjoint-numba", "numba", "jax", "function (numba)", "function (jax)")
OBJECTIVE = {"adjoint-numba": "function (numba)", "numba": "function (numba)",
             "jax": "function (jax)", "torch": "function (torch)"}  # J/f: the same tool's objective


def _exact_heap():
    """Have glibc map every allocation over 64 kB and unmap it when freed, so the resident
    set's high-water mark sees each call's own large arrays rather than reused heap."""
    try:
        import ctypes
        libc = ctypes.CDLL("libc.so.6")
        libc.mallopt(-3, 1 << 16)  # M_MMAP_THRESHOLD (fixing it also stops its adaptation)
        libc.mallopt(-1, 1 << 16)  # M_TRIM_THRESHOLD
    except (OSError, AttributeError):
        pass


def _close(a, b, tol):
    a = [np.asarray(x, dtype=float) for x in a]
    b = [np.asarray(x, dtype=float) for x in b]
    return len(a) == len(b) and all(x.shape == y.shape and np.allclose(x, y, rtol=tol[0], atol=tol[1])
                                    for x, y in zip(a, b))


def _fallback(caught):
    """Numba's reason, where the Numba backend fell back to NumPy (adjoint.BackendWarning)."""
    for w in caught:
        if type(w.message).__name__ == "BackendWarning":
            text = str(w.message)
            return text.split("Numba said: ", 1)[-1].splitlines()[0][:90]
    return None


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


def prepare(engine, maker, workload, args, reference):
    """(gradient function or None, first-call seconds, status) for one engine on one size."""
    start = time.perf_counter()
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            fn = maker()
            out = fn(*args)
    except ImportError as exc:
        return None, None, f"skipped: {exc.name or exc} not installed"
    except Skip as exc:
        return None, None, f"skipped: {exc}"
    except Exception as exc:  # a failing engine is reported, not fatal
        return None, None, f"failed: {type(exc).__name__}: {str(exc).splitlines()[0][:60]}"
    first = time.perf_counter() - start
    checked = not engine.startswith("function") and reference is not None
    if checked and not _close(out, reference, workload.tol):
        return None, first, "WRONG"
    reason = _fallback(caught)
    status = f"ok, on NumPy: Numba said {reason}" if reason else "ok"
    if first > SLOW_CALL * 5 and not engine.startswith(COMPILING):
        return None, first, "skipped: too slow"
    once = time.perf_counter()
    fn(*args)
    seconds = time.perf_counter() - once
    if seconds > SLOW_CALL:
        return None, first, f"skipped: one call took {seconds:.1f} s ({status})"
    return fn, first, status


def _resident():
    """(current, peak) resident set of this process in bytes, from /proc (Linux)."""
    values = {}
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(("VmRSS", "VmHWM")):
                values[line[:5]] = int(line.split()[1]) * 1024
    return values["VmRSS"], values["VmHWM"]


def peak_memory(fn, args):
    """(resident-set growth, tracemalloc peak) in bytes of one call of ``fn``; None where unknown."""
    import gc
    import tracemalloc
    gc.collect()
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")  # reset the high-water mark to the current resident set
        before, _ = _resident()
        fn(*args)
        grown = _resident()[1] - before
    except OSError:
        grown = None
    tracemalloc.start()
    try:
        fn(*args)
        traced = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    return grown, traced


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


def _extrapolated(workload, previous, size):
    """(seconds, bytes) one call would take at ``size``, from a smaller size, assuming linear cost."""
    if previous is None:
        return 0.0, 0.0
    small, (t, first, _, memory) = previous
    known = t if t is not None else first
    scale = workload.cost(size) / workload.cost(small)
    return (known or 0.0) * scale, ((memory or (0, 0))[0] or 0) * scale


def _estimate_skip(workload, previous, size):
    """The reason not to run an engine at ``size`` (too slow or too large), or None."""
    seconds, nbytes = _extrapolated(workload, previous, size)
    if seconds > SLOW_CALL * 5:
        return f"skipped: ~{seconds:.0f} s per call or more (extrapolated from the smaller size)"
    if nbytes > MEMORY_LIMIT:
        return (f"skipped: ~{nbytes / 2**30:.1f} GB for one call (extrapolated from the smaller "
                "size's peak memory)")
    return None


def measure(workload, size, budget, previous):
    """{engine: (median, first call, status, memory)} for one size of one workload."""
    args = workload.data(size)
    reference = workload.reference(*args) if workload.reference else None
    prepared, tried = {}, []
    for engine, maker in workload.engines().items():
        reason = _estimate_skip(workload, previous.get(engine), size)
        if reason:
            prepared[engine] = (None, None, reason)
        else:
            prepared[engine] = prepare(engine, maker, workload, args, reference)
            tried.append(engine)
        print(f"  {workload.name} {workload.label(size)} {engine}: {prepared[engine][2]}",
              file=sys.stderr)
    fns = {e: p[0] for e, p in prepared.items() if p[0]}
    medians = interleaved_medians(fns, args, budget)
    memory = {e: peak_memory(fn, args) for e, fn in fns.items()} if workload.memory else {}
    rows = {e: (medians.get(e), first, status, memory.get(e))
            for e, (_, first, status) in prepared.items()}
    previous.update({e: (size, rows[e]) for e in tried})
    return rows


def run(names, quick, budget=None):
    results = []
    budget = budget or (0.3 if quick else 1.5)
    for name in names:
        workload = WORKLOADS[name]
        sizes = workload.sizes[:1] if quick else workload.sizes
        previous = {}
        for size in sizes:
            rows = measure(workload, size, budget, previous)
            results.append((workload, workload.label(size), rows))
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


def _fmt_bytes(n):
    if n is None:
        return "-"
    for unit, scale in (("GB", 2**30), ("MB", 2**20), ("kB", 2**10)):
        if n >= scale:
            return f"{n / scale:.3g} {unit}"
    return f"{n} B"


def _objective(engine, rows):
    """The objective ``engine``'s J/f divides by: the same tool's, else NumPy's."""
    for prefix, objective in OBJECTIVE.items():
        if engine.startswith(prefix) and rows.get(objective, (None,))[0]:
            return rows[objective][0]
    return rows["function"][0]


def table(workload, label, rows, markdown):
    base = rows.get("numpy", (None,))[0]
    alone = rows["function"][0]
    tools = any(e.startswith("function (") for e in rows)
    header = ["engine", "median", "vs hand NumPy", "vs function"] + (["J/f"] if tools else [])
    header += ["first call"] + (["peak RSS", "peak traced"] if workload.memory else []) + ["status"]
    lines = []
    for engine, (t, first, status, memory) in rows.items():
        line = [engine, _fmt_time(t), _ratio(t, base), _ratio(t, alone)]
        if tools:
            line.append("-" if engine.startswith("function") else _ratio(t, _objective(engine, rows)))
        line.append(_fmt_time(first))
        if workload.memory:
            line += [_fmt_bytes(m) for m in (memory or (None, None))]
        lines.append(line + [status])
    title = f"{workload.name} ({label})"
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
    parser.add_argument("--budget", type=float, help="seconds of timing per engine and size "
                        "(at least 3 rounds are taken; default 1.5, 0.3 with --quick)")
    args = parser.parse_args(argv)
    names = args.only.split(",") if args.only else list(WORKLOADS)
    unknown = [n for n in names if n not in WORKLOADS]
    if unknown:
        parser.error(f"unknown workloads {unknown}")
    _exact_heap()
    print(("Machine: " if args.markdown else "") + machine() + "\n")
    for workload, label, rows in run(names, args.quick, args.budget):
        print(table(workload, label, rows, args.markdown), flush=True)


if __name__ == "__main__":
    main()
