"""Numba implementations of NumPy calls Numba's own lacks.

``np.max``/``np.min`` (and ``np.amax``/``np.amin``) over one integer axis or with
``keepdims``; ``np.sum`` with ``keepdims``; ``np.matmul`` and ``@`` on stacks of matrices
(3-D with 3-D, 2-D or 3-D with the other), and ``np.matmul`` of vectors and matrices;
``np.pad`` of a vector with zeros; ``np.stack`` and ``np.concatenate`` of a list; ``np.mean``
over one axis or with ``keepdims``; indexing by a list of integers (``a[[0, 2]]``, read and
written) and by a boolean mask of two or more axes (``A[A > 0]``, which Numba types but cannot
lower); ``+=`` and ``-=`` of a 0-d array into a number (``x_bar[i] += np.where(c, g, 0)``:
NumPy and Numba both give ``np.where`` of numbers as a 0-d array, and NumPy's ``+=`` gives a
number); ``np.flip(m, None)`` (the adjoint of ``np.flip(m)`` passes its default on; Numba's
own takes no axis). Numba tries every implementation registered for a function, so its own
still serves the calls it accepts (no axis, no ``keepdims``; ``@`` of vectors and matrices):
these typing functions return None for them. The methods (``x.max(axis=1)``) need nothing
here: the generated code calls the functions. Left to
Numba's refusal: a tuple of axes, ``out=``, a ``keepdims`` that is not a literal, complex
entries in max and min (NumPy orders them lexicographically), stacks of other ranks or of
two dtypes.
"""
from __future__ import annotations

import operator

import numba
import numpy as np
from numba import types
from numba.core.typing.templates import infer, infer_global, make_overload_template
from numba.extending import overload
from numba.np.unsafe.ndarray import to_fixed_tuple

from .kinds import array, flat, index_list, integer, left_out, none, number, tuple_of


def _ordered(t):
    """An array whose entries NumPy's max and min compare as numbers."""
    return array(t) and isinstance(t.dtype, (types.Float, types.Integer, types.Boolean))


def _keepdims(t):
    """``keepdims`` as a Python bool when it is known at typing (left out or a literal), else None."""
    if isinstance(t, types.BooleanLiteral):
        return t.literal_value
    if left_out(t, False):
        return False
    return None


def _given(t):
    """Whether ``keepdims`` is passed (Numba's own max, min and sum take no such argument)."""
    return isinstance(t, types.BooleanLiteral)


@numba.njit(cache=True)
def _axis(axis, nd):
    """``axis`` in ``range(nd)``, counted from the end when negative, as NumPy reads it."""
    if not -nd <= axis < nd:
        raise ValueError("axis is out of bounds for array")
    return axis % nd


@numba.njit(cache=True)
def _extremum_along(a, k, larger):
    """The max (``larger``) or min of ``a`` along axis ``k``, of shape (before k, after k).

    A NaN wins as in NumPy: once met it stays, since no comparison with it holds.
    """
    shape = a.shape
    outer, inner = 1, 1
    for d in range(k):
        outer *= shape[d]
    for d in range(k + 1, a.ndim):
        inner *= shape[d]
    n = shape[k]
    if n == 0:
        raise ValueError("zero-size array to reduction operation which has no identity")
    rows = np.ascontiguousarray(a).reshape((outer, n, inner))
    out = rows[:, 0, :].copy()
    for o in range(outer):
        for j in range(1, n):
            for i in range(inner):
                v = rows[o, j, i]
                if (v > out[o, i] if larger else v < out[o, i]) or v != v:
                    out[o, i] = v
    return out


@numba.njit(cache=True)
def _reduced_shape(shape, k, keep):
    """``shape`` without axis ``k`` (``keep``: with it of length 1), as an int64 array."""
    out = np.empty(len(shape) - (0 if keep else 1), np.int64)
    j = 0
    for d in range(len(shape)):
        if d != k:
            out[j] = shape[d]
            j += 1
        elif keep:
            out[j] = 1
            j += 1
    return out


def _extremum(larger, whole):
    """The typing function of max (``larger``) or min; ``whole`` is Numba's reduction of every entry."""
    def typing(a, axis=None, out=None, keepdims=False):
        keep = _keepdims(keepdims)
        if not _ordered(a) or not none(out) or keep is None:
            return None
        nd = a.ndim
        if none(axis):
            if left_out(axis, None) and not _given(keepdims):
                return None  # Numba's own
            if not keep:
                return lambda a, axis=None, out=None, keepdims=False: whole(a)
            ones = (1,) * nd
            return lambda a, axis=None, out=None, keepdims=False: np.full(ones, whole(a))
        if not integer(axis) or nd == 0:
            return None
        if nd == 1 and not keep:
            def impl(a, axis=None, out=None, keepdims=False):
                return _extremum_along(a, _axis(axis, nd), larger)[0, 0]
            return impl
        rank = nd if keep else nd - 1

        def impl(a, axis=None, out=None, keepdims=False):
            k = _axis(axis, nd)
            shape = to_fixed_tuple(_reduced_shape(a.shape, k, keep), rank)
            return _extremum_along(a, k, larger).reshape(shape)
        return impl
    return typing


