"""Numba twins of ``adjoint/runtime/core.py``: broadcasting, accumulation, seeds, copies.

Each twin is the ``overload`` of the helper of the same name: a typing function
that returns an implementation for the Numba types it handles (real numbers and
real arrays of any rank, unless it says otherwise) and None for the rest.
"""
from __future__ import annotations

import numba
import numpy as np
from numba import types
from numba.extending import overload
from numba.np.unsafe.ndarray import to_fixed_tuple

from ... import runtime
from .kinds import (Rows, RowsType, array, axes_type, basic_index, complex_valued, dict_of, flat, generated,
                    index_list, integer, integer_array, kept_shape, list_of, none, number, numeric, per_item, real,
                    real_array, scalar, shape_of, spread_add, tuple_of, twin)
from .numpy import batched_matmul_ta, batched_matmul_tb, stack_of, stacked


@numba.njit(cache=True)
def _one_axis(axis):
    return (axis,)


@numba.njit(cache=True)
def _axes(axis):
    return axis


@numba.njit(cache=True)
def _entry(v):
    """A number as a one-entry array, the flat data of an array reduced to a number's place."""
    return np.full(1, v)


def _axes_of(axis):
    """The compiled function turning this ``axis`` argument into a tuple of axes."""
    return _one_axis if integer(axis) else _axes


def _flat_of(v):
    """The compiled function giving ``v``'s entries as a 1-D array (a number gets one entry)."""
    return flat if array(v) else _entry


@numba.njit(cache=True)
def _summed(g, x):
    """``g`` summed over the axes along which ``x`` was broadcast (``x`` an array)."""
    nd = max(g.ndim, x.ndim)
    out = np.zeros(x.size, g.dtype)
    spread_add(out, shape_of(x.shape, nd), flat(g), shape_of(g.shape, nd))
    return out.reshape(x.shape)


@numba.njit(cache=True)
def _spread(g_flat, kept, x):
    """The entries of ``g`` (its flat data, of shape ``kept``) repeated over ``x``'s shape."""
    out = np.zeros(x.size, g_flat.dtype)
    spread_add(out, shape_of(x.shape, x.ndim), g_flat, kept)
    return out.reshape(x.shape)


@twin(runtime.unit_seed)
def _unit_seed(y):
    if number(y):
        return lambda y: 1.0


@twin(runtime.conj)
def _conj(x):
    if real(x):
        return lambda x: x
    return lambda x: np.conj(x)


@twin(runtime.real_part)
def _real_part(g):
    """A complex array's real part as a C-ordered copy: Numba's ``np.real`` is a strided view,
    which its ``reshape`` (the adjoint of ``ravel`` or ``reshape``, next) refuses."""
    if real(g) or (isinstance(g, RowsType) and _real_items(g.field_dict["data"])):
        return lambda g: g
    if array(g):
        return lambda g: np.real(g).copy()
    return lambda g: np.real(g)


def _real_items(data):
    """Whether a ``Rows``' data holds real values: a real array, or a list or tuple of them."""
    if tuple_of(data):
        return all(real(t) for t in data.types)
    return real(data) or (list_of(data) and real(data.dtype))


@twin(runtime.real_like)
def _real_like(g, like):
    if real(like) and not real(g):
        return lambda g, like: runtime.real_part(g)
    return lambda g, like: g


@twin(runtime.by_items)
def _by_items(g):
    """A list's or a tuple's adjoint as ``Rows``, which ``+=`` and ``+`` add item by item."""
    if list_of(g) or tuple_of(g):
        return lambda g: Rows(g)
    return lambda g: g


