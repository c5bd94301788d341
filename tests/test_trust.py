"""One regression test per class of wrong gradients (issue 10), on both backends.

Every case is checked against central finite differences; with Numba installed
the Numba backend must agree too (falling back to NumPy is allowed here, a
wrong number never is).
"""
import copy
import warnings

import numpy as np
import pytest

import adjoint
from adjoint.pytree import tree_ravel
from adjoint.testing import numerical_grad

from . import trust_cases as c

rng = np.random.default_rng(10)


def normal(*shape):
    return rng.normal(size=shape)


def _turning():
    """A real matrix with eigenvalues 2 and 1 +- 1.5i (eig's output complex, one column real)."""
    q = normal(3, 3) + 2 * np.eye(3)
    return q @ np.array([[1.0, 1.5, 0.0], [-1.5, 1.0, 0.0], [0.0, 0.0, 2.0]]) @ np.linalg.inv(q)


CASES = [
    (c.rnn_rows, (0.5 * normal(3, 3), normal(3)), (0, 1)),
    (c.scale_slice, (normal(5),), 0),
    (c.row_writes, (normal(3),), 0),
    (c.broadcast_column, (normal(3, 2), normal(3)), (0, 1)),
    (c.repeated_set, (normal(4), normal(4)), (0, 1)),
    (c.repeated_iadd, (normal(4), normal(4)), (0, 1)),
    (c.repeated_scalar, (normal(4), 0.7), (0, 1)),
    (c.mask_set, (normal(5), normal(5)), (0, 1)),
    (c.taped_view, (normal(5), normal(3)), (0, 1)),
    (c.written_then_rebound, (normal(3),), 0),
    (c.written_after_cumsum, (normal(3),), 0),
    (c.writes_parameter, (normal(3),), 0),
    (c.scales_columns, (normal(3, 3), normal(3)), (0, 1)),
    (c.overlapping_slices, (normal(5),), 0),
    (c.parameter_iadd, (normal(3),), 0),
    (c.writes_view_of_parameter, (normal(2, 3),), 0),
    (c.loop_or, (normal(6), 0.3), (0, 1)),
    (c.loop_chained_and, (normal(6), 0.8), (0, 1)),
    (c.while_and_or_in_loop, (rng.uniform(0.2, 1.5, size=4),), 0),
    (c.chained_then_break, (normal(6), 0.9), (0, 1)),
    (c.iterated_then_rebound, (normal(3),), 0),
    (c.own_subscript, (normal(3, 2),), 0),
    (c.own_row, (normal(2, 3),), 0),
    (c.own_transpose, (normal(2, 3), normal(2)), (0, 1)),
    (c.swap_shapes, (normal(2, 2), 0.7), (0, 1)),
    (c.self_assign, (normal(3),), 0),
    (c.shadows_every_pattern, (normal(3), normal(3)), (0, 1)),
    (c.over_reversed, (normal(4),), 0),
    (c.over_reversed_range, (normal(4),), 0),
    (c.zip_with_reversed, (normal(4), normal(3)), (0, 1)),
    (c.enumerate_zip, (normal(3), normal(3)), (0, 1)),
    (c.reversed_rows, (normal(3, 2),), 0),
    (c.append_then_stack, (normal(3),), 0),
    (c.pullback_restores_taped_objects, (normal(2),), 0),
    (c.pullback_restores_an_alias, (normal(3), normal(2)), (0, 1)),
    (c.writes_itself, (normal(2, 3),), 0),
    (c.while_always_breaks, (normal(3), normal(3)), (0, 1)),
    (c.writes_tuple_item, ((normal(2), normal(2)), normal(2)), (0, 1)),
    (c.calls_helper_with_in_place_write, (normal(3),), 0),
    (c.breaks_inside_a_while_test_loop, (0.3, 0.1), (0, 1)),
    (c.breaks_inside_a_while_test_loop, (0.3, -0.5), (0, 1)),
    (c.writes_one_leaf, ((normal(2), normal(2)),), 0),
    (c.unpacks_a_literal, (normal(3),), 0),
    (c.loop_target_shadows_a_parameter, ({"w": normal(2), "b": normal(2)}, normal(2)), (0, 1)),
    (c.parameter_bound_to_a_row, (normal(2, 3), 0.4), (0, 1)),
    (c.array_name_reused_as_a_loop_target, (normal(3),), 0),
    (c.returns_from_a_loop, (np.array([0.2, 0.3, 0.4, 0.1]), 0.9), (0, 1)),
    (c.returns_from_a_loop, (np.array([0.1, -0.3, 0.2, 0.1]), 0.9), (0, 1)),
    (c.loop_leaves_its_target, (normal(3), 0.7), (0, 1)),
    (c.inner_loop_leaves_its_target, (normal(3), 0.7), (0, 1)),
    (c.inner_loop_rebinds_the_outer_target, (normal(3), 0.7), (0, 1)),
    (c.bound_on_one_path, (normal(2), 1.0), 0),
    (c.bound_on_one_path, (normal(2), -1.0), 0),
    (c.iterates_a_dict_by_name, ({1: normal(2), 0: normal(3)}, 0.6), (0, 1)),
    (c.complex_from_a_positional_dtype, (normal(3),), 0),
    (c.complex_eigenvalues, (normal(3),), 0),
    (c.real_column_of_eig, (_turning(), normal(3) + 1j * normal(3)), 0),
    (c.complex_into_a_dense_adjoint, (normal(3), normal(3)), (0, 1)),
    (c.dict_built_by_keys, (normal(3),), 0),
    (c.complex_written_into_a_list, (normal(3),), 0),
]
REFUSED = [  # (function, argument, line of the write, fragment of the message)
    (c.alias_sees_write, normal(3), "a[0] = 3.0 * a[1]", "'b' may refer to the same array"),
    (c.alias_sees_iadd, normal(3), "z += 1.0", "'y' may refer to the same array"),
    (c.base_sees_view_write, normal(2, 3), "row *= 2.0", "'A' may refer to the same array"),
    (c.caller_sees_helper_write, normal(3), "s = zero_first(y)", "'zero_first' writes into its argument 'y'"),
    (c.caller_reads_after_view_write, normal(3), "u = divide_tail(s)", "'divide_tail' writes into its argument 's'"),
    (c.renamed_local_in_a_refusal, normal(3), "x_bar[0] = 2.0", "'x_bar' is changed in place here, and 'y'"),
    (c.parameter_named_like_an_adjoint, normal(3), "def parameter_named_like_an_adjoint",
     "the name adjoint gives the derivative of 'x'"),
]
BACKENDS = ["numpy", "numba"]


