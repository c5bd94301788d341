"""The NumPy calls ``adjoint/backends/numba/numpy.py`` gives Numba: compiled, each equals NumPy.

Also means over an axis, indexing by lists and masks of two or more axes,
concatenating a list, and ``+=``/``-=`` of a 0-d array into a number.

Max and min over an axis must equal NumPy's exactly (ties, NaN, integers,
views); products of stacks and sums to rounding. Numba's own implementations
must still serve the calls they accept (the typing functions here return None).
"""
import operator
import warnings

import numpy as np
import pytest

import adjoint

numba = pytest.importorskip("numba")

from adjoint.backends import numba as nb  # noqa: E402

nb._register()
from adjoint.backends.numba import numpy as nbnp  # noqa: E402

rng = np.random.default_rng(21)
M = rng.normal(size=(3, 4))
T = np.round(rng.normal(size=(2, 3, 4)))  # ties
N = M.copy()
N[1, 2] = np.nan
I = rng.integers(-3, 3, size=(3, 4))
F = np.asfortranarray(T)


def max_axis(x, axis):
    return np.max(x, axis=axis)


def min_axis(x, axis):
    return np.min(x, axis=axis)


def max_kept(x, axis):
    return np.max(x, axis=axis, keepdims=True)


def amin_kept(x, axis):
    return np.amin(x, axis, None, True)


def amax_positional(x, axis):
    return np.amax(x, axis)


def max_all_kept(x):
    return np.max(x, keepdims=True)


def min_axis_none(x):
    return np.min(x, axis=None)


def max_all(x):
    return np.max(x)


def min_not_kept(x):
    return np.min(x, keepdims=False)


def sum_kept(x, axis):
    return np.sum(x, axis=axis, keepdims=True)


def sum_not_kept(x, axis):
    return np.sum(x, axis=axis, keepdims=False)


def sum_all_kept(x):
    return np.sum(x, keepdims=True)


def literal_axis_1(x):
    return np.max(x, axis=1, keepdims=True) + np.min(x, axis=-1, keepdims=True)


def matmul(a, b):
    return np.matmul(a, b)


def at(a, b):
    return a @ b


def matmul_in_expression(a, b):
    return np.matmul(a, b) * 2.0 + 1.0  # not fused into an elementwise loop


EXTREMA = {
    "max over 0": (max_axis, (M, 0)), "max over 1": (max_axis, (M, 1)),
    "max over -1": (max_axis, (M, -1)), "min over 0": (min_axis, (M, 0)),
    "min over 1 with ties": (min_axis, (np.round(M), 1)),
    "max of a stack over 0": (max_axis, (T, 0)), "max of a stack over 1": (max_axis, (T, 1)),
    "min of a stack over 2": (min_axis, (T, 2)), "min of a stack over -2": (min_axis, (T, -2)),
    "max kept over 1": (max_kept, (M, 1)), "max kept over 0": (max_kept, (M, 0)),
    "max of a stack kept over -1": (max_kept, (T, -1)),
    "amin kept, positional": (amin_kept, (T, 1)), "amax positional": (amax_positional, (M, 0)),
    "max of a vector over 0": (max_axis, (M[0], 0)), "max of a vector kept": (max_kept, (M[0], -1)),
    "max with NaN over 0": (max_axis, (N, 0)), "min with NaN over 1": (min_axis, (N, 1)),
    "max of integers over 1": (max_axis, (I, 1)), "min of integers kept": (amin_kept, (I, 0)),
    "max of booleans over 0": (max_axis, (M > 0, 0)),
    "max of a Fortran stack over 1": (max_axis, (F, 1)),
    "min of a strided view over 0": (min_axis, (T[:, ::2, 1:], 0)),
    "max of a transposed view kept": (max_kept, (M.T, 1)),
    "max of every entry kept": (max_all_kept, (T,)), "min with axis=None": (min_axis_none, (T,)),
    "max of every entry (Numba's)": (max_all, (N,)), "min, keepdims=False": (min_not_kept, (T,)),
    "literal axes": (literal_axis_1, (M,)),
    "max of an empty stack's rows": (max_axis, (np.zeros((0, 3)), 1)),
}
SUMS = {
    "sum kept over 1": (sum_kept, (M, 1)), "sum kept over 0": (sum_kept, (M, 0)),
    "sum kept over -1 of a stack": (sum_kept, (T, -1)), "sum kept of a vector": (sum_kept, (M[0], 0)),
    "sum kept of a view": (sum_kept, (M.T, 1)), "sum with keepdims=False": (sum_not_kept, (T, 1)),
    "sum of every entry kept": (sum_all_kept, (T,)), "sum of integers kept": (sum_kept, (I, 1)),
}
S, P, Q = rng.normal(size=(3, 4, 5)), rng.normal(size=(3, 5, 2)), rng.normal(size=(5, 2))
PRODUCTS = {
    "stacks": (S, P), "stack and matrix": (S, Q), "matrix and stack": (rng.normal(size=(2, 4)), S),
    "stack of one and stack": (S[:1], P), "stack and stack of one": (S, P[:1]),
    "transposed stacks": (np.transpose(P, (0, 2, 1)), np.transpose(S, (0, 2, 1))),
    "strided stacks": (S[:, ::2], P[::-1]), "empty stack": (S[:0], P[:0]),
    "contracting nothing": (S[:, :, :0], P[:, :0]), "empty stack and stack of one": (S[:0], P[:1]), "complex stacks": (S * 1j + S, P + 0j),
}


