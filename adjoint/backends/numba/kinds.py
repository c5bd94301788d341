"""What the Numba twins ask of a Numba type, and the kernels several twins share.

A twin's typing function returns an implementation only for the types it
handles; for any other it returns None, Numba reports "No implementation of
function ...", and the derivative falls back to its NumPy twin.
"""
from __future__ import annotations

import operator

import numba
import numpy as np
from numba import types
from numba.experimental import structref
from numba.extending import overload


TWINS: dict = {}  # helper name -> the runtime helper a Numba implementation is registered for


def twin(helper):
    """Register the decorated typing function as ``helper``'s Numba implementation (``overload``),
    and record it, so a test can ask which runtime helpers have one."""
    def register(typing):
        TWINS[helper.__name__] = helper
        return overload(helper)(typing)
    return register


def number(t):
    return isinstance(t, (types.Float, types.Integer, types.Boolean))


def complex_number(t):
    return isinstance(t, types.Complex)


def array(t):
    return isinstance(t, types.Array)


def scalar(t):
    """A real or complex number."""
    return number(t) or complex_number(t)


def numeric(t):
    """A real or complex number, or an array of them."""
    return scalar(t) or (array(t) and scalar(t.dtype))


def complex_valued(t):
    """A complex number or an array of them."""
    return complex_number(t) or (array(t) and complex_number(t.dtype))


def real_array(t):
    return array(t) and not isinstance(t.dtype, types.Complex)


def real(t):
    """A real number or a real array: the values whose adjoints the twins handle."""
    return number(t) or real_array(t)


def none(t):
    return t is None or isinstance(t, (types.NoneType, types.Omitted))


def left_out(t, default):
    """Whether an optional argument is left out (Numba then types the call with the typing
    function's own default, a Python value, or an ``Omitted``) or given as the literal ``default``."""
    if isinstance(t, types.Omitted):
        return t.value == default
    if isinstance(t, types.Literal):
        return t.literal_value == default
    return not isinstance(t, types.Type) and t == default


def integer_or_left_out(t, default):
    return integer(t) or left_out(t, default)


def integer(t):
    return isinstance(t, types.Integer)


def basic_index(t):
    """An index that picks each element at most once: numbers, slices, masks and tuples of them."""
    if isinstance(t, (types.Integer, types.SliceType, types.EllipsisType)):
        return True
    if array(t) and isinstance(t.dtype, types.Boolean):
        return True
    return isinstance(t, types.BaseTuple) and all(basic_index(i) for i in t.types)


def index_list(t):
    """A list of integers or booleans as an index, which NumPy reads as the array of them."""
    return isinstance(t, (types.List, types.ListType)) and isinstance(t.dtype, (types.Integer, types.Boolean))


def integer_array(t):
    return array(t) and isinstance(t.dtype, types.Integer)


def axes_type(t):
    """An ``axis`` argument naming axes: an integer or a tuple of integers."""
    if integer(t):
        return True
    return isinstance(t, types.BaseTuple) and all(integer(i) for i in t.types)


# -- kernels (compiled code, called from the twins) -----------------------------------
@numba.njit(cache=True)
def shape_of(shape, nd):
    """``shape`` as an int64 array of length ``nd``, padded with leading ones as broadcasting does."""
    out = np.ones(nd, np.int64)
    lead = nd - len(shape)
    for d in range(len(shape)):
        out[lead + d] = shape[d]
    return out


@numba.njit(cache=True)
def kept_shape(shape, axes):
    """The shape of a reduction of ``shape`` over the tuple ``axes`` with the reduced axes
    kept (length 1); axes may be negative."""
    out = shape_of(shape, len(shape))
    for a in axes:
        out[a % len(shape)] = 1
    return out


@numba.njit(cache=True)
def spread_add(dst, dst_shape, src, src_shape):
    """``dst += src`` on flat C-ordered data of two broadcast-compatible shapes of one length.

    Walks the broadcast of the two shapes: a length-1 axis of ``dst`` sums
    ``src`` along it (``unbroadcast``), a length-1 axis of ``src`` repeats it
    (``unreduce``).
    """
    nd = dst_shape.size
    joint = np.where(dst_shape == 1, src_shape, dst_shape)
    dst_step, src_step = _steps(dst_shape), _steps(src_shape)
    index = np.zeros(nd, np.int64)
    at_dst = at_src = 0
    for _ in range(np.prod(joint)):
        dst[at_dst] += src[at_src]
        d = nd - 1
        while d >= 0:
            index[d] += 1
            at_dst += dst_step[d]
            at_src += src_step[d]
            if index[d] < joint[d]:
                break
            at_dst -= dst_step[d] * joint[d]
            at_src -= src_step[d] * joint[d]
            index[d] = 0
            d -= 1
    return dst