def _same(a, b):
    if isinstance(a, dict):
        return all(_same(a[k], b[k]) for k in a)
    if isinstance(a, (tuple, list)):
        return all(_same(x, y) for x, y in zip(a, b))
    return np.array_equal(a, b)


def _positions(wrt):
    return list(wrt) if isinstance(wrt, tuple) else [wrt]


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("fun,args,wrt", CASES, ids=[f.__name__ for f, _, _ in CASES])
def test_matches_finite_differences(fun, args, wrt, backend):
    if backend == "numba":
        pytest.importorskip("numba")
    before = [copy.deepcopy(a) for a in args]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", adjoint.BackendWarning)
        got = adjoint.grad(fun, wrt, backend=backend)(*args)
    got = got if isinstance(wrt, tuple) else (got,)
    on_copies = lambda *a: fun(*copy.deepcopy(a))  # noqa: E731 -- fun may write into its arguments
    for g, n in zip(got, numerical_grad(on_copies, args, _positions(wrt))):
        np.testing.assert_allclose(tree_ravel(g)[0], tree_ravel(n)[0], rtol=1e-5, atol=1e-6)
    for a, b in zip(args, before):
        assert _same(a, b)  # the caller's arrays are never changed


@pytest.mark.parametrize("fun,args,wrt", CASES, ids=[f.__name__ for f, _, _ in CASES])
def test_value_and_vjp_agree(fun, args, wrt):
    value, g = adjoint.value_and_grad(fun, wrt)(*args)
    assert np.allclose(value, fun(*copy.deepcopy(args)))  # fun may write into its arguments
    out, pullback = adjoint.vjp(fun, wrt)(*args)
    first, second = pullback(1.0), pullback(1.0)  # the tape is not consumed
    g = g if isinstance(wrt, tuple) else (g,)
    first = first if isinstance(wrt, tuple) else (first,)
    second = second if isinstance(wrt, tuple) else (second,)
    for a, b, d in zip(g, first, second):
        a, b, d = (tree_ravel(t)[0] for t in (a, b, d))
        np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-12)
        np.testing.assert_allclose(b, d, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("fun,arg,line,fragment", REFUSED, ids=[f.__name__ for f, *_ in REFUSED])
def test_refused_with_the_users_line(fun, arg, line, fragment):
    with pytest.raises(adjoint.UnsupportedSyntaxError) as info:
        adjoint.grad(fun)(arg)
    message = str(info.value)
    assert "trust_cases.py" in message and line in message and fragment in message


def constant_output(x):
    return 3.0


def test_a_constant_output_is_the_value():
    value, g = adjoint.value_and_grad(constant_output)(np.ones(3))
    assert value == 3.0 and np.array_equal(g, np.zeros(3))


def test_helper_locals_named_like_split_mode_parameters():
    x = normal(3)
    out, pullback = adjoint.vjp(c.uses_generated_names)(x)
    np.testing.assert_allclose(pullback(np.ones(3)), 4.0 * x + 1.0)