@twin(runtime.zeros_like)
def _zeros_like(x):
    if number(x) or none(x) or isinstance(x, types.Optional) and number(x.type):
        return lambda x: 0.0  # None: a name not bound yet, whose adjoint nothing reads (as on NumPy)
    if isinstance(x, types.Optional) and array(x.type):  # its rank's zero, empty while unbound
        empty = (0,) * x.type.ndim
        return lambda x: np.zeros(x.shape) if x is not None else np.zeros(empty)
    if array(x):
        return lambda x: np.zeros(x.shape)
    if list_of(x) and (number(x.dtype) or array(x.dtype)):
        return lambda x: [runtime.zeros_like(v) for v in x]
    if list_of(x) and list_of(x.dtype) and number(x.dtype.dtype):
        # a list of lists of numbers: each item's adjoint a ``Rows``, which adds a list or an
        # array item by item (a list's ``+=`` would append it)
        return lambda x: [Rows(np.zeros(len(v))) for v in x]
    if dict_of(x) and (number(x.value_type) or array(x.value_type)):
        def impl(x):
            out = dict()
            for k, v in x.items():
                out[k] = runtime.zeros_like(v)
            return out
        return impl
    if tuple_of(x) and all(number(t) for t in x.types):  # its items are added to one by one
        size = len(x)
        return lambda x: np.zeros(size)
    if tuple_of(x) and all(number(t) or array(t) for t in x.types):
        return generated(per_item(len(x), "zeros_like(x[{i}])"), {"zeros_like": runtime.zeros_like})


@twin(runtime.snapshot)
def _snapshot(v):
    if number(v):
        return lambda v: v
    if array(v):
        return lambda v: v.copy()
    if list_of(v) or tuple_of(v):  # the container itself, as on NumPy
        return lambda v: v


@twin(runtime.reserve)
def _reserve(tape, size):
    if array(tape) and integer(size):
        return runtime.reserve


@twin(runtime.astype)
def _astype(x, dtype):
    if array(x):
        return lambda x, dtype: x.astype(dtype)


@overload(np.result_type)
def _result_type(x):
    """``np.result_type`` of one array: its dtype (``astype``'s adjoint casts back to it)."""
    if array(x):
        return lambda x: x.dtype


@overload(np.ndim)
def _ndim(x):
    """``np.ndim`` of an array or a number (``hstack``'s adjoint asks its first piece's rank)."""
    rank = x.ndim if array(x) else 0 if number(x) else None
    if rank is not None:
        return lambda x: rank


@overload(np.shape)
def _shape_of_optional(x):
    """``np.shape`` of an array that may be None (a name taped before its first binding, an
    adjoint's template asking its shape where it is bound): the array's, read as any other
    read of an optional value (a TypeError, were it None)."""
    if isinstance(x, types.Optional) and array(x.type):
        return lambda x: x.shape


@twin(runtime.writable_copy)
def _writable_copy(x):
    if array(x):
        return lambda x: x.copy()


@twin(runtime.grad_like)
def _grad_like(x_bar, x):
    if number(x) and number(x_bar):
        return lambda x_bar, x: float(x_bar)
    if array(x) and (array(x_bar) or number(x_bar)):
        def impl(x_bar, x):
            out = np.empty(x.shape, x.dtype)
            out[...] = x_bar
            return out
        return impl


@twin(runtime.unbroadcast)
def _unbroadcast(g, x):
    """Real or complex values; a real ``x`` gets the real part of a complex ``g``."""
    if not (numeric(g) and numeric(x)):
        return None
    if complex_valued(g) and not complex_valued(x):
        return lambda g, x: runtime.unbroadcast(runtime.real_part(g), x)
    if scalar(x):
        return (lambda g, x: g) if scalar(g) else (lambda g, x: g.sum())
    if scalar(g):
        return lambda g, x: np.full(x.shape, g)
    if g.ndim == x.ndim:
        def impl(g, x):
            if g.shape == x.shape:
                return g
            return _summed(g, x)
        return impl
    return lambda g, x: _summed(g, x)


@twin(runtime.unreduce)
def _unreduce(g, x, axis=None, keepdims=False):
    """Real or complex values: the spread keeps ``g``'s dtype, as NumPy's broadcast does (a
    complex ``g`` spread over a real ``x`` stays complex; whoever adds it takes its real part)."""
    if not (numeric(g) and numeric(x)) or not (none(axis) or axes_type(axis)):
        return None
    if scalar(x):
        return lambda g, x, axis=None, keepdims=False: g
    if scalar(g):
        return lambda g, x, axis=None, keepdims=False: np.full(x.shape, g)
    if none(axis):  # keepdims: g has x's rank, all ones
        return lambda g, x, axis=None, keepdims=False: _spread(flat(g), shape_of(g.shape, x.ndim), x)
    axes_of = _axes_of(axis)
    return lambda g, x, axis=None, keepdims=False: _spread(flat(g), kept_shape(x.shape, axes_of(axis)), x)