def _whole_max(a):
    return np.max(a)


def _whole_min(a):
    return np.min(a)


_max, _min = _extremum(True, numba.njit(_whole_max)), _extremum(False, numba.njit(_whole_min))
for _f, _typing in ((np.max, _max), (np.amax, _max), (np.min, _min), (np.amin, _min)):
    overload(_f)(_typing)


@overload(np.sum)
def _sum(a, axis=None, dtype=None, out=None, keepdims=False):
    """``np.sum`` given ``keepdims`` (Numba's own takes none): Numba's sum, the axis kept."""
    keep = _keepdims(keepdims)
    if not array(a) or not (none(dtype) and none(out)) or keep is None or not _given(keepdims):
        return None
    nd = a.ndim
    if none(axis):
        if not keep:
            return lambda a, axis=None, dtype=None, out=None, keepdims=False: np.sum(a)
        ones = (1,) * nd
        return lambda a, axis=None, dtype=None, out=None, keepdims=False: np.full(ones, np.sum(a))
    if not integer(axis) or nd == 0:
        return None
    if not keep:
        return lambda a, axis=None, dtype=None, out=None, keepdims=False: np.sum(a, axis=axis)
    if nd == 1:
        def impl(a, axis=None, dtype=None, out=None, keepdims=False):
            _axis(axis, nd)
            return np.full((1,), np.sum(a))
        return impl

    def impl(a, axis=None, dtype=None, out=None, keepdims=False):
        k = _axis(axis, nd)
        return np.sum(a, axis=k).reshape(to_fixed_tuple(_reduced_shape(a.shape, k, True), nd))
    return impl


@overload(np.mean)
def _mean(a, axis=None, dtype=None, out=None, keepdims=False):
    """``np.mean`` over one integer axis or with ``keepdims`` (Numba's own takes neither): the
    sum along the axis divided by its length, as NumPy computes it."""
    keep = _keepdims(keepdims)
    if not _averaged(a) or not (none(dtype) and none(out)) or keep is None or a.ndim == 0:
        return None
    nd = a.ndim
    if none(axis):
        if left_out(axis, None) and not _given(keepdims):
            return None  # Numba's own
        ones = (1,) * nd if keep else ()
        return lambda a, axis=None, dtype=None, out=None, keepdims=False: _whole_mean(a, ones)
    if not integer(axis):
        return None
    if nd == 1:
        ones = (1,) if keep else ()

        def impl(a, axis=None, dtype=None, out=None, keepdims=False):
            _axis(axis, nd)
            return _whole_mean(a, ones)
        return impl
    rank = nd if keep else nd - 1

    def impl(a, axis=None, dtype=None, out=None, keepdims=False):
        k = _axis(axis, nd)
        total = np.ascontiguousarray(np.sum(a, axis=k) / a.shape[k])
        return total.reshape(to_fixed_tuple(_reduced_shape(a.shape, k, keep), rank))
    return impl


def _averaged(t):
    """An array whose mean NumPy takes in float64 or complex128, as the division here does (a
    float32 mean stays float32 in NumPy)."""
    return array(t) and (t.dtype in (types.float64, types.complex128)
                         or isinstance(t.dtype, (types.Integer, types.Boolean)))


@numba.njit(cache=True)
def _whole_mean(a, ones):
    """The mean of every entry: a number (``ones`` empty) or an array of shape ``ones``."""
    if len(ones) == 0:
        return np.mean(a)
    return np.full(ones, np.mean(a))


# -- indexing Numba's own lacks -------------------------------------------------------
def _full_mask(a, mask):
    """A boolean array of two or more axes indexing an array of as many (Numba's lowering
    takes only a vector mask)."""
    return (array(a) and array(mask) and isinstance(mask.dtype, types.Boolean)
            and a.ndim == mask.ndim > 1)


@overload(operator.getitem)
def _getitem(a, index):
    """``a[[i, j]]`` (the list as an index array) and ``a[mask]`` with a mask of ``a``'s shape
    (the selected entries in C order)."""
    if array(a) and index_list(index):
        return lambda a, index: a[np.array(index)]
    if _full_mask(a, index):
        def impl(a, index):
            _check_mask(a, index)
            return flat(a)[flat(index)]
        return impl


