"""Lists joined by ``+``, repeated by ``*``, extended by ``+=`` (``passes/lists.py``).

Python's ``+`` and ``*`` on lists build a longer list; the arithmetic rules would add their
adjoints as numbers (a crash on NumPy, a zero gradient on Numba, where ``list * 2`` repeats
the adjoint list). Lists the compiler knows are lowered to loops of appends: checked here
against central finite differences on both backends (Numba must compile them), and forward
mode against the gradient. Where it cannot know the operands are lists, the gradient is
refused at the user's line, never computed as numbers.
"""
import warnings

import numpy as np
import pytest

import adjoint
from adjoint.testing import numerical_grad

X = np.array([0.8, -0.5, 0.3])


def joined(x):
    a = [x[0] * 2.0, x[1]]
    b = [x[2]]
    c = a + b
    s = 0.0
    for i in range(3):
        s = s + c[i] * (i + 1.0)
    return s


def repeated(x):
    a = [x[0], np.sin(x[1])]
    c = a * 2  # four items, each of a's twice
    d = 2 * [x[2]]
    return c[0] * c[3] + c[2] + d[0] * d[1]


def repeated_len(x):
    a = [x[0], x[1]]
    c = a * len(a)
    return c[0] * c[3] + c[2] ** 2


def extended(x):
    a = [x[0], x[1]]
    a += [x[2] * x[0]]  # a alone holds its list: in place equals rebinding
    return a[0] * a[2] + a[1]


def joined_in_a_loop(x):
    acc = [x[0]]  # (Numba types no empty list)
    for i in range(3):
        acc = acc + [x[i] * x[i]]
    return acc[0] * acc[3] + acc[1] * acc[2]


def lists_of_arrays(x, y):
    rows = [x * 2.0] + [y, x * y]
    more = rows * 2
    return np.sum(np.stack(more) ** 2) + np.sum(rows[2])


def list_call_joined(x):
    return sum(list(x) + [x[0] * x[1]])


def extended_by_a_tuple(x):
    a = [x[0]]
    a += (x[1] * x[2], x[0])  # += extends a list by any iterable (a + (...) would raise)
    return a[0] * a[1] + a[2] ** 2


def numpy_arithmetic_with_a_list(x):
    a = [x[0], x[1], x[2]]
    return np.sum((x + a) * x) + np.sum(a * x)  # array and list: NumPy's arithmetic


CASES = [(joined, (X,), 0), (repeated, (X,), 0), (repeated_len, (X,), 0), (extended, (X,), 0),
         (joined_in_a_loop, (X,), 0), (lists_of_arrays, (X, np.array([0.4, 1.1, -0.7])), (0, 1)),
         (list_call_joined, (X,), 0)]
ALL = CASES + [(extended_by_a_tuple, (X,), 0), (numpy_arithmetic_with_a_list, (X,), 0)]


def _tuple(value, wrt):
    return value if isinstance(wrt, tuple) else (value,)


def _positions(wrt):
    return list(wrt) if isinstance(wrt, tuple) else [wrt]


@pytest.mark.parametrize("fun,args,wrt", ALL, ids=[f.__name__ for f, _, _ in ALL])
def test_numpy_backend_matches_finite_differences(fun, args, wrt):
    got = _tuple(adjoint.grad(fun, wrt, backend="numpy")(*args), wrt)
    for g, n in zip(got, numerical_grad(fun, args, _positions(wrt))):
        np.testing.assert_allclose(g, n, rtol=1e-6, atol=1e-8)


@pytest.mark.parametrize("fun,args,wrt", CASES, ids=[f.__name__ for f, _, _ in CASES])
def test_numba_compiles_and_matches(fun, args, wrt):
    numba = pytest.importorskip("numba")
    g = adjoint.grad(fun, wrt, backend="numba")
    with warnings.catch_warnings():
        warnings.simplefilter("error", adjoint.BackendWarning)  # a fallback fails the test
        got = _tuple(g(*args), wrt)
    (entry,) = g._entries.values()
    assert isinstance(entry["main"].call, numba.core.dispatcher.Dispatcher)
    for a, n in zip(got, numerical_grad(fun, args, _positions(wrt))):
        np.testing.assert_allclose(a, n, rtol=1e-6, atol=1e-8)