@twin(runtime.count)
def _count(x, axis=None):
    if none(axis):
        return (lambda x, axis=None: x.size) if array(x) else (lambda x, axis=None: 1)
    if array(x) and axes_type(axis):
        axes_of = _axes_of(axis)

        def impl(x, axis=None):
            total = 1
            for a in axes_of(axis):
                total *= x.shape[a % x.ndim]
            return total
        return impl


@twin(runtime.extremum_grad)
def _extremum_grad(g, x, ans, axis=None, keepdims=False):
    """Ties share ``g`` equally: each reduced slice counts the entries equal to its extremum."""
    if not (real(g) and real_array(x) and real(ans)) or not (none(axis) or axes_type(axis)):
        return None
    if none(axis) and number(g) and number(ans):
        return _extremum_of_all
    g_flat, ans_flat = _flat_of(g), _flat_of(ans)
    axes_of = _axes_of(axis) if not none(axis) else None

    def kept(x, axis):
        return np.ones(x.ndim, np.int64) if axes_of is None else kept_shape(x.shape, axes_of(axis))
    kept = numba.njit(kept)

    def impl(g, x, ans, axis=None, keepdims=False):
        shape, reduced = shape_of(x.shape, x.ndim), kept(x, axis)
        hit = (flat(x) == _spread(ans_flat(ans), reduced, x).ravel()) * 1.0
        ties = spread_add(np.zeros(np.prod(reduced)), reduced, hit, shape)
        share = _spread(g_flat(g), reduced, x).ravel() / _spread(ties, reduced, x).ravel()
        return (hit * share).reshape(x.shape)
    return impl


def _extremum_of_all(g, x, ans, axis=None, keepdims=False):
    """Over every entry, in two passes and one array: count the ties, then give each its share
    (none attains a NaN extremum: then every entry is NaN, as NumPy's ``0 * (g / 0)``)."""
    entries = flat(x)
    ties = 0
    for v in entries:
        ties += v == ans
    if ties == 0:
        return np.full(x.shape, np.nan)
    out, share = np.zeros(entries.size), g / ties
    for k in range(entries.size):
        if entries[k] == ans:
            out[k] = share
    return out.reshape(x.shape)


@twin(runtime.add_extremum_grad)
def _add_extremum_grad(x_bar, g, x, ans, axis=None, keepdims=False):
    """Over every entry of a contiguous ``x_bar``, in place; otherwise the shares
    ``extremum_grad`` makes, added."""
    if not (array(x_bar) and real_array(x_bar)):
        return None
    if none(axis) and number(g) and number(ans) and real_array(x) and x_bar.layout == "C":
        return _add_extremum_of_all

    def impl(x_bar, g, x, ans, axis=None, keepdims=False):
        x_bar += runtime.extremum_grad(g, x, ans, axis, keepdims)
        return x_bar
    return impl


def _add_extremum_of_all(x_bar, g, x, ans, axis=None, keepdims=False):
    """Count the ties, then add each one's share (no tie for a NaN extremum: every entry NaN)."""
    entries, out = flat(x), x_bar.reshape(-1)
    if out.size != entries.size:  # x_bar broadcasts the shares, as ``+=`` does
        x_bar += runtime.extremum_grad(g, x, ans)
        return x_bar
    ties = 0
    for v in entries:
        ties += v == ans
    if ties == 0:
        out += np.nan
        return x_bar
    share = g / ties
    for k in range(entries.size):
        if entries[k] == ans:
            out[k] += share
    return x_bar


