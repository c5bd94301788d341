"""Comprehensions and the built-ins that iterate (issue 11), on both backends.

Every case is checked against central finite differences with ``grad`` (NumPy and
Numba; falling back to NumPy is allowed, a wrong number never is), with ``vjp``
(the pullback agrees with ``grad`` and can run twice) and with ``jvp`` (the
tangent along a random direction agrees with the gradient).
"""
import copy
import warnings

import numpy as np
import pytest

import adjoint
from adjoint.pytree import tree_ravel
from adjoint.testing import numerical_grad

from . import comprehension_cases as c

rng = np.random.default_rng(11)


def normal(*shape):
    return rng.normal(size=shape)


def params():
    return {"a": normal(3), "b": normal(2)}


CASES = [
    (c.squares_over_range, (normal(4),), 0),
    (c.filtered_items, (normal(6),), 0),
    (c.rows_of_a_matrix, (normal(3, 2),), 0),
    (c.stacked_rows, (normal(3, 2), normal(2)), (0, 1)),
    (c.over_zip, (normal(4), normal(3)), (0, 1)),
    (c.over_enumerate, (normal(4),), 0),
    (c.over_dict_items, (params(),), 0),
    (c.over_dict_values_filtered, (params(),), 0),
    (c.nested_generators, (normal(3, 3),), 0),
    (c.nested_comprehension, (normal(2, 3),), 0),
    (c.asarray_of_a_comprehension, (normal(3),), 0),
    (c.comprehension_of_helpers, (normal(3),), 0),
    (c.target_does_not_leak, (normal(3),), 0),
    (c.target_shadows_a_parameter, (normal(3), 0.4), (0, 1)),
    (c.comprehension_in_a_loop, (normal(3),), 0),
    (c.comprehension_in_a_branch, (normal(3), 0.7), (0, 1)),
    (c.comprehension_in_a_branch, (normal(3), -0.7), (0, 1)),
    (c.comprehension_in_a_conditional_expression, (rng.uniform(0.5, 2.0, 3),), 0),
    (c.comprehension_in_a_conditional_expression, (normal(3) - 2.0,), 0),
    (c.comprehension_in_a_while_test, (np.array([3.0, -0.4, 1.3]),), 0),
    (c.same_object_three_times, (normal(3),), 0),
    (c.list_of_arrays_then_loop, (normal(3),), 0),
    (c.sum_of_a_generator, (normal(4),), 0),
    (c.sum_with_start, (normal(4),), 0),
    (c.max_of_a_generator, (normal(4),), 0),
    (c.tuple_of_a_generator, (normal(3),), 0),
    (c.any_and_all, (np.array([0.3, 2.0, -0.5]),), 0),
    (c.any_and_all, (np.array([0.3, 1.0, -0.5]),), 0),
    (c.any_and_all, (np.array([0.3, 1.0, 2.5]),), 0),
    (c.fsum_of_a_generator, (normal(4),), 0),
    (c.dict_comprehension, (normal(3),), 0),
    (c.dict_comprehension_over_items, (params(),), 0),
    (c.dict_comprehension_repeated_key, (normal(4),), 0),
    (c.set_of_indices, (normal(3),), 0),
    (c.over_a_set_display, (normal(3),), 0),
    (c.list_and_tuple_of_an_array, (normal(2, 3),), 0),
    (c.dict_constructors, (normal(3),), 0),
    (c.sorted_numbers, (normal(4),), 0),
    (c.sorted_with_key_and_reverse, (np.array([0.3, -1.2, 0.8]),), 0),
    (c.sorted_keys, ({"b": normal(2), "a": normal(3), "c": normal(1)},), 0),
    (c.max_of_several, (normal(3),), 0),
    (c.max_with_key, (np.array([0.3, -1.2, 0.8]),), 0),
    (c.reversed_and_negative_step, (normal(5),), 0),
    (c.round_and_divmod, (np.array([1.0, 0.7, -0.4]),), 0),
    (c.product_and_accumulate, (normal(3),), 0),
    (c.zip_and_enumerate_as_values, (normal(3), normal(4)), (0, 1)),
    (c.augmented_own_items, (normal(3),), 0),
    (c.dict_views_as_values, ({"a": normal(2), "b": normal(2)},), 0),
]
IDS = [f"{f.__name__}-{k}" for k, (f, _, _) in enumerate(CASES)]
REFUSED = [  # (function, argument, error, line, fragment of the message)
    (c.lazy_generator, normal(3), adjoint.UnsupportedSyntaxError, "g = (v * 2.0 for v in x)",
     "a generator expression here"),
    (c.set_of_active_values, normal(3), adjoint.NotDifferentiableError,
     "return sum({v * 2.0 for v in x})", "no derivative rule for set"),
    (c.a_set_of_active_numbers, normal(3), adjoint.NotDifferentiableError,
     "return sum({x[0], x[1] * 2.0})", "no derivative rule for set"),
    (c.write_through_a_repeated_item, normal(3), adjoint.UnsupportedSyntaxError, "first[0] = 5.0",
     "'rows' may refer to the same array"),
    (c.augmented_repeated_item, normal(3), adjoint.UnsupportedSyntaxError, "rows[0] *= 3.0",
     "another of its items may refer to the same array"),
    (c.augmented_shared_item, normal(3), adjoint.UnsupportedSyntaxError, "rows[0] += 1.0",
     "'y' may refer to the same array"),
]


