"""Calls that change an array in place are differentiated, or refused at the user's line.

``np.add.at``, a ufunc's ``out=``, ``np.copyto``, ``np.put``, ``a.fill`` and ``a.sort()``
are lowered by normalisation into a pure call and a whole-array write (``passes/lowering``).
Each case is checked in reverse mode (grad and value_and_grad's value), in forward mode
(``jvp`` against ``<grad, v>``) and against central finite differences, always on fresh
copies of the arguments: several of these functions change their arguments in Python.
"""
import logging
import warnings

import numpy as np
import pytest

import adjoint
from adjoint.testing import numerical_grad


def fresh(args):
    return [np.array(a, copy=True) if isinstance(a, np.ndarray) else a for a in args]


def check(fun, *args, atol=1e-6, forward=True):
    """Reverse and (unless ``forward`` is False) forward mode of ``fun`` with respect to every
    argument, against finite differences of ``fun`` run on copies."""
    positions = list(range(len(args)))
    wrt = tuple(positions)
    value, grads = adjoint.value_and_grad(fun, wrt)(*fresh(args))
    np.testing.assert_allclose(value, fun(*fresh(args)))
    want = numerical_grad(lambda *a: fun(*fresh(a)), fresh(args), positions)
    for g, w in zip(grads, want):
        np.testing.assert_allclose(g, w, rtol=1e-5, atol=atol)
    if not forward:
        return
    rng = np.random.default_rng(3)
    tangents = [rng.normal(size=np.shape(a)) if isinstance(a, np.ndarray) else 0.7 for a in args]
    out, out_dot = adjoint.jvp(fun)(tuple(fresh(args)), tuple(fresh(tangents)))
    np.testing.assert_allclose(out, value)
    expected = sum(np.sum(np.asarray(w) * t) for w, t in zip(want, tangents))
    np.testing.assert_allclose(out_dot, expected, rtol=1e-5, atol=atol)


X = np.array([0.3, -0.7, 0.2, 1.1])
M = np.array([[0.5, -0.2, 0.9], [0.1, 0.4, -0.6]])


# -- np.add.at and np.subtract.at --------------------------------------------------------------
def add_at_repeated(x):
    a = np.zeros(3)
    np.add.at(a, np.array([0, 0, 2, 0]), x)
    return np.sum(a * a)


def add_at_scalar_into_param(x, s):
    np.add.at(x, [1, 1], s)
    return np.sum(x ** 2)


def add_at_rows(m, x):
    acc = np.zeros((3, 3))
    np.add.at(acc, (np.array([0, 2, 0]), slice(None)), m[0] * x[:3])
    return np.sum(acc * acc) + acc[0, 1]


def subtract_at_in_loop(x):
    a = np.ones(2)
    for i in range(4):
        np.subtract.at(a, i % 2, x[i] * a[0])
    return np.sum(a ** 3)


@pytest.mark.parametrize("fun,args", [
    (add_at_repeated, (X,)), (add_at_scalar_into_param, (X, 0.4)), (add_at_rows, (M, X)),
    (subtract_at_in_loop, (X,)),
])
def test_add_at(fun, args):
    check(fun, *args)


# -- out= ------------------------------------------------------------------------------------------
def ufunc_out(x):
    y = np.zeros(4)
    np.sin(x, out=y)
    return np.sum(y * x)


def ufunc_positional_out_into_itself(x, s):
    np.multiply(x, s, x)
    return np.sum(np.exp(x))


def out_value_used(x):
    y = np.empty(4)
    z = np.exp(x, out=(y,))
    return np.sum(z * y) + y[1]


def reduction_out(m):
    y = np.zeros(3)
    np.sum(m * m, axis=0, out=y)
    return np.sum(y * np.array([1.0, 2.0, 3.0]))


def positional_out_of_a_function(x):
    y = np.zeros(4)
    np.clip(x, -0.5, 0.5, y)
    np.cumsum(x * y, 0, None, y)
    return np.sum(y * y)


def out_in_loop(x):
    h = np.ones(4)
    for _ in range(3):
        np.tanh(h * x, out=h)
    return np.sum(h)


@pytest.mark.parametrize("fun,args", [
    (ufunc_out, (X,)), (ufunc_positional_out_into_itself, (X, 1.3)), (out_value_used, (X,)),
    (reduction_out, (M,)), (positional_out_of_a_function, (X,)), (out_in_loop, (X,)),
])
def test_out(fun, args):
    check(fun, *args)


# -- np.copyto, np.put, fill ---------------------------------------------------------------------------
def copyto_whole(x):
    y = np.zeros(4)
    np.copyto(y, x * 2.0)
    return np.sum(y * y)


def copyto_where(x):
    y = np.ones(4)
    np.copyto(y, x, where=x > 0.0)
    return np.sum(y * x)


def copyto_after_element_write(x):
    y = np.zeros(4)
    y[2] = x[0] * x[1]
    z = y * x
    np.copyto(y, z)
    return np.sum(y * y) + z[2]


def put_values(x):
    y = np.zeros(5)
    np.put(y, [0, 3, 0], x[:3])
    return np.sum(y * y) + y[0]