@twin(runtime.add_at)
def _add_at(x_bar, index, g):
    """``x_bar[index] += g``; an index array adds its rows one by one, so repeats add up."""
    if not array(x_bar):
        return None
    if index_list(index):
        return lambda x_bar, index, g: runtime.add_at(x_bar, np.array(index), g)
    if array(index) and isinstance(index.dtype, types.Boolean) and index.ndim > 1:
        return _add_at_mask
    if basic_index(index):  # each element at most once: a plain in-place add
        def impl(x_bar, index, g):
            x_bar[index] += g
            return x_bar
        return impl
    place = _one_index_array(index)
    if place is not None:
        return generated(_scatter_source(index, *place, number(g)), {"np": np})


def _one_index_array(index):
    """For an index with one integer array and otherwise numbers and slices, the array's
    position and how many slices come before it, when NumPy keeps the array's axes in place
    (no slice between it and a number); else None."""
    entries = index.types if tuple_of(index) else (index,)
    arrays = [k for k, t in enumerate(entries) if integer_array(t)]
    if len(arrays) != 1 or not all(integer_array(t) or integer(t) or isinstance(t, types.SliceType)
                                   for t in entries):
        return None
    numbers = [k for k, t in enumerate(entries) if integer(t)] + arrays
    between = entries[min(numbers):max(numbers) + 1]
    if any(isinstance(t, types.SliceType) for t in between):
        return None
    p = arrays[0]
    return p, sum(isinstance(t, types.SliceType) for t in entries[:p])


def _scatter_source(index, p, slices_before, scalar):
    """The source of ``add_at`` for one index array at position ``p``: ``g`` (broadcast to the
    shape ``x_bar[index]`` has) added at one entry of the array after another."""
    if not tuple_of(index):
        ids, at = "index.ravel()", "ids[k]"
    else:
        ids = f"index[{p}].ravel()"
        at = ", ".join("ids[k]" if k == p else f"index[{k}]" for k in range(len(index)))
    lines = ["def impl(x_bar, index, g):", f"    ids = {ids}"]
    if scalar:
        return lines + ["    for k in range(ids.size):", f"        x_bar[{at}] += g", "    return x_bar"]
    nd = (index.types[p] if tuple_of(index) else index).ndim
    q = slices_before
    return lines + ["    full = x_bar[index].shape",
                    "    rows = np.ascontiguousarray(np.broadcast_to(g, full))"
                    f".reshape(full[:{q}] + (ids.size,) + full[{q + nd}:])",
                    "    for k in range(ids.size):",
                    f"        x_bar[{at}] += rows[{':, ' * q}k]", "    return x_bar"]


def _add_at_mask(x_bar, index, g):
    """``x_bar[mask] += g`` for a mask of two or more axes: the selected rows in C order."""
    rows = x_bar.reshape((index.size,) + x_bar.shape[index.ndim:])
    picked = flat(index)
    values = np.broadcast_to(g, (np.count_nonzero(picked),) + x_bar.shape[index.ndim:])
    j = 0
    for k in range(picked.size):
        if picked[k]:
            rows[k] += values[j]
            j += 1
    return x_bar


@twin(runtime.last_writes)
def _last_writes(x, index):
    """Which writes of ``x[index] = v`` stay: the last one to each position, as NumPy keeps."""
    if not array(x):
        return None
    if index_list(index):
        return lambda x, index: runtime.last_writes(x, np.array(index))
    if basic_index(index) or (array(index) and isinstance(index.dtype, types.Boolean)):
        return lambda x, index: True  # no position is written twice: every write is kept
    if _one_index_array(index) is not None:
        def impl(x, index):
            picked = x[index]
            labels = np.arange(picked.size).reshape(picked.shape)
            winner = np.full(x.shape, -1)
            winner[index] = labels  # written in order: the last label to a position stays
            return winner[index] == labels
        return impl


@twin(runtime.unstack_like)
def _unstack_like(g, x):
    if real(x):
        return lambda g, x: g
    if list_of(x) and real_array(g):
        return lambda g, x: Rows(g)


# -- contractions (rank 0, 1 and 2 operands; the same dtype, as Numba's np.dot needs) ------
@twin(runtime.dot_grad_a)
def _dot_grad_a(g, a, b):
    if not (real(g) and real(a) and real(b)):
        return None
    if number(a) or number(b):
        return lambda g, a, b: runtime.unbroadcast(g * b, a)
    return _matrix_grad_a(a.ndim, b.ndim)


