"""Generate, load and check many programs; shrink failures; summarise.

Every program is written to its own file in a temporary directory and
imported, because adjoint reads real source. Failing programs are shrunk (by
deleting and unwrapping statements while the same check keeps failing the same
way) and kept with their results.
"""
from __future__ import annotations

import copy
import hashlib
import importlib.util
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import warnings
from collections import Counter
from dataclasses import dataclass, field

import numpy as np

from .checks import FAILURES, Checker, Result
from .families import CHECKS
from .generator import Block, Return, Stmt, generate, is_tree

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


@dataclass
class Failure:
    program: object
    result: Result
    shrunk: object = None

    def text(self):
        p = self.shrunk or self.program
        head = [f"# seed {self.program.seed}: {self.result.check} {self.result.status}",
                f"# wrt positions {p.wrt}; arguments from np.random.default_rng({p.seed}) (see Program.args)",
                f"# families: {', '.join(sorted(self.program.used))}"]
        head += ["# " + line for line in self.result.detail.splitlines()[:12]]
        return "\n".join(head) + "\n" + p.source


@dataclass
class Summary:
    programs: int = 0
    status: Counter = field(default_factory=Counter)     # program outcome -> count
    checks: Counter = field(default_factory=Counter)     # (check, status) -> count
    failures: list = field(default_factory=list)
    refusals: list = field(default_factory=list)         # (program, Result) of each refusal
    fallbacks: list = field(default_factory=list)        # (program, Result) of each Numba fallback
    seconds: float = 0.0

    def report(self):
        lines = [f"{self.programs} programs in {self.seconds:.1f} s: "
                 + ", ".join(f"{k} {v}" for k, v in sorted(self.status.items()))]
        for (check, status), n in sorted(self.checks.items()):
            lines.append(f"  {check:15s} {status:12s} {n}")
        for key, group in clusters(self.failures).items():
            smallest = min(group, key=lambda f: len((f.shrunk or f.program).source))
            lines.append(f"FAIL x{len(group)} {' '.join(key)} (smallest: seed {smallest.program.seed})")
        for (check, what), group in refusal_groups(self.refusals).items():
            program, r = group[0]
            off = sum(not res.refusal.right for _, res in group)
            lines.append(f"REFUSED x{len(group)} {check} {what} (smallest: seed {program.seed}, "
                         f"line {r.refusal.lineno}: {r.refusal.line}"
                         + (f"; {off} name a line without what they quote)" if off else ")"))
        for reason, group in fallback_groups(self.fallbacks).items():
            lines.append(f"FALLBACK x{len(group)} {reason} (smallest: seed {group[0][0].seed})")
        return "\n".join(lines)


def clusters(failures):
    """Failures grouped by check, status and the exception's type and message without numbers."""
    groups = {}
    for fail in failures:
        first = fail.result.detail.splitlines()[0] if fail.result.detail else ""
        what = re.sub(r"\d+", "N", first[:70]) if fail.result.status in ("crash", "bad_refusal") else ""
        what = re.sub(r"fuzz_N_N", "fuzz", what)
        if fail.result.refusal is not None:
            what = fail.result.refusal.key[:110]
        groups.setdefault((fail.result.check, fail.result.status, what), []).append(fail)
    return dict(sorted(groups.items(), key=lambda kv: -len(kv[1])))


def fallback_reason(detail):
    """A Numba fallback's warning in normal form: the reason Numba gave (not the line it names),
    names and numbers generic."""
    text = detail.split("Numba said: ", 1)[-1].replace("\n", " ")
    text = re.sub(r"\S+\.py(:\d+)?", "FILE", text)
    text = re.sub(r"fuzz_\d+_\d+", "fuzz", text)
    return re.sub(r"\d+", "N", text)[:200]


def fallback_groups(fallbacks):
    """Numba fallbacks grouped by their normalised warning, largest group first, smallest program first."""
    groups = {}
    for program, r in fallbacks:
        groups.setdefault(fallback_reason(r.detail), []).append((program, r))
    for group in groups.values():
        group.sort(key=lambda pr: len(pr[0].source))
    return dict(sorted(groups.items(), key=lambda kv: (-len(kv[1]), kv[0])))


def refusal_groups(refusals):
    """Refusals grouped by check and normalised message, largest group first, smallest program first."""
    groups = {}
    for program, r in refusals:
        groups.setdefault((r.check, r.refusal.key), []).append((program, r))
    for group in groups.values():
        group.sort(key=lambda pr: len(pr[0].source))
    return dict(sorted(groups.items(), key=lambda kv: (-len(kv[1]), kv[0])))


class Loader:
    """Writes programs to files in one temporary directory and imports them."""

    def __init__(self):
        self.dir = tempfile.mkdtemp(prefix="adjoint-fuzz-")
        self.count = 0

    def load(self, program):
        self.count += 1
        name = f"fuzz_{program.seed}_{self.count}"
        path = os.path.join(self.dir, name + ".py")
        with open(path, "w") as fh:
            fh.write(program.source)
        spec = importlib.util.spec_from_file_location(name, path)
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        try:
            spec.loader.exec_module(module)
        finally:
            del sys.modules[name]
        return module.f, path

    def close(self):
        shutil.rmtree(self.dir, ignore_errors=True)