@pytest.mark.parametrize("fun,args,wrt", CASES, ids=[f.__name__ for f, _, _ in CASES])
def test_forward_mode_agrees(fun, args, wrt):
    positions = _positions(wrt)
    got = _tuple(adjoint.grad(fun, wrt, backend="numpy")(*args), wrt)
    tangents = tuple(np.linspace(0.3, -0.6, np.size(args[p])).reshape(np.shape(args[p])) for p in positions)
    _, out_dot = adjoint.jvp(fun, tuple(positions))(args, tangents)
    np.testing.assert_allclose(out_dot, sum(np.vdot(g, t) for g, t in zip(got, tangents)), rtol=1e-8)


SINGLE = [(f, a, w) for f, a, w in CASES if w == 0]


@pytest.mark.parametrize("fun,args,wrt", SINGLE, ids=[f.__name__ for f, _, _ in SINGLE])
def test_second_order_agrees(fun, args, wrt):
    """hvp and hessian (the list adjoints' own tangents and adjoints) against differences of grad."""
    v = np.array([0.4, -0.3, 0.9])
    grad = adjoint.grad(fun, wrt, backend="numpy")
    h = 1e-6
    step = (grad(args[0] + h * v, *args[1:]) - grad(args[0] - h * v, *args[1:])) / (2 * h)
    np.testing.assert_allclose(adjoint.hvp(fun)(*args, v), step, rtol=1e-5, atol=1e-7)
    hessian = adjoint.hessian(fun)(*args)
    np.testing.assert_allclose(hessian @ v, step, rtol=1e-5, atol=1e-7)


def aliased_then_extended(x):
    a = [x[0], x[1]]
    c = a
    a += [x[2]]  # extends the list c sees too
    return c[2] * a[0]


def parameter_joined(p):
    c = p + [p[0]]  # p's kind is the caller's
    return c[0] * c[2] + c[1]


def repeated_by_a_parameter(p, n):
    c = p * n
    return c[0] * c[3] + c[2]


def pair(x):
    return [x[0], x[1]]


def helper_joined(x):
    c = pair(x) + [x[2]]
    return c[0] * c[2]


REFUSED = [
    (aliased_then_extended, (X,), adjoint.UnsupportedSyntaxError, "a += [x[2]]", "'c' may refer"),
    (parameter_joined, ([0.8, 0.5],), adjoint.NotDifferentiableError, "c = p + [p[0]]", "joins or repeats lists"),
    (repeated_by_a_parameter, ([0.8, 0.5], 2), adjoint.NotDifferentiableError, "c = p * n",
     "for a * n"),
    (helper_joined, (X,), adjoint.NotDifferentiableError, "c = pair(x) + [x[2]]", "list(a) + list(b)"),
]


@pytest.mark.parametrize("backend", ["numpy", "numba"])
@pytest.mark.parametrize("fun,args,error,line,fragment", REFUSED, ids=[r[0].__name__ for r in REFUSED])
def test_lists_of_unknown_kind_are_refused_at_the_users_line(fun, args, error, line, fragment, backend):
    if backend == "numba":
        pytest.importorskip("numba")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", adjoint.BackendWarning)
        with pytest.raises(error) as info:
            adjoint.grad(fun, backend=backend)(*args)
    assert info.value.filename == __file__ and line in str(info.value) and fragment in str(info.value)


def test_the_hint_works():
    def fixed(p):
        c = list(p) + [p[0]]
        return c[0] * c[2] + c[1]

    def fixed_repeat(p, n):
        c = [v for _ in range(n) for v in p]
        return c[0] * c[3] + c[2]

    np.testing.assert_allclose(adjoint.grad(fixed)([0.8, 0.5]), [1.6, 1.0])
    np.testing.assert_allclose(adjoint.grad(fixed_repeat)([0.8, 0.5], 2), [1.5, 0.8])