@pytest.mark.parametrize("case", list(EXTREMA))
def test_max_and_min_equal_numpy(case):
    fn, args = EXTREMA[case]
    got, want = numba.njit(fn)(*args), fn(*args)
    assert np.shape(got) == np.shape(want)
    assert np.asarray(got).dtype == np.asarray(want).dtype
    assert np.array_equal(got, want, equal_nan=True)


@pytest.mark.parametrize("case", list(SUMS))
def test_sums_kept_equal_numpy(case):
    fn, args = SUMS[case]
    got, want = numba.njit(fn)(*args), fn(*args)
    assert np.shape(got) == np.shape(want)
    assert np.asarray(got).dtype == np.asarray(want).dtype
    np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("fn", [matmul, at, matmul_in_expression])
@pytest.mark.parametrize("case", list(PRODUCTS))
def test_products_of_stacks_equal_numpy(case, fn):
    pytest.importorskip("scipy", reason="Numba's np.dot needs SciPy")
    a, b = PRODUCTS[case]
    got, want = numba.njit(fn)(a, b), fn(a, b)
    assert got.shape == want.shape and got.dtype == want.dtype
    np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("a,b", [(M, Q[:4]), (M[0], Q[:4]), (M, M[0]), (M[0], M[0])])
def test_np_matmul_of_vectors_and_matrices(a, b):
    pytest.importorskip("scipy", reason="Numba's np.dot needs SciPy")
    np.testing.assert_allclose(numba.njit(matmul)(a, b), np.matmul(a, b), rtol=1e-12, atol=1e-12)


def test_float32_stacks_stay_float32():
    pytest.importorskip("scipy", reason="Numba's np.dot needs SciPy")
    a, b = S.astype(np.float32), P.astype(np.float32)
    got = numba.njit(at)(a, b)
    assert got.dtype == np.float32
    np.testing.assert_allclose(got, a @ b, rtol=1e-5)


@pytest.mark.parametrize("fn,args", [
    (max_axis, (M, 2)), (min_axis, (M, -3)), (max_kept, (M[0], 1)), (sum_kept, (M, 2)),
    (max_axis, (np.zeros((3, 0)), 1)),
])
def test_bad_reductions_raise_value_errors(fn, args):
    with pytest.raises(ValueError):
        fn(*args)
    with pytest.raises(ValueError):
        numba.njit(fn)(*args)


@pytest.mark.parametrize("a,b", [(S, P[:2]), (S, S)])
def test_products_that_do_not_fit_raise_value_errors(a, b):
    pytest.importorskip("scipy", reason="Numba's np.dot needs SciPy")
    with pytest.raises(ValueError):
        a @ b
    with pytest.raises(ValueError):
        numba.njit(at)(a, b)