class Timeout(BaseException):  # not an Exception: the checks must not catch it
    pass


def _alarm(signum, frame):
    raise Timeout("the program ran past its time limit")


def valid(program, fn):
    """Whether the plain function runs on its arguments and gives a moderate finite number."""
    try:
        value = fn(*program.args())
        return np.ndim(value) == 0 and np.isfinite(value) and abs(float(value)) < 1e6
    except (Exception, Timeout):
        return False


def check(loader, program, checks, limit=None):
    """The results of ``checks`` on ``program``, or None when the program itself is invalid.

    ``limit`` (seconds) defaults to 30, and to 120 with the Numba check: compiling the runtime's
    Numba twins into a cold cache took 50 s on a busy 2-core machine, which is no hang."""
    limit = limit or (120.0 if "numba" in checks else 30.0)
    try:
        fn, path = loader.load(program)
    except SyntaxError:  # a shrinking step that left a break outside its loop
        return None, None
    timed = hasattr(signal, "setitimer") and _main_thread()
    if timed:
        old = signal.signal(signal.SIGALRM, _alarm)
        signal.setitimer(signal.ITIMER_REAL, limit)
    try:
        if not valid(program, fn):
            return None, path
        with np.errstate(all="ignore"), warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            return Checker(program, fn, path, checks).run(), path
    except Timeout:
        return [Result("grad", "hang", f"no result within {limit} s")], path
    finally:
        if timed:
            signal.setitimer(signal.ITIMER_REAL, 0)
            signal.signal(signal.SIGALRM, old)


def _main_thread():
    import threading
    return threading.current_thread() is threading.main_thread()


def numba_eligible(program):
    """Loop programs over numbers and real arrays: the ones the Numba backend is for."""
    return "loops" in program.used and not any(is_tree(s) for _, s in program.params)


def run(seed=0, count=300, families=(), numba_limit=8, hash_limit=40, shrink=3, out_dir=None,
        log=None, start=0):
    """Check ``count`` programs from ``seed``; return the Summary.

    ``shrink``: how many failures of each class (check, status, exception) to shrink.
    """
    began = time.time()
    loader, summary = Loader(), Summary()
    checks = [c for c in CHECKS if c in families]
    numba_used, hashed = 0, []
    try:
        for i in range(start, start + count):
            program = generate(seed * 1_000_000 + i, families)
            wanted = [c for c in checks if c not in ("numba", "hashseed")]
            if "numba" in checks and numba_used < numba_limit and numba_eligible(program):
                wanted.append("numba")
                numba_used += 1
            results, path = check(loader, program, wanted)
            summary.programs += 1
            outcome = classify(results)
            summary.status[outcome] += 1
            for r in results or ():
                summary.checks[r.check, r.status] += 1
            if results is not None and "hashseed" in checks and len(hashed) < hash_limit:
                hashed.append((program, path))
            for r in failing(results):
                summary.failures.append(Failure(program, r))
                if out_dir:  # written at once: a run stopped early keeps what it found
                    _save_failure(summary.failures[-1], out_dir)
                if log:
                    log(f"FAIL seed {program.seed}: {r.check} {r.status}")
                break
            summary.refusals += [(program, r) for r in results or () if r.refusal is not None]
            summary.fallbacks += [(program, r) for r in results or () if r.status == "fallback"]
            if log and (i - start + 1) % 100 == 0:
                log(f"{i - start + 1} programs, {time.time() - began:.0f} s, "
                    + ", ".join(f"{k} {v}" for k, v in sorted(summary.status.items())))
        for program, problem in hash_check(hashed):
            summary.checks["hashseed", "wrong"] += 1
            summary.status["wrong"] += 1
            summary.failures.append(Failure(program, Result("hashseed", "wrong", problem)))
        summary.checks["hashseed", "ok"] += len(hashed) - summary.checks["hashseed", "wrong"]
        if shrink:
            for group in clusters(summary.failures).values():
                for fail in [f for f in group if f.result.check != "hashseed"][:shrink]:
                    fail.shrunk = shrink_program(loader, fail.program, fail.result, checks)
    finally:
        loader.close()
    summary.seconds = time.time() - began
    if out_dir:
        save(summary, out_dir)
    return summary


def classify(results):
    if results is None:
        return "invalid"
    for r in failing(results):
        return r.status
    if any(r.check == "grad" and r.status == "refused" for r in results):
        return "refused"
    if any(r.status == "unstable" for r in results):
        return "unstable"
    return "ok"


def failing(results):
    return [r for r in results or () if r.status in FAILURES]


def _save_failure(fail, out_dir):
    os.makedirs(out_dir, exist_ok=True)
    name = f"{fail.result.check}-{fail.result.status}-{fail.program.seed}.py"
    with open(os.path.join(out_dir, name), "w") as fh:
        fh.write(fail.text())


