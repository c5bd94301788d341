"""``return`` inside a ``try`` inside a loop (issue 11): the try is a function of its own, called
once per trip, and a return in it comes back as a jump with its value; the path taken at run
time is differentiated, against finite differences on both backends."""
import math
import re
import warnings

import numpy as np
import pytest

import adjoint
from adjoint.testing import numerical_grad


def first_root(w, xs):
    total = 0.0
    for x in xs:
        try:
            r = math.sqrt(x * w)
            return total + r * w
        except ValueError:
            total = total + x * w
    return total


def returns_from_the_handler(w, xs):
    total = w
    for x in xs:
        try:
            total = total + math.sqrt(x * w)
        except ValueError:
            return total * w
    return total


def returns_from_else_and_counts_in_finally(w, xs):
    total = 0.0
    tries = 0
    for x in xs:
        try:
            r = math.log(x * w)
        except ValueError:
            total = total + w * x
        else:
            return total + r * tries
        finally:
            tries = tries + 1
    return total


def returns_from_a_loop_in_the_handler(w, xs):
    total = 0.0
    for x in xs:
        try:
            total = total + math.sqrt(x * w)
        except ValueError:
            for k in range(3):
                total = total + w * k
                if total > 2.0:
                    return total * x
    return total


def returns_in_finally(w, xs):
    total = 0.0
    for x in xs:
        try:
            total = total + math.sqrt(x * w)
        except ValueError:
            total = total - w
        finally:
            return total
    return total


W = 0.7
CASES = [
    (first_root, (W, [-1.0, -2.0, 3.0, 4.0])),
    (first_root, (W, [-1.0, -2.0])),  # never returns from the try
    (returns_from_the_handler, (W, [1.0, 2.0, -3.0, 4.0])),
    (returns_from_the_handler, (W, [1.0, 2.0])),
    (returns_from_else_and_counts_in_finally, (W, [-1.0, 2.0, 3.0])),
    (returns_from_a_loop_in_the_handler, (W, [1.0, -1.0, 2.0])),
    (returns_from_a_loop_in_the_handler, (W, [1.0, 2.0])),
]
IDS = [f"{f.__name__}-{k}" for k, (f, _) in enumerate(CASES)]


@pytest.mark.parametrize("backend", ["numpy", "numba"])
@pytest.mark.parametrize("fun,args", CASES, ids=IDS)
def test_matches_finite_differences(fun, args, backend):
    if backend == "numba":
        pytest.importorskip("numba")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", adjoint.BackendWarning)
        value, got = adjoint.value_and_grad(fun, backend=backend)(*args)
    assert value == pytest.approx(fun(*args))
    assert got == pytest.approx(numerical_grad(fun, args, [0])[0], rel=1e-6)


@pytest.mark.parametrize("fun,args", CASES, ids=IDS)
def test_vjp_and_jvp_agree_with_grad(fun, args):
    g = adjoint.grad(fun)(*args)
    _, pullback = adjoint.vjp(fun)(*args)
    assert pullback(1.0) == pytest.approx(g, rel=1e-12)
    _, out_dot = adjoint.jvp(fun, (0,))(args, (1.0,))
    assert out_dot == pytest.approx(g, rel=1e-10)


def test_the_return_comes_back_as_a_jump():
    text = adjoint.source(first_root)
    assert re.search(r"jump\d* == 3", text) and "retval = returned_value" in text
    assert "== 1" not in text  # no break or continue to act on


def test_return_in_the_finally_is_refused_at_its_line():
    with pytest.raises(adjoint.UnsupportedSyntaxError) as info:
        adjoint.grad(returns_in_finally)(W, [1.0])
    message = str(info.value)
    assert "test_loop_try_return.py" in message and "in the finally of a try in a loop" in message
    assert "try:" in message