def _positions(wrt):
    return list(wrt) if isinstance(wrt, tuple) else [wrt]


def _flat(tree):
    return tree_ravel(tree)[0]


def _grads(fun, args, wrt, backend):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", adjoint.BackendWarning)
        got = adjoint.grad(fun, wrt, backend=backend)(*args)
    return got if isinstance(wrt, tuple) else (got,)


@pytest.mark.parametrize("backend", ["numpy", "numba"])
@pytest.mark.parametrize("fun,args,wrt", CASES, ids=IDS)
def test_matches_finite_differences(fun, args, wrt, backend):
    if backend == "numba":
        pytest.importorskip("numba")
    before = copy.deepcopy(args)
    got = _grads(fun, args, wrt, backend)
    for g, n in zip(got, numerical_grad(fun, args, _positions(wrt))):
        np.testing.assert_allclose(_flat(g), _flat(n), rtol=1e-5, atol=1e-6)
    assert all(np.array_equal(_flat(a), _flat(b)) for a, b in zip(args, before))


@pytest.mark.parametrize("fun,args,wrt", CASES, ids=IDS)
def test_vjp_and_jvp_agree_with_grad(fun, args, wrt):
    got = _grads(fun, args, wrt, "numpy")
    out, pullback = adjoint.vjp(fun, wrt)(*args)
    assert np.allclose(out, fun(*args))
    for _ in range(2):  # the pullback can run again
        pulled = pullback(1.0)
        pulled = pulled if isinstance(wrt, tuple) else (pulled,)
        for a, b in zip(got, pulled):
            np.testing.assert_allclose(_flat(a), _flat(b), rtol=1e-10, atol=1e-12)
    positions = _positions(wrt)
    tangents = tuple(tree_ravel(args[p])[1](rng.normal(size=_flat(args[p]).size)) for p in positions)
    _, out_dot = adjoint.jvp(fun, tuple(positions))(args, tangents)
    want = sum(np.dot(_flat(g), _flat(t)) for g, t in zip(got, tangents))
    np.testing.assert_allclose(out_dot, want, rtol=1e-8, atol=1e-10)


@pytest.mark.parametrize("fun,arg,error,line,fragment", REFUSED, ids=[f.__name__ for f, *_ in REFUSED])
def test_refused_with_the_users_line(fun, arg, error, line, fragment):
    with pytest.raises(error) as info:
        adjoint.grad(fun)(arg)
    message = str(info.value)
    assert "comprehension_cases.py" in message and line in message and fragment in message


def test_the_derivative_reads_like_the_loop():
    source = adjoint.source(c.filtered_items, backend="numpy")
    assert "# comprehension_cases.py:22: return sum([v * v for v in x if v > 0.0])" in source
    assert "items1.append(v1 * v1)" in source and "items1_bar.pop()" in source
    assert source == adjoint.source(c.filtered_items, backend="numpy")  # deterministic


def test_the_target_does_not_leak_into_the_function():
    x = normal(3)
    np.testing.assert_allclose(adjoint.grad(c.target_does_not_leak)(x), np.full(3, 6.0))


@pytest.mark.parametrize("fun", [c.nested_generators, c.dict_comprehension, c.sum_of_a_generator],
                         ids=lambda f: f.__name__)
def test_second_derivatives(fun):
    x = normal(3, 3) if fun is c.nested_generators else normal(3)
    H = adjoint.hessian(fun)(x)
    g = adjoint.grad(fun)
    want = np.array([numerical_grad(lambda y: np.ravel(g(y))[i], (x,), [0])[0]
                     for i in range(x.size)])
    np.testing.assert_allclose(np.reshape(H, (x.size, x.size)), np.reshape(want, (x.size, x.size)),
                               rtol=1e-5, atol=1e-6)
