"""Issue 11's remaining constructs against finite differences or closed forms, on both backends:
nonlocal in the differentiated function, **kwargs passed on, methods of objects reached through
attributes, try/except inside loops; and their refusals at the user's line."""
import warnings

import numpy as np
import pytest

import adjoint
from adjoint.testing import numerical_grad

from . import more_cases as c

rng = np.random.default_rng(111)
BACKENDS = ["numpy", "numba"]


def _backend(backend):
    if backend == "numba":
        pytest.importorskip("numba")


def _cell(fn, ident):
    return fn.__closure__[fn.__code__.co_freevars.index(ident)]


# -- nonlocal in the differentiated function itself -------------------------------------------
@pytest.mark.parametrize("backend", BACKENDS)
def test_nonlocal_counter_advances_once_per_call(backend):
    _backend(backend)
    cell, x = _cell(c.scaled_counter, "calls"), rng.normal(size=3)
    cell.cell_contents = 0
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", adjoint.BackendWarning)  # falling back is allowed
        g = adjoint.grad(c.scaled_counter, backend=backend)(x)
    assert cell.cell_contents == 1
    np.testing.assert_allclose(g, 2 * 1 * x)  # the derivative of the call that saw calls == 1
    value, g = adjoint.value_and_grad(c.scaled_counter, backend=backend)(x)
    assert cell.cell_contents == 2 and value == pytest.approx(2 * np.sum(x ** 2))
    np.testing.assert_allclose(g, 2 * 2 * x)


def test_nonlocal_counter_under_vjp_jvp_and_hvp():
    cell, x = _cell(c.scaled_counter, "calls"), rng.normal(size=3)
    cell.cell_contents = 0
    out, pullback = adjoint.vjp(c.scaled_counter)(x)
    first, second = pullback(1.0), pullback(1.0)  # the second reruns the forward sweep
    assert cell.cell_contents == 1 and out == pytest.approx(np.sum(x ** 2))
    np.testing.assert_allclose(first, 2 * x)
    np.testing.assert_allclose(second, 2 * x)
    _, tangent = adjoint.jvp(c.scaled_counter)((x,), (np.ones(3),))
    assert cell.cell_contents == 2 and tangent == pytest.approx(2 * 2 * np.sum(x))
    np.testing.assert_allclose(adjoint.hvp(c.scaled_counter)(x, np.ones(3)), 2 * 3 * np.ones(3))
    assert cell.cell_contents == 3


@pytest.mark.parametrize("backend", BACKENDS)
def test_nonlocal_written_in_a_loop(backend):
    _backend(backend)
    cell, x = _cell(c.loop_counter, "steps"), rng.normal(size=3)
    cell.cell_contents = 0
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", adjoint.BackendWarning)
        g = adjoint.grad(c.loop_counter, backend=backend)(x)
    assert cell.cell_contents == 3
    np.testing.assert_allclose(g, numerical_grad(c.loop_counter, (x,), [0])[0], rtol=1e-6)


@pytest.mark.parametrize("fun,error,line,fragment", [
    (c.active_write, adjoint.NotDifferentiableError, "last = np.sum(x)", "the nonlocal 'last'"),
    (c.shared_cell, adjoint.UnsupportedSyntaxError, "bump()", "shares the nonlocal 'calls'"),
    (c.deleting, adjoint.UnsupportedSyntaxError, "del seen", "rebinding the nonlocal 'seen'"),
])
def test_nonlocal_refusals_name_the_line(fun, error, line, fragment):
    with pytest.raises(error) as info:
        adjoint.grad(fun)(rng.normal(size=3))
    message = str(info.value)
    assert "more_cases.py" in message and line in message and fragment in message
