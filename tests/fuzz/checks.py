"""The differential checks run on one generated program.

Each check gives a ``Result``: ``ok``; ``refused`` (an ``AdjointError`` naming
the program's file and one of its lines: allowed); or a failure: ``wrong`` (a
number that disagrees), ``crash`` (an exception from adjoint that is not an
``AdjointError``), ``bad_refusal`` (an ``AdjointError`` that does not name a
line of the program, or names one that lacks every name and function the
message quotes), ``mutated`` (the caller's arrays changed). Finite
differences that disagree with themselves at two step sizes make a check
``unstable`` (the sample point is near a kink): neither pass nor failure.
A Numba fallback is ``fallback`` when Numba compiles the program itself (with
``numba.njit`` on it and its helpers), so the gradient's code is what it cannot
compile, and ``numba_refuses_program`` when Numba refuses the user's code too.
"""
from __future__ import annotations

import copy
import os
import re
import traceback
import types
import warnings
from dataclasses import dataclass

import numpy as np

import adjoint
from adjoint.testing import numerical_grad

from .generator import is_tree

FAILURES = ("wrong", "crash", "bad_refusal", "mutated", "hang")


@dataclass
class Result:
    check: str
    status: str
    detail: str = ""
    refusal: object = None  # the Refusal of a ``refused`` or ``bad_refusal`` result


@dataclass
class Refusal:
    """An AdjointError seen by a check: its type, its message in normal form and the line it names."""
    kind: str
    message: str
    lineno: int | None
    line: str
    located: bool
    right: bool

    @property
    def key(self):
        return f"{self.kind}: {self.message}"


def normal(message):
    """A refusal's message with names, numbers and file names made generic, for grouping."""
    text = message.splitlines()[0] if message else ""
    text = re.sub(r"\S+\.py(:\d+)?", "FILE", text)
    text = re.sub(r"'[^']*'|`[^`]*`", "'X'", text)
    text = re.sub(r"\(\w+ = \w+\.copy\(\)\)", "(X = X.copy())", text)
    return re.sub(r"\d+", "N", text)


def named(message):
    """What a message names: the names and code it quotes (`b`, 'h') and the functions it names.

    A function is named by its dotted path (``numpy.where``: ``where``) or after
    "rule for" (``reversed``).
    """
    quoted = [m.strip("'`") for m in re.findall(r"'[^']+'|`[^`]+`", message)]
    dotted = re.findall(r"\b(?:numpy|np|adjoint)(?:\.\w+)*\.(\w+)", message)
    called = re.findall(r"rule for (\w+)", message)
    return [q for q in quoted if q.isidentifier() or "[" in q] + dotted + called


def _mentions(line, fragment):
    """Whether a source line contains ``fragment`` (a name as a whole word)."""
    if fragment.isidentifier():
        return re.search(rf"\b{re.escape(fragment)}\b", line) is not None
    return fragment in line


def flat(tree):
    """All leaves of a gradient (or a tuple of them) as one float vector."""
    return np.asarray(adjoint.tree_ravel(tree)[0], dtype=np.float64)


def close(a, b, rtol, atol=None):
    a, b = flat(a), flat(b)
    if a.shape != b.shape or not (np.all(np.isfinite(a)) and np.all(np.isfinite(b))):
        return a.shape == b.shape and np.array_equal(a, b, equal_nan=True)
    scale = max(1.0, float(np.max(np.abs(b), initial=0.0)))
    return bool(np.allclose(a, b, rtol=rtol, atol=rtol * scale if atol is None else atol))


def show(x):
    return np.array2string(flat(x), precision=6, max_line_width=120)