@overload(operator.setitem)
def _setitem(a, index, value):
    """``a[[i, j]] = v`` (the list as an index array) and ``a[mask] = v`` with a mask of ``a``'s
    shape: ``v`` (a number, or as many values as the mask selects, or one) in C order."""
    if array(a) and index_list(index):
        def impl(a, index, value):
            a[np.array(index)] = value
        return impl
    if _full_mask(a, index) and (number(value) or (array(value) and value.ndim <= 1)):
        return _set_masked


def _set_masked(a, index, value):
    """``a[mask] = value``: the selected entries in C order, a number or one value broadcast."""
    _check_mask(a, index)
    values = np.broadcast_to(value, (np.count_nonzero(index),))
    j = 0
    for at in np.ndindex(a.shape):
        if index[at]:
            a[at] = values[j]
            j += 1


@numba.njit(cache=True)
def _check_mask(a, mask):
    if a.shape != mask.shape:
        raise IndexError("boolean index did not match indexed array")


# -- stacks of matrices ---------------------------------------------------------------
def stacked(a, b):
    """Whether ``a @ b`` is a product of stacks this module computes: float or complex arrays
    of one dtype, ranks 2 and 3 with at least one 3."""
    return (array(a) and array(b) and a.dtype == b.dtype
            and isinstance(a.dtype, (types.Float, types.Complex))
            and {a.ndim, b.ndim} in ({3}, {2, 3}))


@numba.njit(cache=True)
def _one(a):
    """A matrix as a stack of one (C-contiguous)."""
    return np.ascontiguousarray(a).reshape((1,) + a.shape)


def stack_of(a):
    """The compiled function giving ``a`` (2-D or 3-D) as a C-contiguous stack of matrices."""
    return _one if a.ndim == 2 else np.ascontiguousarray


@numba.njit(cache=True)
def _product_stack(na, nb, rows, k_a, k_b, cols, dtype):
    """The empty stack of the products of ``na`` and ``nb`` matrices (a stack of one broadcasts
    over the other) of shapes ``(rows, k_a)`` and ``(k_b, cols)``."""
    if na != nb and na != 1 and nb != 1:
        raise ValueError("matmul: stacks of different lengths do not broadcast")
    if k_a != k_b:
        raise ValueError("matmul: mismatch in the contracted dimension")
    return np.empty((nb if na == 1 else na, rows, cols), dtype)


@numba.njit(cache=True)
def _at(i, stack):
    """The matrix of ``stack`` the ``i``-th product reads (the only one of a stack of one)."""
    return i if stack.shape[0] > 1 else 0


@numba.njit(cache=True)
def batched_matmul(a, b):
    """``a @ b`` of two C-contiguous stacks: one ``np.dot`` per matrix, as NumPy computes each."""
    out = _product_stack(a.shape[0], b.shape[0], a.shape[1], a.shape[2], b.shape[1], b.shape[2], a.dtype)
    for i in range(out.shape[0]):
        np.dot(a[_at(i, a)], b[_at(i, b)], out[i])
    return out


@numba.njit(cache=True)
def batched_matmul_ta(a, b):
    """``swapaxes(a, 1, 2) @ b`` of two C-contiguous stacks; each transposed matrix is a
    Fortran-ordered view, which ``np.dot`` takes without a copy."""
    out = _product_stack(a.shape[0], b.shape[0], a.shape[2], a.shape[1], b.shape[1], b.shape[2], a.dtype)
    for i in range(out.shape[0]):
        np.dot(a[_at(i, a)].T, b[_at(i, b)], out[i])
    return out


@numba.njit(cache=True)
def batched_matmul_tb(a, b):
    """``a @ swapaxes(b, 1, 2)`` of two C-contiguous stacks, as ``batched_matmul_ta``."""
    out = _product_stack(a.shape[0], b.shape[0], a.shape[1], a.shape[2], b.shape[2], b.shape[1], a.dtype)
    for i in range(out.shape[0]):
        np.dot(a[_at(i, a)], b[_at(i, b)].T, out[i])
    return out


def _matmul(a, b):
    if stacked(a, b):
        stack_a, stack_b = stack_of(a), stack_of(b)
        return lambda a, b: batched_matmul(stack_a(a), stack_b(b))


def _np_matmul(a, b):
    """``np.matmul``, which Numba lacks whatever the ranks: vectors and matrices by Numba's ``@``."""
    if array(a) and array(b) and a.ndim in (1, 2) and b.ndim in (1, 2):
        return lambda a, b: a @ b
    return _matmul(a, b)


def _matmul_key(a, b):
    """The key Numba types ``np.matmul`` by. The ufunc itself as the key would have Numba's
    rewrite of ufunc calls fuse the call into an elementwise loop over the entries."""
    return np.matmul(a, b)


