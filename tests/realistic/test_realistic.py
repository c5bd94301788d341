"""The realistic corpus: programs written as scientists write them, each in its own module.

Each module defines ``loss`` (the function differentiated), ``args()`` (fresh arguments) and
``WRT`` (the positions differentiated); ``NUMBA = True`` adds the Numba backend's check. Every
program runs the fuzzer's checks (``tests/fuzz/checks.py``): grad against finite differences,
value_and_grad, a pullback run twice, forward mode, no change to the caller's arguments; and
its generated source is byte-identical under two ``PYTHONHASHSEED`` values.

``PENDING`` lists the programs that need a construct other work is adding: today each must be
refused with an ``AdjointError`` (never a wrong number); the test fails once one passes, so
that it leaves the set.
"""
import hashlib
import importlib
import json
import os
import pkgutil
import subprocess
import sys
import warnings

import pytest

import adjoint

from ..fuzz.checks import FAILURES, Checker

PENDING = set()
CHECKS = ("no_mutation", "value_and_grad", "vjp_twice", "forward_mode")
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def _names():
    here = os.path.dirname(__file__)
    return sorted(m.name for m in pkgutil.iter_modules([here]) if not m.name.startswith("test_"))


NAMES = _names()


def _module(name):
    try:
        return importlib.import_module(f"{__package__}.{name}")
    except ModuleNotFoundError as exc:  # a program that needs an extra (scipy)
        pytest.skip(f"{name} needs {exc.name}")


class _Program:
    """What the fuzzer's ``Checker`` reads of a program, for one corpus module."""

    def __init__(self, module):
        self.module = module
        self.wrt = tuple(module.WRT)
        with open(module.__file__) as f:
            self.source = f.read()
        self.seed = 0

    def args(self):
        return self.module.args()


def test_the_corpus_is_large_enough():
    assert len(NAMES) >= 30 and PENDING <= set(NAMES)


@pytest.mark.parametrize("name", [n for n in NAMES if n not in PENDING])
def test_program_passes_the_fuzzers_checks(name):
    module = _module(name)
    checks = CHECKS + (("numba",) if getattr(module, "NUMBA", False) else ())
    results = Checker(_Program(module), module.loss, module.__file__, checks).run()
    failed = [r for r in results if r.status in FAILURES or r.status == "refused"]
    assert not failed, "\n".join(f"{r.check}: {r.status}: {r.detail}" for r in failed)
    assert results[0].check == "grad" and results[0].status == "ok", results[0].detail


@pytest.mark.parametrize("name", sorted(PENDING))
def test_pending_program_is_refused_never_wrong(name):
    module = _module(name)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", adjoint.BackendWarning)
        try:
            adjoint.grad(module.loss, wrt=tuple(module.WRT))(*module.args())
        except adjoint.AdjointError:
            return
    pytest.fail(f"{name} is differentiated now: check it and take it out of PENDING")


HASH_SCRIPT = r"""
import hashlib, importlib, json, sys
import adjoint
for name in json.load(sys.stdin):
    try:
        module = importlib.import_module("tests.realistic." + name)
    except ModuleNotFoundError:  # a program that needs an extra (scipy)
        print(name, "skipped")
        continue
    text = adjoint.source(module.loss, wrt=tuple(module.WRT), backend="numpy")
    print(name, hashlib.sha256(text.encode()).hexdigest())
"""


def test_generated_source_is_the_same_under_two_hash_seeds():
    names = json.dumps([n for n in NAMES if n not in PENDING])
    outs = []
    for seed in ("1", "2"):
        env = dict(os.environ, PYTHONHASHSEED=seed)
        done = subprocess.run([sys.executable, "-c", HASH_SCRIPT], input=names, text=True,
                              capture_output=True, cwd=ROOT, env=env, timeout=300)
        assert done.returncode == 0, done.stderr[-2000:]
        outs.append(done.stdout)
    assert outs[0] == outs[1] and outs[0].count("\n") == len(json.loads(names))