@twin(runtime.dot_grad_b)
def _dot_grad_b(g, a, b):
    if not (real(g) and real(a) and real(b)):
        return None
    if number(a) or number(b):
        return lambda g, a, b: runtime.unbroadcast(g * a, b)
    return _matrix_grad_b(a.ndim, b.ndim)


@twin(runtime.matmul_grad_a)
def _matmul_grad_a(g, a, b):
    if real(g) and real_array(a) and real_array(b):
        return _matrix_grad_a(a.ndim, b.ndim) or _stack_grad_a(g, a, b)


@twin(runtime.matmul_grad_b)
def _matmul_grad_b(g, a, b):
    if real(g) and real_array(a) and real_array(b):
        return _matrix_grad_b(a.ndim, b.ndim) or _stack_grad_b(g, a, b)


def _stack_grad_a(g, a, b):
    """The adjoint of ``a`` in a product of stacks: ``g @ b^T`` matrix by matrix, summed over
    the stack ``a`` was broadcast along."""
    if array(g) and g.ndim == 3 and stacked(a, b) and g.dtype == a.dtype:
        stack_b, back = stack_of(b), _back_to(a)
        return lambda g, a, b: back(batched_matmul_tb(np.ascontiguousarray(g), stack_b(b)), a)


def _stack_grad_b(g, a, b):
    """The adjoint of ``b`` in a product of stacks: ``a^T @ g``, summed as ``_stack_grad_a``."""
    if array(g) and g.ndim == 3 and stacked(a, b) and g.dtype == b.dtype:
        stack_a, back = stack_of(a), _back_to(b)
        return lambda g, a, b: back(batched_matmul_ta(stack_a(a), np.ascontiguousarray(g)), b)


@numba.njit(cache=True)
def _to_matrix(products, x):
    return np.sum(products, axis=0)


@numba.njit(cache=True)
def _to_stack(products, x):
    if products.shape[0] == x.shape[0]:
        return products
    return np.sum(products, axis=0).reshape(x.shape)


def _back_to(x):
    """The compiled function summing a stack of products over the stack ``x`` (a matrix, or a
    stack of one) was broadcast along."""
    return _to_matrix if x.ndim == 2 else _to_stack


def _matrix_grad_a(na, nb):
    """The adjoint of ``a`` in ``a @ b`` (or ``np.dot``) for vectors and matrices."""
    return {(1, 1): lambda g, a, b: g * b,
            (2, 1): lambda g, a, b: np.outer(g, b),
            (1, 2): lambda g, a, b: np.dot(b, g),
            (2, 2): lambda g, a, b: np.dot(g, b.T)}.get((na, nb))


def _matrix_grad_b(na, nb):
    """The adjoint of ``b`` in ``a @ b`` (or ``np.dot``) for vectors and matrices."""
    return {(1, 1): lambda g, a, b: g * a,
            (2, 1): lambda g, a, b: np.dot(a.T, g),
            (1, 2): lambda g, a, b: np.outer(a, g),
            (2, 2): lambda g, a, b: np.dot(a.T, g)}.get((na, nb))


@twin(runtime.transpose_grad)
def _transpose_grad(g, axes=None):
    """The inverse permutation, as a C-ordered copy: the adjoint of ``x.reshape(...).T`` reshapes
    it next, and Numba reshapes only arrays whose order allows a view."""
    if array(g) and none(axes):
        return lambda g, axes=None: np.ascontiguousarray(np.transpose(g))
    if array(g) and tuple_of(axes) and len(axes) == g.ndim and all(integer(t) for t in axes.types):
        n = g.ndim

        def impl(g, axes=None):
            return np.ascontiguousarray(np.transpose(g, to_fixed_tuple(_inverse(np.array(axes)), n)))
        return impl


@numba.njit(cache=True)
def _inverse(order):
    """The permutation undoing ``order``, whose axes may count from the end (the NumPy helper's
    ``np.argsort(np.mod(axes, ndim))``)."""
    out = np.empty(order.size, np.int64)
    for k in range(order.size):
        out[order[k] % order.size] = k
    return out