def put_repeats_and_wraps(x, s):
    y = x * 1.0
    np.put(y, [5, 6, 2], np.array([s, s * s]), mode="wrap")
    return np.sum(y * y)


def fill_from_value(x):
    y = np.zeros(3)
    y.fill(x[0])
    return np.sum(y * x[1:])


def fill_in_loop(x):
    y = np.zeros(4)
    acc = 0.0
    for i in range(4):
        y.fill(x[i] * 2.0)
        y[i] = x[i]
        acc = acc + np.sum(y * x)
    return acc


@pytest.mark.parametrize("fun,args", [
    (copyto_whole, (X,)), (copyto_where, (X,)), (copyto_after_element_write, (X,)),
    (put_values, (X,)), (put_repeats_and_wraps, (X, 0.6)), (fill_from_value, (X,)),
    (fill_in_loop, (X,)),
])
def test_copyto_put_fill(fun, args):
    check(fun, *args)


# -- in-place sort ----------------------------------------------------------------------------------------
def sort_copy(x):
    y = x * 1.0
    y.sort()
    return y[0] * 2.0 + y[3] * y[1]


def sort_parameter_rows(m):
    m.sort(axis=0)
    return np.sum(m[0] * np.array([1.0, 2.0, 3.0])) + np.sum(m[1] ** 2)


# ``a.sort()`` becomes ``a[:] = np.sort(a)`` (a slice write, so that lists sort too), whose
# adjoint bound a view of the dense adjoint before zeroing it until the slice-write fix.


@pytest.mark.parametrize("fun,args", [(sort_copy, (X,)), (sort_parameter_rows, (M,))])
def test_sort(fun, args):
    check(fun, *args)


def test_the_caller_keeps_its_array():
    x = X.copy()
    adjoint.grad(sort_copy)(x)
    adjoint.grad(add_at_scalar_into_param)(x, 0.4)
    np.testing.assert_array_equal(x, X)


# -- refused, never ignored ------------------------------------------------------------------------------
def multiply_at(x):
    a = np.ones(3)
    np.multiply.at(a, [0, 1], x[:2])  # error here
    return np.sum(a)


def helper_changes_its_argument(y):
    y[0] = 5.0


def calls_a_helper_for_its_effect(x):
    y = x * 1.0
    helper_changes_its_argument(y)  # error here
    return np.sum(y)


def fills_a_diagonal(x):
    y = np.zeros((3, 3))
    np.fill_diagonal(y, x[:3])  # error here
    return np.sum(y)


def extends_a_list(x):
    items = [x[0]]
    items.extend([x[1], x[2]])  # error here
    return sum(items)


def sorts_with_a_key(x):
    items = [x[0], x[1]]
    items.sort(key=abs)  # error here
    return items[0]


def out_with_where(x):
    y = np.zeros(4)
    np.sin(x, out=y, where=x > 0.0)  # error here
    return np.sum(y)


def sorts_a_view(m):
    row = m[0]
    row.sort()  # error here
    return np.sum(m * m)


@pytest.mark.parametrize("fun", [multiply_at, calls_a_helper_for_its_effect, fills_a_diagonal,
                                 extends_a_list, sorts_with_a_key, out_with_where, sorts_a_view])
def test_refused_at_the_users_line(fun):
    import inspect
    lines, first = inspect.getsourcelines(fun)
    line = first + next(k for k, text in enumerate(lines) if "# error here" in text)
    arg = M.copy() if fun is sorts_a_view else X.copy()
    with pytest.raises(adjoint.UnsupportedSyntaxError) as info:
        adjoint.grad(fun)(arg)
    assert info.value.lineno == line and info.value.filename == __file__, str(info.value)


def unknown_method(x):
    y = x * 2.0
    return np.sum(np.array(y.tolist()))  # error here


def unknown_method_no_arguments(x):
    d = {"a": x}
    vals = d["a"].tolist()  # error here
    return np.sum(vals[0])


@pytest.mark.parametrize("fun", [unknown_method, unknown_method_no_arguments])
def test_an_unknown_method_of_an_active_value_raises(fun):
    import inspect
    lines, first = inspect.getsourcelines(fun)
    line = first + next(k for k, text in enumerate(lines) if "# error here" in text)
    for transform in (adjoint.grad(fun), lambda x: adjoint.jvp(fun)((x,), (x,))):
        with pytest.raises(adjoint.NotDifferentiableError) as info:
            transform(X.copy())
        assert info.value.lineno == line, str(info.value)


LOG = logging.getLogger("adjoint.tests")


def statements_without_effect(x):
    np.random.seed(0)
    print("x has", len(x), "entries", end="")
    LOG.debug("x is %s", x)
    warnings.warn(f"x[0] is {x[0]}")
    np.sum(x)
    x.sum()
    return np.sum(x * x)


@pytest.mark.filterwarnings("ignore:x.0. is")
def test_statements_without_effect_are_kept(capsys):
    np.testing.assert_allclose(adjoint.grad(statements_without_effect)(X), 2 * X)