class Checker:
    """Runs the checks of one program whose function ``fn`` lives in the file ``path``."""

    def __init__(self, program, fn, path, checks):
        self.program, self.fn, self.path = program, fn, path
        self.checks = set(checks)
        self.wrt = tuple(program.wrt)
        self.lines = len(program.source.splitlines())
        self.results = []

    def reference(self, *args):
        """The function on private copies, so a function that writes into its arguments is repeatable."""
        return self.fn(*copy.deepcopy(args))

    def attempt(self, check, call):
        """Run one adjoint call: its value, or None with the refusal or crash recorded."""
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", adjoint.BackendWarning)
                return call()
        except adjoint.AdjointError as exc:
            refusal = self.refusal(check, exc)
            self.record(check, "refused" if refusal.right else "bad_refusal",
                        f"{type(exc).__name__}: {exc}")
            self.results[-1].refusal = refusal
        except Exception as exc:  # every other exception type from adjoint is a failure
            tb = traceback.format_exception(type(exc), exc, exc.__traceback__)
            self.record(check, "crash", f"{type(exc).__name__}: {exc}\n" + "".join(tb[-6:]))
        return None

    def refusal(self, check, exc):
        """The refusal ``exc``; it is right when it names a line of the program holding what it names.

        A message that quotes only names the line lacks (a name adjoint renamed,
        a construct on another line) points the user at the wrong place.
        """
        located = self.located(check, exc)
        own = located and exc.filename == self.path
        line = self.program.source.splitlines()[exc.lineno - 1] if own else ""
        names = named(exc.message)
        right = located and (not own or not names or any(_mentions(line, q) for q in names))
        return Refusal(type(exc).__name__, normal(exc.message), exc.lineno if own else None,
                       line.strip(), located, right)

    def located(self, check, exc):
        """Whether a refusal names a line of the program (second order may name generated code of it)."""
        if exc.filename == self.path:
            return bool(exc.lineno) and 1 <= exc.lineno <= self.lines
        return check == "hvp" and os.path.basename(self.path) in str(exc.filename)

    def record(self, check, status, detail=""):
        self.results.append(Result(check, status, detail))

    def unchanged(self, check, args):
        """The caller's arrays after a call equal what they were (other arguments, a name
        chosen by a string, equal them)."""
        before = self.program.args()
        others = [(a, b) for a, b in zip(args, before) if isinstance(b, str)]
        args = [a for a, b in zip(args, before) if not isinstance(b, str)]
        before = [b for b in before if not isinstance(b, str)]
        if "no_mutation" in self.checks and any(a != b for a, b in others):
            self.record("no_mutation", "mutated", f"after {check}: {others}")
        elif "no_mutation" in self.checks and not close(args, before, 0.0, 0.0):
            self.record("no_mutation", "mutated", f"after {check}: {show(args)} != {show(before)}")

    def unchanged_tangents(self, check, tangents):
        """The caller's tangents after a call equal what they were (they are compared with later)."""
        if "no_mutation" in self.checks and not close(tangents, self.tangents(), 0.0, 0.0):
            self.record("no_mutation", "mutated", f"{check} changed its tangents: {show(tangents)}")

    def fd(self, args, eps):
        return tuple(numerical_grad(self.reference, args, list(self.wrt), eps))

    def against_fd(self, check, got, args):
        """Compare a gradient with central differences, retrying two larger steps near kinks."""
        want = self.fd(args, 1e-6)
        if close(got, want, 1e-4):
            return self.record(check, "ok")
        wider = [self.fd(args, 1e-5), self.fd(args, 1e-4)]
        if any(close(got, w, 1e-4) for w in wider):
            return self.record(check, "ok")
        if not close(wider[0], wider[1], 1e-3) or not close(want, wider[0], 1e-3):
            return self.record(check, "unstable", f"adjoint {show(got)} fd {show(want)}")
        self.record(check, "wrong", f"adjoint:   {show(got)}\nnumerical: {show(want)}")

    def run(self):
        """All enabled checks; returns the results (a refused grad stops the rest)."""
        value = self.reference(*self.program.args())
        g = self.check_grad()
        if g is None or self.results[-1].status not in ("ok", "unstable"):
            return self.results
        for name in ("value_and_grad", "vjp_twice", "forward_mode", "hvp", "numba"):
            if name in self.checks:
                try:
                    getattr(self, "check_" + name)(value, g)
                except Exception as exc:  # a result of the wrong structure, found by the checker
                    self.record(name, "crash", f"{type(exc).__name__} in the checker: {exc}")
        return self.results

    def check_grad(self):
        args = self.program.args()
        g = self.attempt("grad", lambda: adjoint.grad(self.fn, wrt=self.wrt, backend="numpy")(*args))
        self.unchanged("grad", args)
        if g is not None:
            self.against_fd("grad", g, self.program.args())
        return g

    def check_value_and_grad(self, value, g):
        args = self.program.args()
        got = self.attempt("value_and_grad", lambda: adjoint.value_and_grad(
            self.fn, wrt=self.wrt, backend="numpy")(*args))
        self.unchanged("value_and_grad", args)
        if got is None:
            return
        v, g2 = got
        if v is None or not close(v, value, 1e-9):
            return self.record("value_and_grad", "wrong", f"value {v!r}, function gives {value!r}")
        if not close(g2, g, 1e-9):
            return self.record("value_and_grad", "wrong", f"gradient {show(g2)}, grad gives {show(g)}")
        self.record("value_and_grad", "ok")

    def check_vjp_twice(self, value, g):
        args = self.program.args()
        got = self.attempt("vjp_twice", lambda: adjoint.vjp(self.fn, wrt=self.wrt)(*args))
        self.unchanged("vjp", args)
        if got is None:
            return
        out, pullback = got
        first = self.attempt("vjp_twice", lambda: pullback(1.0))
        second = self.attempt("vjp_twice", lambda: pullback(1.0)) if first is not None else None
        self.unchanged("vjp pullbacks", args)
        if first is None or second is None:
            return
        if out is None or not close(out, value, 1e-9):
            return self.record("vjp_twice", "wrong", f"vjp output {out!r}, function gives {value!r}")
        for k, r in enumerate((first, second)):
            if not close(r, g, 1e-8):
                return self.record("vjp_twice", "wrong",
                                   f"pullback call {k + 1}: {show(r)}, grad gives {show(g)}")
        self.record("vjp_twice", "ok")

    def tangents(self):
        rng = np.random.default_rng(self.program.seed + 1)
        return tuple(adjoint.tree_map(lambda x: rng.uniform(-1, 1, np.shape(x))
                                      if np.ndim(x) else float(rng.uniform(-1, 1)), self.program.args()[p])
                     for p in self.wrt)

    def check_forward_mode(self, value, g):
        args, tangents = self.program.args(), self.tangents()
        got = self.attempt("forward_mode", lambda: adjoint.jvp(self.fn, wrt=self.wrt)(args, tangents))
        self.unchanged("jvp", args)
        self.unchanged_tangents("jvp", tangents)
        if got is None:
            return
        out, out_dot = got
        want = float(flat(g) @ flat(tangents))
        if out is None or not close(out, value, 1e-9):
            return self.record("forward_mode", "wrong", f"jvp output {out!r}, function gives {value!r}")
        if out_dot is None or not close(out_dot, want, 1e-7, 1e-9 * max(1.0, abs(want))):
            return self.record("forward_mode", "wrong", f"tangent {out_dot!r}, <grad, v> = {want!r}")
        self.record("forward_mode", "ok")

    def check_hvp(self, value, g):
        if len(self.wrt) != 1 or is_tree(self.program.wrt_specs()[0]):
            return
        p = self.wrt[0]
        args, (v,) = self.program.args(), self.tangents()
        got = self.attempt("hvp", lambda: adjoint.hvp(self.fn, wrt=p)(*args, v))
        self.unchanged("hvp", args)
        self.unchanged_tangents("hvp", (v,))
        if got is None:
            return
        grad = adjoint.grad(self.fn, wrt=p, backend="numpy")

        def fd(h):
            moved = [list(self.program.args()), list(self.program.args())]
            moved[0][p] = moved[0][p] + h * v
            moved[1][p] = moved[1][p] - h * v
            return (flat(grad(*moved[0])) - flat(grad(*moved[1]))) / (2 * h)
        try:
            want, wider = fd(1e-5), fd(1e-4)
        except adjoint.AdjointError:
            return
        if close(got, want, 1e-3) or close(got, wider, 1e-3):
            return self.record("hvp", "ok")
        if not close(want, wider, 1e-2):
            return self.record("hvp", "unstable", f"hvp {show(got)} fd {show(want)}")
        self.record("hvp", "wrong", f"hvp:       {show(got)}\nfd of grad: {show(want)}")

    def check_numba(self, value, g):
        args = self.program.args()
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", adjoint.BackendWarning)
            try:
                got = adjoint.grad(self.fn, wrt=self.wrt, backend="numba")(*args)
            except adjoint.AdjointError as exc:
                return self.record("numba", "refused", f"{type(exc).__name__}: {exc}")
            except Exception as exc:
                tb = traceback.format_exception(type(exc), exc, exc.__traceback__)
                return self.record("numba", "crash", f"{type(exc).__name__}: {exc}\n" + "".join(tb[-6:]))
        self.unchanged("numba", args)
        fallbacks = [w for w in caught if issubclass(w.category, adjoint.BackendWarning)]
        if fallbacks:  # the fallback's own warning, not a performance note Numba gave before it
            status = "numba_refuses_program" if _numba_refuses(self.fn, args) else "fallback"
            return self.record("numba", status, str(fallbacks[0].message)[:1000])
        if not close(got, g, 1e-8):
            return self.record("numba", "wrong", f"numba: {show(got)}\nnumpy: {show(g)}")
        self.record("numba", "ok")


def _numba_refuses(fn, args):
    """Whether ``numba.njit`` cannot compile ``fn`` itself, every function of its module compiled
    alike (in a copy of its globals, so that the program's own functions stay plain Python);
    without Numba installed, every program."""
    try:
        import numba
    except ImportError:
        return True
    scope = dict(fn.__globals__)
    for name, value in list(scope.items()):
        if isinstance(value, types.FunctionType) and value.__module__ == fn.__module__:
            scope[name] = numba.njit(types.FunctionType(value.__code__, scope, name, value.__defaults__))
    try:
        with np.errstate(all="ignore"), warnings.catch_warnings():
            warnings.simplefilter("ignore")
            scope[fn.__name__](*copy.deepcopy(args))
    except Exception:
        return True
    return False