@overload(np.pad)
def _pad(array_, pad_width):
    """``np.pad(x, (before, after))`` of a vector, with zeros: how convolve's and correlate's
    adjoints put ``g`` back in the full output (``conv_margins``), Numba lacks it."""
    if array(array_) and array_.ndim == 1 and tuple_of(pad_width) and len(pad_width) == 2 \
            and all(integer(t) for t in pad_width.types):
        def impl(array_, pad_width):
            before, after = pad_width
            if before < 0 or after < 0:
                raise ValueError("index can't contain negative values")
            out = np.zeros(before + array_.size + after, array_.dtype)
            out[before:before + array_.size] = array_
            return out
        return impl


@overload(np.stack)
def _stack_list(arrays, axis=0):
    """``np.stack`` of a list of arrays of one type (Numba's takes a tuple): the arrays as the
    rows of a new first axis, moved to ``axis``."""
    if not (isinstance(arrays, (types.List, types.ListType)) and array(arrays.dtype)):
        return None
    if not (integer(axis) or left_out(axis, 0)):
        return None
    nd, dtype = arrays.dtype.ndim, arrays.dtype.dtype
    width = nd + 1

    def impl(arrays, axis=0):
        if len(arrays) == 0:
            raise ValueError("need at least one array to stack")
        first = arrays[0]
        at = axis + nd + 1 if axis < 0 else axis
        if not 0 <= at <= nd:
            raise ValueError("axis out of bounds for the stacked array")
        rows = np.empty((len(arrays),) + first.shape, dtype)
        for k in range(len(arrays)):
            if arrays[k].shape != first.shape:
                raise ValueError("all input arrays must have the same shape")
            rows[k] = arrays[k]
        order = np.empty(width, np.int64)
        for j in range(width):
            order[j] = 0 if j == at else (j + 1 if j < at else j)
        return np.ascontiguousarray(np.transpose(rows, to_fixed_tuple(order, width)))
    return impl


@overload(np.concatenate)
def _concatenate_list(arrays, axis=0):
    """``np.concatenate`` of a list of arrays of one type (Numba's takes a tuple): each array's
    rows along ``axis`` (moved to the front) after the previous one's."""
    if not (isinstance(arrays, (types.List, types.ListType)) and array(arrays.dtype)):
        return None
    if not (integer(axis) or left_out(axis, 0)) or arrays.dtype.ndim == 0:
        return None
    nd, dtype = arrays.dtype.ndim, arrays.dtype.dtype

    def impl(arrays, axis=0):
        if len(arrays) == 0:
            raise ValueError("need at least one array to concatenate")
        k = _axis(axis, nd)
        front = to_fixed_tuple(_moved_front(k, nd), nd)
        rest = np.transpose(arrays[0], front).shape[1:]
        total = 0
        for a in arrays:
            if np.transpose(a, front).shape[1:] != rest:
                raise ValueError("all the input array dimensions except for the concatenation "
                                 "axis must match exactly")
            total += a.shape[k]
        rows = np.empty((total,) + rest, dtype)
        at = 0
        for a in arrays:
            rows[at:at + a.shape[k]] = np.transpose(a, front)
            at += a.shape[k]
        return np.ascontiguousarray(np.transpose(rows, to_fixed_tuple(np.argsort(_moved_front(k, nd)), nd)))
    return impl


@numba.njit(cache=True)
def _moved_front(k, nd):
    """The axes ``0 .. nd-1`` with ``k`` first, the others in order."""
    order = np.empty(nd, np.int64)
    order[0] = k
    j = 1
    for d in range(nd):
        if d != k:
            order[j] = d
            j += 1
    return order


@overload(np.flip)
def _flip_all(m, axis=None):
    """``np.flip(m, None)``: every axis reversed, as Numba's own ``np.flip(m)`` does."""
    if array(m) and isinstance(axis, types.NoneType):
        return lambda m, axis=None: np.flip(m)
    return None


def _into_number(op):
    """``op`` (``+=`` or ``-=``) of a 0-d array ``b`` into a number ``a``: a number, as in NumPy."""
    def typed(a, b):
        if number(a) and array(b) and b.ndim == 0 and number(b.dtype):
            return lambda a, b: op(a, b[()])
        return None
    return typed


overload(operator.iadd)(_into_number(operator.add))
overload(operator.isub)(_into_number(operator.sub))
overload(operator.matmul)(_matmul)
_template = make_overload_template(_matmul_key, _np_matmul, {"no_cpython_wrapper": True, "nopython": True},
                                   True, "never")
infer(_template)
infer_global(np.matmul, types.Function(_template))
