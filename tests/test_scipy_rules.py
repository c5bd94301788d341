"""SciPy beyond the rule table (tests/scipy_cases.py has the rules' cases): lazy loading,
SciPy's absence, frozen distributions, refusals, the Numba backend and second order."""
import inspect
import subprocess
import sys
import warnings

import numpy as np
import pytest

import adjoint
from adjoint.testing import numerical_grad

pytest.importorskip("scipy")
from . import scipy_programs as p  # noqa: E402

BACKENDS = ["numpy", "numba"]
rng = np.random.default_rng(12)


def _run(code):
    return subprocess.run([sys.executable, "-X", "importtime", "-c", code], capture_output=True,
                          text=True, check=True)


def test_importing_adjoint_imports_no_scipy():
    run = _run("import sys, adjoint; assert 'scipy' not in sys.modules, 'scipy imported'")
    assert "scipy" not in run.stderr, run.stderr  # -X importtime lists every module imported


def test_without_scipy_everything_else_works(tmp_path):
    """SciPy hidden (``import scipy`` raises ImportError): no SciPy rule, NumPy ones work."""
    (tmp_path / "no_scipy.py").write_text("import numpy as np\n\n\n"
                                          "def f(x):\n    return np.sum(np.tanh(x) * x)\n")
    _run(f"""
import sys
sys.modules['scipy'] = None
sys.path.insert(0, {str(tmp_path)!r})
import numpy as np
import adjoint
import no_scipy
from adjoint.rules import all_rules
assert not [r.name for r in all_rules() if r.name.startswith('scipy')]
x = np.array([0.3, -1.2])
assert np.allclose(adjoint.grad(no_scipy.f)(x), np.tanh(x) + x / np.cosh(x) ** 2)
assert adjoint.hessian(no_scipy.f)(x).shape == (2, 2)
""")


def _check(fun, args, wrt, backend="numpy"):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", adjoint.BackendWarning)  # Numba may fall back to NumPy
        got = adjoint.grad(fun, wrt, backend=backend)(*args)
    got = got if isinstance(wrt, tuple) else (got,)
    positions = list(wrt) if isinstance(wrt, tuple) else [wrt]
    for g, want in zip(got, numerical_grad(fun, args, positions)):
        np.testing.assert_allclose(g, want, rtol=1e-5, atol=1e-7)


FROZEN = [
    (p.frozen_norm, (rng.normal(size=4), 0.3, 1.7), (0, 1, 2)),
    (p.frozen_t, (rng.normal(size=3), -0.2), (0, 1)),
    (p.frozen_mvn, (rng.normal(size=(3, 2)), np.array([0.1, -0.3]),
                    np.array([[1.5, 0.2], [0.2, 0.8]])), (0, 1, 2)),
    (p.special_loop, (rng.uniform(0.5, 2.0, size=3),), 0),
    (p.shadows_scipy, (rng.normal(size=3),), 0),
    (p.softplus_sum, (rng.normal(size=4),), 0),
    (p.frozen_poisson, (2.5,), 0),
]


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("fun,args,wrt", FROZEN, ids=[f.__name__ for f, _, _ in FROZEN])
def test_matches_finite_differences(fun, args, wrt, backend):
    if backend == "numba":
        pytest.importorskip("numba")
    _check(fun, args, wrt, backend)


def test_generated_code_imports_only_the_scipy_modules_it_calls():
    source = adjoint.grad(p.special_loop).source
    assert "import scipy.special" in source and "scipy.stats" not in source, source
    assert "import scipy.stats" in adjoint.grad(p.frozen_norm, 1).source


REFUSED = [
    (p.gammainc_in_a, (np.array([1.5, 2.0]), np.array([0.5, 0.7])), 0, "'a'"),
    (p.polygamma_order, (1.0, np.array([0.5, 0.7])), 0, "'n'"),
    (p.generalized_eigh, (np.eye(2) * 2.0, np.eye(2)), 0, "eigh"),
    (p.frozen_in_a_local, (np.array([0.5]), 0.1), 1, "scipy.stats.norm"),
    (p.t_cdf_in_df, (np.array([0.5]), 3.0), 1, "'df'"),
]


@pytest.mark.parametrize("fun,args,wrt,says", REFUSED, ids=[f.__name__ for f, *_ in REFUSED])
def test_refusals_name_the_line(fun, args, wrt, says):
    with pytest.raises(adjoint.NotDifferentiableError) as err:
        adjoint.grad(fun, wrt)(*args)
    line = inspect.getsourcelines(fun)[1] + 1
    assert err.value.lineno == line and "scipy_programs.py" in err.value.filename, err.value
    assert says in str(err.value), err.value


def test_second_order_through_special_and_stats():
    x = np.array([0.7, 1.9])
    h = adjoint.hessian(lambda_free_gammaln)(x)
    np.testing.assert_allclose(h, np.diag(__import__("scipy").special.polygamma(1, x)), rtol=1e-10)
    cov = np.array([[2.0, 0.5], [0.5, 1.0]])
    np.testing.assert_allclose(adjoint.hessian(p.mvn_logpdf)(np.array([0.3, -0.4])), -np.linalg.inv(cov),
                               rtol=1e-10)
    second = adjoint.grad(adjoint.grad(scalar_gammaln))(1.3)
    np.testing.assert_allclose(second, __import__("scipy").special.polygamma(1, 1.3), rtol=1e-10)


def lambda_free_gammaln(x):
    return np.sum(p.gammaln(x))


def scalar_gammaln(s):
    return p.gammaln(s) * 1.0


def test_auto_backend_keeps_numpy_for_scipy_calls(monkeypatch):
    """Numba does not compile SciPy's functions: 'auto' picks NumPy rather than warn and fall back."""
    pytest.importorskip("numba")
    monkeypatch.setenv("ADJOINT_BACKEND", "auto")  # the suite's default is numpy
    x = rng.uniform(0.5, 2.0, size=3)
    with warnings.catch_warnings():
        warnings.simplefilter("error", adjoint.BackendWarning)
        got = adjoint.grad(p.special_loop, backend="auto")(x)
    np.testing.assert_allclose(got, numerical_grad(p.special_loop, (x,), [0])[0], rtol=1e-6)


@pytest.mark.parametrize("fun,x", [(p.cho_solve_of_a_moving_matrix, np.array([0.3, -0.5, 0.7])),
                                   (p.lu_solve_of_a_moving_matrix, np.array([0.3, -0.5, 0.7])),
                                   (p.ode_energy, np.array([0.4, -0.7, 0.8]))],
                         ids=["cho_solve", "lu_solve", "odeint"])
def test_hessian_through_factorisations_and_odeint(fun, x):
    """Forward mode over the gradient through cho_solve_grad, lu_solve_grad and odeint_grad
    (their *_dot twins) against central differences of the gradient."""
    h = adjoint.hessian(fun)(x)
    grad, eps = adjoint.grad(fun), 1e-5
    want = np.array([(grad(x + eps * e) - grad(x - eps * e)) / (2 * eps) for e in np.eye(len(x))])
    np.testing.assert_allclose(h, want, rtol=1e-5, atol=1e-7)