def test_numba_serves_what_it_accepts():
    t = numba.typeof
    lit = numba.types.literal
    assert nbnp._max(t(M)) is None and nbnp._min(t(T)) is None  # no axis: Numba's own
    assert nbnp._max(t(M), lit(1)) is not None and nbnp._min(t(T), t(-1)) is not None
    assert nbnp._max(t(M), lit(1), None, lit(True)) is not None
    assert nbnp._max(t(M), lit(1), None, numba.types.boolean) is None  # rank unknown
    assert nbnp._max(t(M), numba.types.UniTuple(numba.types.int64, 2)) is None
    assert nbnp._max(t(M * 1j), lit(0)) is None
    assert nbnp._sum(t(M), lit(1)) is None  # Numba's sum over an axis
    assert nbnp._sum(t(M), lit(1), None, None, lit(True)) is not None
    assert nbnp._matmul(t(M), t(Q[:4])) is None and nbnp._matmul(t(M[0]), t(S)) is None
    assert nbnp._matmul(t(S), t(P.astype(np.float32))) is None
    assert nbnp._matmul(t(S), t(P)) is not None


def test_operator_matmul_keeps_numbas_matrices():
    pytest.importorskip("scipy", reason="Numba's np.dot needs SciPy")
    jitted = numba.njit(lambda a, b: operator.matmul(a, b))
    np.testing.assert_allclose(jitted(M, Q[:4]), M @ Q[:4], rtol=1e-12)


def stack_list(a, b, axis):
    return np.stack([a, b + b, a + b], axis)


@pytest.mark.parametrize("axis", [0, 1, 2, -1, -3])
@pytest.mark.parametrize("a,b", [(M, M.T.copy().T), (M[0], M[1]), (I, I)], ids=["matrices", "vectors", "integers"])
def test_stack_of_a_list_equals_numpy(a, b, axis):
    if axis > a.ndim or axis < -a.ndim - 1:
        pytest.skip("an axis the stack does not have")
    got, want = numba.njit(stack_list)(a, b, axis), stack_list(a, b, axis)
    assert got.shape == want.shape and got.dtype == want.dtype and got.flags.c_contiguous
    np.testing.assert_array_equal(got, want)


def test_stack_of_a_list_refuses_what_numpy_refuses():
    with pytest.raises(ValueError):
        numba.njit(lambda a, b: np.stack([a, b]))(M, M[:2])  # two shapes
    with pytest.raises(ValueError):
        numba.njit(stack_list)(M, M, 3)  # an axis out of bounds


def mean_axis(x, axis):
    return np.mean(x, axis=axis)


def mean_kept(x, axis):
    return np.mean(x, axis=axis, keepdims=True)


def mean_all_kept(x):
    return np.mean(x, keepdims=True)


MEANS = {
    "mean over 0": (mean_axis, (M, 0)), "mean over -1": (mean_axis, (M, -1)),
    "mean of a stack over 1": (mean_axis, (T, 1)), "mean of integers over 1": (mean_axis, (I, 1)),
    "mean of a view over 1": (mean_axis, (M[:, ::2], 1)), "mean of a vector over 0": (mean_axis, (M[0], 0)),
    "mean kept over 1": (mean_kept, (M, 1)), "mean of a stack kept over 0": (mean_kept, (T, 0)),
    "mean of a vector kept": (mean_kept, (M[0], -1)), "mean of every entry kept": (mean_all_kept, (T,)),
    "mean of a complex matrix over 0": (mean_axis, (M + 1j * M[::-1], 0)),
}


@pytest.mark.parametrize("case", list(MEANS))
def test_means_equal_numpy(case):
    fn, args = MEANS[case]
    got, want = numba.njit(fn)(*args), fn(*args)
    assert np.shape(got) == np.shape(want)
    assert np.asarray(got).dtype == np.asarray(want).dtype
    np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-12)


def test_mean_leaves_float32_and_bad_axes_to_numba():
    t = numba.typeof
    assert nbnp._mean(t(M.astype(np.float32)), numba.types.literal(0)) is None  # NumPy's stays float32
    assert nbnp._mean(t(M)) is None  # Numba's own
    with pytest.raises(ValueError):
        numba.njit(mean_axis)(M, 2)


def picked(a):
    return a[[2, 0, 2]]


def masked(a):
    return a[a > 0.1]


def set_picked(a, v):
    b = a.copy()
    b[[0, 2]] = v
    return b