@numba.njit(cache=True)
def _steps(shape):
    """C-order strides in elements, 0 along length-1 axes (they broadcast)."""
    out = np.zeros(shape.size, np.int64)
    step = 1
    for d in range(shape.size - 1, -1, -1):
        out[d] = 0 if shape[d] == 1 else step
        step *= shape[d]
    return out


@numba.njit(cache=True)
def flat(x):
    """The entries of array ``x`` in C order, as a 1-D array (a copy only when it must be)."""
    return np.ascontiguousarray(x).ravel()


# -- the adjoint of a list, split from an array ------------------------------------------
@structref.register
class RowsType(types.StructRef):
    """The Numba type of ``Rows``: an array read as the list of its rows."""

    def preprocess_fields(self, fields):
        return tuple((n, types.unliteral(t)) for n, t in fields)


class Rows(structref.StructRefProxy):
    """An array's rows, or a list's or tuple's items, as the adjoint of a list or a tuple
    (``unstack_like(g, lst)``, ``unconcatenate(g, (a, b))``).

    On the NumPy backend such an adjoint is an ``AdjointList``, whose ``+=``
    adds item by item. Numba's lists and tuples concatenate on ``+=``, so the
    twins return this type instead, for which ``items += rows`` adds row (item)
    ``i`` to item ``i``; no other list or tuple operation is changed.
    """


structref.define_constructor(Rows, RowsType, ["data"])


def list_of(t):
    return isinstance(t, types.List)


def dict_of(t):
    return isinstance(t, types.DictType)


def tuple_of(t):
    return isinstance(t, types.BaseTuple)


def generated(lines, env, name="impl"):
    """The function ``name`` defined by the source ``lines``, its globals ``env``: for twins
    whose code depends on a length or a rank known only when Numba types the call (a tuple's
    items, one slice per axis), written out for that length."""
    namespace = dict(env)
    exec("\n".join(lines), namespace)
    return namespace[name]


def per_item(n, expr, params="x"):
    """``lambda params: (expr(0), expr(1), ...)`` for a tuple of ``n`` items: ``expr`` is a
    format string of ``{i}``, the item's position."""
    items = "".join(expr.format(i=i) + ", " for i in range(n))
    return [f"def impl({params}):", f"    return ({items})"]


@overload(operator.iadd)
def _add_rows_in_place(items, rows):
    """``items += rows``: a list adjoint adds item by item; a tuple adjoint gives a new tuple."""
    if list_of(items) and isinstance(rows, RowsType):
        if array(items.dtype) and items.dtype.ndim == 0:  # 0-d arrays (np.where of numbers)
            def impl(items, rows):
                for i in range(len(items)):
                    items[i] = np.asarray(items[i] + rows.data[i])  # Numba's sum is a number
                return items
            return impl

        def impl(items, rows):
            for i in range(len(items)):
                items[i] = items[i] + rows.data[i]
            return items
        return impl
    if tuple_of(items) and isinstance(rows, RowsType):
        return _added_items(len(items))


@overload(operator.add)
def _add_rows(items, rows):
    if list_of(items) and isinstance(rows, RowsType):
        def impl(items, rows):
            out = list(items)
            out += rows
            return out
        return impl
    if tuple_of(items) and isinstance(rows, RowsType):
        return _added_items(len(items))


@overload(operator.setitem)
def _set_item_added_in_place(items, k, value):
    """``items[k] += v`` on a tuple adjoint whose item is an array: the array took the sum in
    place, so storing it back, the same array, changes nothing; storing any other value is a
    write no tuple takes, refused when it runs."""
    if not (tuple_of(items) and isinstance(k, types.IntegerLiteral) and array(value)):
        return None
    at = k.literal_value
    if not (0 <= at < len(items) and array(items.types[at])):
        return None

    def impl(items, k, value):
        if value.ctypes.data != items[at].ctypes.data or value.shape != items[at].shape:
            raise TypeError("a tuple's item cannot be replaced")
    return impl


@overload(operator.add)
@overload(operator.iadd)
def _added_to_rows(rows, items):
    """``rows + items`` and ``rows += items`` for the ``Rows`` adjoint of a list of numbers (an
    item of a list of lists' adjoint): a list's, an array's or another such ``Rows``' entries
    added one by one, into a new ``Rows`` (the old one is left as it was)."""
    if not (isinstance(rows, RowsType) and array(rows.field_dict["data"])):
        return None
    if list_of(items) or array(items):
        return lambda rows, items: Rows(rows.data + np.asarray(items))
    if isinstance(items, RowsType) and array(items.field_dict["data"]):  # a list of lists aliased
        return lambda rows, items: Rows(rows.data + items.data)


def _added_items(n):
    return generated(per_item(n, "items[{i}] + rows.data[{i}]", "items, rows"), {})