def save(summary, out_dir):
    os.makedirs(out_dir, exist_ok=True)
    for fail in summary.failures:
        _save_failure(fail, out_dir)  # again: with the shrunk program where there is one
    for k, group in enumerate(refusal_groups(summary.refusals).values()):
        program, r = group[0]
        with open(os.path.join(out_dir, f"refused-{k + 1:02d}-{program.seed}.py"), "w") as fh:
            fh.write(Failure(program, r).text())
    for k, group in enumerate(fallback_groups(summary.fallbacks).values()):
        program, r = group[0]
        with open(os.path.join(out_dir, f"fallback-{k + 1:02d}-{program.seed}.py"), "w") as fh:
            fh.write(Failure(program, r).text())
    with open(os.path.join(out_dir, "summary.txt"), "w") as fh:
        fh.write(summary.report() + "\n")


# -- byte-identical source across processes ---------------------------------

HASH_SCRIPT = r"""
import hashlib, importlib.util, json, sys
import adjoint
for k, (path, wrt, ranks) in enumerate(json.load(sys.stdin)):
    spec = importlib.util.spec_from_file_location(f"fuzz_hash_{k}", path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    parts = []
    for mode in ("grad", "vjp"):
        try:
            parts.append(adjoint.source(module.f, wrt=tuple(wrt), mode=mode, ranks=ranks,
                                        backend="numpy"))
        except Exception as exc:
            parts.append("error " + type(exc).__name__)
    print(hashlib.sha256("\n".join(parts).encode()).hexdigest())
"""


def hash_check(items):
    """The programs whose generated source differs between PYTHONHASHSEED=1 and =2."""
    if not items:
        return []
    jobs = json.dumps([(path, list(p.wrt), None if any(is_tree(s) for _, s in p.params)
                        else [len(s) for _, s in p.params]) for p, path in items])
    outs = []
    for hashseed in ("1", "2"):
        env = dict(os.environ, PYTHONHASHSEED=hashseed, ADJOINT_BACKEND="numpy")
        done = subprocess.run([sys.executable, "-c", HASH_SCRIPT], input=jobs, text=True,
                              capture_output=True, cwd=ROOT, env=env, timeout=600)
        outs.append(done.stdout.split())
        if done.returncode:
            return [(items[0][0], f"source subprocess failed: {done.stderr[-500:]}")]
    return [(p, "generated source differs between PYTHONHASHSEED=1 and PYTHONHASHSEED=2")
            for (p, _), a, b in zip(items, *outs) if a != b]


# -- shrinking --------------------------------------------------------------

def _lists(program):
    """Every statement list of the program (function body, block bodies, helper bodies)."""
    found = []

    def walk(nodes):
        found.append(nodes)
        for n in nodes:
            if isinstance(n, Block):
                walk(n.body)
                if n.orelse is not None:
                    walk(n.orelse)
    walk(program.body)
    for h in program.helpers:
        walk(h.body)
    return found


def _candidates(program):
    """Smaller variants: one statement deleted, one block unwrapped, one return term dropped."""
    for k, nodes in enumerate(_lists(program)):
        tail = any(nodes is h.body for h in program.helpers)  # a helper's last line is its return
        for j, node in enumerate(nodes):
            if isinstance(node, Return):
                for t in range(len(node.terms) if len(node.terms) > 1 else 0):
                    yield _edit(program, k, j, lambda n, t=t: [Return(n.terms[:t] + n.terms[t + 1:])])
                continue
            if tail and j == len(nodes) - 1:
                continue
            yield _edit(program, k, j, lambda n: [])
            if isinstance(node, Block):
                yield _edit(program, k, j, lambda n: n.body + (n.orelse or []))
                if node.orelse is not None:
                    yield _edit(program, k, j, lambda n: [Block(n.header, n.body)])
    for h in range(len(program.helpers)):
        smaller = copy.deepcopy(program)
        del smaller.helpers[h]
        yield smaller


def _edit(program, k, j, change):
    smaller = copy.deepcopy(program)
    nodes = _lists(smaller)[k]
    nodes[j:j + 1] = change(nodes[j])
    return smaller


def _size(program):
    return len(program.source)


def _same(a, b):
    """The same check failing the same way (for crashes: the same exception type)."""
    kind = lambda r: r.detail.split(":", 1)[0] if r.status in ("crash", "bad_refusal") else ""
    return a.check == b.check and a.status == b.status and kind(a) == kind(b)


def shrink_program(loader, program, result, checks, budget=400):
    """A smaller program on which ``result.check`` still ends with ``result.status``."""
    wanted = sorted({"grad", result.check, "no_mutation"} & (set(checks) | {"grad", result.check}))
    best, tries = program, 0
    improved = True
    while improved and tries < budget:
        improved = False
        for candidate in _candidates(best):
            tries += 1
            if tries > budget:
                break
            got, _ = check(loader, candidate, wanted, limit=10.0)
            if got and any(_same(r, result) for r in got) \
                    and _size(candidate) < _size(best):
                best, improved = candidate, True
                break
    return best
