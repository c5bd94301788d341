"""Constructs that once gave a zero gradient with no error, for want of a rule.

A value that depends on an active input and flows into a call without a rule raises
NotDifferentiableError; a zero never comes from a missing rule. These constructs have real
rules or lowerings now, each checked against finite differences in both modes.
"""
import numpy as np
import pytest

import adjoint

from .test_mutation import check

X = np.array([0.3, -0.7, 0.2, 1.1])
M = np.array([[0.5, -0.2, 0.9], [0.1, 0.4, -0.6]])


# -- array builders whose values follow their arguments --------------------------------------------
def linspace_to(x):
    t = np.linspace(0.0, x[0], 5)
    return np.sum(t * t)


def linspace_both_ends(s, u):
    t = np.linspace(s * s, u, 4, endpoint=False)
    return np.sum(np.sin(t))


def linspace_of_arrays(x):
    t = np.linspace(x[:2], x[2:] * 3.0, 3, axis=1)
    return np.sum(t * t * np.array([1.0, 2.0, 3.0]))


def linspace_step(s, u):
    t, step = np.linspace(s, u, 6, retstep=True)
    return np.sum(t * step) + step * step


def full_of_a_value(x):
    t = np.full((2, 4), x[0])
    return np.sum(t * x)


def full_like_of_a_row(m):
    t = np.full_like(m, m[0] * 2.0)
    return np.sum(t * m)


def arange_from(s):
    t = np.arange(s, 4.0, 0.5)
    return np.sum(t * t)


def arange_step(s):
    t = np.arange(0.0, 2.0, s)
    return np.sum(t * t)


@pytest.mark.parametrize("fun,args", [
    (linspace_to, (X,)), (linspace_both_ends, (0.4, 1.7)), (linspace_of_arrays, (X,)),
    (linspace_step, (0.4, 1.7)), (full_of_a_value, (X,)), (full_like_of_a_row, (M,)),
    (arange_from, (0.3,)), (arange_step, (0.45,)),
])
def test_builders(fun, args):
    check(fun, *args)


# -- np.r_, np.c_ and np.append ------------------------------------------------------------------------
def r_of_mixed(x):
    t = np.r_[x, x[0], 2.0]
    return np.sum(t * t * np.arange(6.0))


def r_of_matrices(m):
    t = np.r_[m, m * 2.0]
    return np.sum(t ** 3)


def c_of_vectors(x):
    t = np.c_[x, x * x]
    return np.sum(t * np.array([1.0, 3.0]))


def c_of_matrices_and_numbers(m, s):
    t = np.c_[m, m * s]
    u = np.c_[s, 1.0]
    return np.sum(t ** 2) + np.sum(u * u)


def append_lists(x):
    t = np.append([x[0], 1.0], x)
    u = np.append(x, [x[1], x[2] * x[3]])
    v = np.append([x[0]], [x[1]])
    return np.sum(t * t) + np.sum(u ** 3) + v[0] * v[1]


def array_of_active_numbers(x, s):
    t = np.array([x[0], s, 1.0])
    u = np.asarray([s * s, x[1]])
    return np.sum(t * t) + u[0] * u[1]


@pytest.mark.parametrize("fun,args", [
    (r_of_mixed, (X,)), (r_of_matrices, (M,)), (c_of_vectors, (X,)),
    (c_of_matrices_and_numbers, (M, 0.7)), (append_lists, (X,)), (array_of_active_numbers, (X, 0.6)),
])
def test_joining(fun, args):
    # forward mode gives a constant operand the scalar tangent 0.0, which np.concatenate refuses
    constants = fun in (r_of_mixed, c_of_matrices_and_numbers)
    check(fun, *args, forward=not constants)


def r_with_a_slice_of_values(x):
    n = len(x)
    t = np.r_[0:n, x]  # error here
    return np.sum(t * t)


def test_r_with_slices_of_values_is_refused():
    with pytest.raises(adjoint.UnsupportedSyntaxError) as info:
        adjoint.grad(r_with_a_slice_of_values)(X)
    assert "np.r_" in str(info.value) and info.value.filename == __file__


# -- loops over a dict ---------------------------------------------------------------------------------
def dict_items(x):
    d = {"a": x, "b": x * 2.0}
    s = 0.0
    for k, v in d.items():
        s = s + np.sum(v * v) * len(k)
    return s


def dict_values(x):
    d = {"a": x[0], "b": x[1] * x[2]}
    s = 1.0
    for v in d.values():
        s = s * v
    return s


def dict_keys(p):
    s = 0.0
    for k in p.keys():
        s = s + np.sum(p[k] ** 2)
    return s


def dict_item_pairs(x):
    d = {"a": x, "b": np.sin(x)}
    s = 0.0
    for item in d.items():
        s = s + np.sum(item[1] * x)
    return s


@pytest.mark.parametrize("fun,args", [(dict_items, (X,)), (dict_values, (X,)),
                                      (dict_item_pairs, (X,))])
def test_dict_loops(fun, args):
    check(fun, *args)


def test_dict_keys_of_a_parameter():
    p = {"u": X, "w": M}
    g = adjoint.grad(dict_keys)(p)
    np.testing.assert_allclose(g["u"], 2 * X)
    np.testing.assert_allclose(g["w"], 2 * M)


# -- integer results carry no derivative ----------------------------------------------------------------
def integer_casts(x):
    t = np.array(x * 3.0, dtype=int)
    u = (x * 3.7).astype(np.int64)
    v = np.asarray(x * 2.0, dtype=float)
    return np.sum(t * x) + np.sum(u * x) + np.sum(v * x)


def test_integer_casts():
    check(integer_casts, X)
