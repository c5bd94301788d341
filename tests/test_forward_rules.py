"""Forward mode of every rule, end to end: ``adjoint.jvp`` of compiled code.

``tests/test_rules.py`` checks each rule's tangent entry by evaluating the
template; here every case of its table (``CASES``) is compiled by
``adjoint.jvp`` as a user would call it, so the forward pass's own work is
checked too: zero tangents of the arguments held fixed, broadcasting against an
operand that carries no tangent (``a + b`` with only ``b`` (4,) moving and ``a``
(3, 4) fixed), containers, complex tangents. For each case, in float64 and,
where the case runs complex, complex128:

* the tangents of the output and of its sum along a random direction, for all
  arguments moving and for each one alone, against central differences (the
  output's tangent is broadcast to its shape on the way out; the sum's is not);
* the tangent of the real loss ``sum(real(out * w))`` against central
  differences and against ``Re <grad, v>`` from the reverse mode.

``test_hvp`` runs the second-order path over the same table: ``hvp`` of the
loss against central differences of its gradient. Every rule that
``adjoint.rules.generated.second_order`` passes (all of NumPy's and SciPy's) must give it; the
others (helpers of generated code whose reverse rule is ``linear_transpose``, documented in
docs/design.md) may only be refused with ``NotDifferentiableError``.
"""
from __future__ import annotations

import importlib.util
import itertools

import numpy as np
import pytest

import adjoint

from .scipy_cases import IMPORTS as SCIPY_IMPORTS
from adjoint.rules import all_rules
from adjoint.rules.generated import second_order

from .test_rules import CASES, RULE_NAMES, inputs

RULES = {r.name: r for r in all_rules()}


def case_rule(case):
    """The name of the rule whose table holds ``case``."""
    return next(name for name, cases in CASES.items() if any(c is case for c in cases))

MODULE = """import math
import numpy as np
""" + SCIPY_IMPORTS + """from adjoint import runtime as rt

w = None


def f({params}):
    return {expr}


def total({params}):
    return np.sum(np.real({expr}))


def loss({params}):
    return np.sum(np.real(({expr}) * w))
"""
_counter = itertools.count()
WARNINGS = ["ignore:numpy.fix is deprecated:DeprecationWarning",
            "ignore:`row_stack` alias is deprecated:DeprecationWarning"]


@pytest.fixture(scope="module")
def module_dir(tmp_path_factory):
    return tmp_path_factory.mktemp("forward_rule_cases")


