"""numpy.fft and the NumPy functions beyond the core set, past what the registry-driven tests
(``test_rules.py``, ``test_forward_rules.py``) check for every rule.

* Second order is never refused for these rules: ``hvp`` through each case of their table
  (``numpy_rule_cases.py``) runs and matches central differences of the gradient.
* User programs calling them differentiate on both backends.
* Calls the rules cannot differentiate are refused naming the user's line.
"""
from __future__ import annotations

import warnings

import numpy as np
import pytest

import adjoint
from adjoint.testing import numerical_grad

from . import numpy_cases_programs as programs
from .test_forward_rules import _dtypes, _random_like, close, load
from .test_rules import NUMPY_CASES as CASES, inputs

# Their adjoints call helpers with no forward-mode rule yet, as those of np.prod, np.cumprod and
# np.einsum do: prod_grad, cumprod_grad, einsum_grad.
FIRST_ORDER_ONLY = {"numpy.nanprod", "numpy.cumulative_prod", "numpy.einsum"}
SECOND_ORDER = sorted(set(CASES) - FIRST_ORDER_ONLY)


@pytest.fixture(scope="module")
def module_dir(tmp_path_factory):
    return tmp_path_factory.mktemp("numpy_rule_cases")


def strict_hvp(case, module, dtype):
    """``hvp`` of the case's loss (which must not be refused) against differences of its gradient."""
    args = inputs(case, dtype, seed=sum(map(ord, case.expr)))
    rng = np.random.default_rng(5)
    module.w = np.asarray(_random_like(rng, module.f(*args)))
    wrt = tuple(range(len(args)))
    v = tuple(_random_like(rng, a) for a in args)
    got = adjoint.hvp(module.loss, wrt)(*args, v)
    grad = adjoint.grad(module.loss, wrt)
    eps = 1e-5
    hi = grad(*[a + eps * t for a, t in zip(args, v)])
    lo = grad(*[a - eps * t for a, t in zip(args, v)])
    return [close(g, (np.asarray(h) - np.asarray(l)) / (2 * eps), max(case.rtol or 0, 1e-4),
                  f"{case.expr} [{dtype}] hvp d/d{name}")
            for name, g, h, l in zip(case.args, got, hi, lo)]


@pytest.mark.parametrize("name", SECOND_ORDER)
def test_second_order_is_not_refused(name, module_dir):
    failures = []
    for case in CASES[name]:
        module = load(case, module_dir)
        for dtype in _dtypes(case):
            try:
                failures += strict_hvp(case, module, dtype)
            except Exception as exc:
                failures.append(f"{case.expr} [{dtype}]: {type(exc).__name__}: {exc}")
    failures = [f for f in failures if f]
    assert not failures, "\n".join(failures)


@pytest.mark.parametrize("backend", ["numpy", "numba"])
@pytest.mark.parametrize("fun,args", programs.CASES, ids=[f.__name__ for f, _ in programs.CASES])
def test_programs_on_both_backends(fun, args, backend):
    if backend == "numba":
        pytest.importorskip("numba")
    wrt = tuple(range(len(args)))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", adjoint.BackendWarning)
        got = adjoint.grad(fun, wrt, backend=backend)(*args)
    for g, n in zip(got, numerical_grad(fun, args, list(wrt))):
        np.testing.assert_allclose(g, n, rtol=1e-5, atol=1e-7)


@pytest.mark.parametrize("fun,arg,line", programs.REFUSED, ids=[f.__name__ for f, *_ in programs.REFUSED])
def test_refused_with_the_users_line(fun, arg, line):
    with pytest.raises(adjoint.AdjointError) as info:
        adjoint.grad(fun)(arg)
    message = str(info.value)
    assert "numpy_cases_programs.py" in message and line in message, message


@pytest.mark.parametrize("fun,args", programs.CASES, ids=[f.__name__ for f, _ in programs.CASES])
def test_programs_second_order(fun, args):
    """``hvp`` of each program against central differences of its gradient."""
    wrt = tuple(range(len(args)))
    v = tuple(np.random.default_rng(4).normal(size=np.shape(a)) for a in args)
    got = adjoint.hvp(fun, wrt)(*args, v)
    grad, eps = adjoint.grad(fun, wrt), 1e-6
    hi = grad(*[a + eps * t for a, t in zip(args, v)])
    lo = grad(*[a - eps * t for a, t in zip(args, v)])
    for g, h, l in zip(got, hi, lo):
        np.testing.assert_allclose(g, (h - l) / (2 * eps), rtol=1e-5, atol=1e-6)


def test_eigenvector_phases_are_refused():
    """A loss that depends on the phases NumPy picks for complex eigenvectors has no gradient."""
    a = np.array([[0.0, -1.0, 0.3], [1.0, 0.2, 0.0], [0.1, 0.0, 2.0]])  # a complex pair
    with pytest.raises(ValueError, match="phases of np.linalg.eig's eigenvectors") as info:
        adjoint.grad(programs.eigenvector_phase)(a)
    where = "".join(getattr(info.value, "__notes__", [])) or str(info.value)  # 3.10: no notes
    assert "numpy_cases_programs.py" in where, info.value


def sorted_cubes(x):
    return np.sum(np.sort(x) ** 3) + np.sum(np.partition(x, 1)[:2] ** 2)


def test_hessian_through_sort():
    x = np.array([0.3, 0.1, 0.2])
    smallest = np.isin(x, np.sort(x)[:2])
    np.testing.assert_allclose(adjoint.hessian(sorted_cubes)(x), np.diag(6 * x + 2 * smallest))