def set_masked(a, v):
    b = a.copy()
    b[b > 0.0] = v
    return b


def doubled_where_positive(a):
    b = a.copy()
    m = b > 0.0
    b[m] = b[m] * 2.0
    return b


INDEXING = {
    "a list of a matrix's rows": (picked, (M,)), "a list of a vector's entries": (picked, (M[0],)),
    "a mask of a matrix": (masked, (M,)), "a mask of a stack": (masked, (T,)),
    "a mask of a transposed view": (masked, (M.T,)), "a mask of a Fortran stack": (masked, (F,)),
    "a list written a number": (set_picked, (M, 1.5)), "a list written rows": (set_picked, (M, M[:2] * 3)),
    "a mask written a number": (set_masked, (T, 0.0)), "a mask written one value": (set_masked, (M, np.ones(1))),
    "a mask written its values": (doubled_where_positive, (M.T,)),
}


@pytest.mark.parametrize("case", list(INDEXING))
def test_indexing_by_lists_and_masks_equals_numpy(case):
    fn, args = INDEXING[case]
    got, want = numba.njit(fn)(*args), fn(*args)
    assert got.shape == want.shape and got.dtype == want.dtype
    np.testing.assert_array_equal(got, want)


def test_masks_of_another_shape_raise_index_errors():
    with pytest.raises(IndexError):
        numba.njit(lambda a, m: a[m])(M, np.ones((4, 3), bool))
    with pytest.raises(IndexError):
        numba.njit(set_mask)(M.copy(), np.ones((3, 3), bool))


def set_mask(a, m):
    a[m] = 1.0
    return a


def concatenate_list(a, b, axis):
    return np.concatenate([a, b, a], axis)


@pytest.mark.parametrize("a,b,axis", [(M, M[:1], 0), (M, M[:, :2], 1), (M, M[:, 1:], -1), (T, T[:, :1], 1),
                                      (M[0], M[1, ::2], 0), (M.T, M.T, 0), (I, I, 1)])
def test_concatenate_of_a_list_equals_numpy(a, b, axis):
    got, want = numba.njit(concatenate_list)(a, b, axis), concatenate_list(a, b, axis)
    assert got.shape == want.shape and got.dtype == want.dtype and got.flags.c_contiguous
    np.testing.assert_array_equal(got, want)


def test_concatenate_of_a_list_refuses_what_numpy_refuses():
    with pytest.raises(ValueError):
        numba.njit(concatenate_list)(M, M[:, :2], 0)  # other lengths off the axis
    with pytest.raises(ValueError):
        numba.njit(concatenate_list)(M, M, 2)  # an axis out of bounds


def into_entries(x, c, g):
    """``np.where`` of numbers is a 0-d array (in NumPy and Numba); ``+=``, ``-=`` put it in a number."""
    for i in range(x.shape[0]):
        x[i] += np.where(c[i], g, 0)
        x[i] -= np.where(c[i], 0, 2 * g)
    s = 0.5
    s += np.where(c[0], g, 1)
    return x, s


def test_a_0d_array_adds_into_a_number_as_in_numpy():
    c = np.array([True, False, True])
    got, want = numba.njit(into_entries)(M[0, :3].copy(), c, 1.5), into_entries(M[0, :3].copy(), c, 1.5)
    np.testing.assert_array_equal(got[0], want[0])
    assert got[1] == want[1] == 2.0


def test_where_of_numbers_in_a_loop_compiles_on_numba():
    def loss(x):
        s = 0.0
        for i in range(3):
            s = s + np.where(x[i] > 0, x[i], 2.0 * x[i])
        return s

    x = np.array([1.0, -2.0, 3.0, 4.0])
    with warnings.catch_warnings():
        warnings.simplefilter("error", adjoint.BackendWarning)
        got = adjoint.grad(loss, backend="numba")(x)
    np.testing.assert_array_equal(got, [1.0, 2.0, 1.0, 0.0])


def test_flip_with_axis_none_equals_numpy():
    for a in (M[0], M, T):
        np.testing.assert_array_equal(numba.njit(lambda m: np.flip(m, None))(a), np.flip(a, None))
    np.testing.assert_array_equal(numba.njit(lambda m: np.flip(m))(M), np.flip(M))  # Numba's own