def load(case, directory):
    path = directory / f"forward_case_{next(_counter)}.py"
    path.write_text(MODULE.format(params=", ".join(case.args), expr=case.expr))
    spec = importlib.util.spec_from_file_location(path.stem, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _random_like(rng, x):
    """A random value of ``x``'s shape, complex when ``x`` is."""
    shape = np.shape(x)
    v = rng.standard_normal(shape)
    if np.iscomplexobj(x):
        v = v + 1j * rng.standard_normal(shape)
    return v if shape else complex(v) if np.iscomplexobj(x) else float(v)


def central(fun, args, tangents, h):
    """``(fun(args + h t) - fun(args - h t)) / 2h``; a None tangent holds its argument fixed."""
    def at(sign):
        return np.asarray(fun(*[a if t is None else a + sign * h * t
                                for a, t in zip(args, tangents)]))
    return (at(1) - at(-1)) / (2 * h)


def close(got, want, tol, what):
    """None when ``got`` matches ``want``, else the failure text."""
    got, want = np.asarray(got), np.asarray(want)
    if got.shape != want.shape:
        return f"{what}: tangent shape {got.shape}, output shape {want.shape}"
    got = np.where(np.isnan(got), want, got)  # a tangent that does not exist (svd's extra vectors)
    scale = max(1e-2, float(np.max(np.abs(want), initial=0.0)))
    if np.allclose(got, want, rtol=tol, atol=tol * scale):
        return None
    return f"{what}:\n  jvp       {np.ravel(got)}\n  numerical {np.ravel(want)}"


def _dtypes(case):
    return [d for d in ("float64", "complex128") if d in case.dtypes or
            (d == "complex128" and "complex64" in case.dtypes)]


def subsets(n):
    """All arguments moving, then (with several) each alone."""
    every = [tuple(range(n))]
    return every + [(k,) for k in range(n)] if n > 1 else every


def check_forward(case, module, dtype, failures):
    names = list(case.args)
    args = inputs(case, dtype, seed=sum(map(ord, case.expr)))
    rng = np.random.default_rng(3)
    out = module.f(*args)
    if np.issubdtype(np.asarray(out).dtype, np.integer):
        return
    module.w = np.asarray(_random_like(rng, out))
    v = [_random_like(rng, a) for a in args]
    tol = case.rtol or 1e-5
    for moving in subsets(len(names)):
        tangents = [t if k in moving else None for k, t in enumerate(v)]
        where = f"{case.expr} [{dtype}] along {[names[k] for k in moving]}"
        for fun in (module.f, module.total):  # a sum sees a tangent of the wrong shape
            _, out_dot = adjoint.jvp(fun)(args, tangents)
            failures.append(close(out_dot, central(fun, args, tangents, case.eps), tol,
                                  f"{where}: {fun.__name__}"))
    where = f"{case.expr} [{dtype}]"
    _, loss_dot = adjoint.jvp(module.loss)(args, v)
    grads = adjoint.grad(module.loss, tuple(range(len(names))))(*args)
    reverse = sum(np.real(np.vdot(g, t)) for g, t in zip(grads, v))
    failures.append(close(loss_dot, reverse, case.rtol or 1e-8, f"{where}: loss against <grad, v>"))


@pytest.mark.filterwarnings(*WARNINGS)
@pytest.mark.parametrize("name", RULE_NAMES)
def test_jvp_of_compiled_rule(name, module_dir):
    failures = []
    for case in CASES[name]:
        module = load(case, module_dir)
        for dtype in _dtypes(case):
            try:
                check_forward(case, module, dtype, failures)
            except Exception as exc:  # report every case of the rule, not just the first
                failures.append(f"{case.expr} [{dtype}]: {type(exc).__name__}: {exc}")
    failures = [f for f in failures if f]
    assert not failures, "\n".join(failures)


def check_hvp(case, module, dtype, failures):
    """``hvp`` of the loss against central differences of its gradient along ``v``."""
    names = list(case.args)
    args = inputs(case, dtype, seed=sum(map(ord, case.expr)))
    rng = np.random.default_rng(5)
    out = module.f(*args)
    module.w = np.asarray(_random_like(rng, out))
    wrt = tuple(range(len(names)))
    v = tuple(_random_like(rng, a) for a in args)
    try:
        got = adjoint.hvp(module.loss, wrt)(*args, v)
    except adjoint.NotDifferentiableError as exc:
        # refused clearly: only where the rule table says second order does not pass
        assert "higher-order" in str(exc) and not second_order(RULES[case_rule(case)]), exc
        return
    grad = adjoint.grad(module.loss, wrt)
    eps = 1e-5
    hi = grad(*[a + eps * t for a, t in zip(args, v)])
    lo = grad(*[a - eps * t for a, t in zip(args, v)])
    for k, (g, h, l) in enumerate(zip(got, hi, lo)):
        want = (np.asarray(h) - np.asarray(l)) / (2 * eps)
        failures.append(close(g, want, max(case.rtol or 0, 1e-4), f"{case.expr} [{dtype}] "
                              f"hvp, d/d{names[k]}"))


@pytest.mark.filterwarnings(*WARNINGS)
@pytest.mark.parametrize("name", RULE_NAMES)
def test_hvp_of_compiled_rule(name, module_dir):
    failures = []
    for case in CASES[name]:
        module = load(case, module_dir)
        for dtype in _dtypes(case):
            try:
                check_hvp(case, module, dtype, failures)
            except Exception as exc:
                failures.append(f"{case.expr} [{dtype}]: {type(exc).__name__}: {exc}")
    failures = [f for f in failures if f]
    assert not failures, "\n".join(failures)


def test_second_order_passes_every_public_rule():
    """The second-order column of docs/primitives.md says yes for every function users call
    (NumPy's and SciPy's): only helpers of generated code may stop at third order."""
    stopped = [r.name for r in all_rules() if r.carries_derivative and not second_order(r)
               and not r.name.startswith("adjoint.runtime.")]
    assert not stopped, stopped
