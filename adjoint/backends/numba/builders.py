"""Numba twins of ``adjoint/runtime/builders.py``: casts, ``np.c_`` columns, dict keys, ``np.put``
and the partials of ``linspace`` and ``arange``."""
from __future__ import annotations

import numba
import numpy as np
from numba import types

from ... import runtime
from .kinds import (array, dict_of, flat, integer, integer_array, integer_or_left_out, left_out, none,
                    number, real_array, twin)


@twin(runtime.keys_of)
def _keys_of(d):
    """The keys of a dict in order, for loops over ``d.items()`` and ``d.values()``."""
    if dict_of(d):
        return lambda d: [k for k in d.keys()]


@twin(runtime.as_column)
def _as_column(x):
    """``x`` as ``np.column_stack`` sees it: a number a 1x1 array, a vector a column."""
    if number(x):
        return lambda x: np.full((1, 1), x)
    if array(x) and x.ndim < 2:
        return lambda x: np.ascontiguousarray(x).reshape((x.size, 1))
    if array(x):
        return lambda x: x


@twin(runtime.integer_cut)
def _integer_cut(g, ans):
    """``g``, or zeros where the cast's result is integer or boolean (derivative zero)."""
    kind = ans.dtype if array(ans) else ans
    if isinstance(kind, (types.Integer, types.Boolean)):
        return lambda g, ans: np.zeros(np.shape(g))
    return lambda g, ans: g


@twin(runtime.scatter_add)
def _scatter_add(a, index, v):
    """``np.add.at(a, index, v)`` on a copy of ``a`` (``add_at``'s twin adds the repeats up)."""
    if array(a):
        return lambda a, index, v: runtime.add_at(a.copy(), index, v)


@twin(runtime.put_into)
def _put_into(a, ind, v, mode="raise"):
    """``np.put`` on a copy of ``a``: flat positions, ``v`` repeated, NumPy's three modes."""
    if not (array(a) and (integer(ind) or integer_array(ind)) and (number(v) or array(v))):
        return None

    def impl(a, ind, v, mode="raise"):
        out = np.ascontiguousarray(a).copy()
        entries, values, at = out.reshape(out.size), np.asarray(v).ravel(), np.asarray(ind).ravel()
        for k in range(at.size):
            entries[_flat_position(at[k], out.size, mode)] = values[k % values.size]
        return out
    return impl


@numba.njit(cache=True)
def _flat_position(j, size, mode):
    """Where ``np.put`` writes for index ``j``: wrapped, clipped, or checked as NumPy does."""
    if mode == "wrap":
        return j % size
    if mode == "clip":
        return min(max(j, 0), size - 1)
    if j < -size or j >= size:
        raise IndexError("index out of bounds for np.put")
    return j % size


@twin(runtime.put_grad)
def _put_grad(g, a, ind, v, mode="raise", wrt="a"):
    """Each flat position keeps its last writer (``np.put`` writes in order): ``a`` gets ``g``
    where nobody wrote, entry ``k % v.size`` of ``v`` where writer ``k`` stayed (indices an
    integer or an integer array, ``v`` a number or a real array)."""
    if not (real_array(g) and array(a) and (integer(ind) or integer_array(ind))
            and (number(v) or real_array(v))):
        return None
    if left_out(wrt, "a"):
        def impl(g, a, ind, v, mode="raise", wrt="a"):
            written = _writers(a.size, ind, mode) >= 0
            return np.where(written.reshape(a.shape), 0.0, g)
        return impl
    if not left_out(wrt, "v"):
        return None
    shaped = (lambda out, v: out[0]) if number(v) else (lambda out, v: out.reshape(v.shape))
    shaped = numba.njit(shaped)

    def impl(g, a, ind, v, mode="raise", wrt="a"):
        owner, values = _writers(a.size, ind, mode), flat(g)
        if values.size != owner.size:
            raise ValueError("put_grad: the cotangent needs the array's shape")
        out = np.zeros(np.size(v))
        for p in range(owner.size):
            if owner[p] >= 0:
                out[owner[p] % max(out.size, 1)] += values[p]
        return shaped(out, v)
    return impl


@numba.njit(cache=True)
def _writers(size, ind, mode):
    """For each flat position, the last of the indices ``ind`` that ``np.put`` writes there (-1: none)."""
    owner = np.full(size, -1)
    at = np.asarray(ind).ravel()
    for k in range(at.size):
        owner[_flat_position(at[k], size, mode)] = k
    return owner


@twin(runtime.linspace_grad)
def _linspace_grad(g, start, stop, num=50, endpoint=True, retstep=False, dtype=None, axis=0, wrt=0):
    """Numbers ``start`` and ``stop`` (all Numba's ``np.linspace`` takes): sample ``k`` is
    ``start + (stop - start) * k / div``, so ``stop`` gets ``sum(g * k / div)``, ``start`` the
    rest; ``div`` is ``num - 1`` with the endpoint, ``num`` without (at least 1)."""
    if not (real_array(g) and g.ndim == 1 and g.dtype == types.float64 and number(start)
            and number(stop) and integer_or_left_out(num, 50)):
        return None
    if not (isinstance(endpoint, types.Boolean) or left_out(endpoint, True)):
        return None
    if not (left_out(retstep, False) and none(dtype) and (left_out(axis, 0) or left_out(axis, -1))):
        return None
    if not (left_out(wrt, 0) or left_out(wrt, 1)):
        return None
    of_stop = left_out(wrt, 1)

    def impl(g, start, stop, num=50, endpoint=True, retstep=False, dtype=None, axis=0, wrt=0):
        if g.size != num:
            raise ValueError("linspace_grad: one cotangent per sample")
        div = max(num - 1 if endpoint else num, 1)
        total = 0.0
        for k in range(num):
            w = k / div
            total += g[k] * (w if of_stop else 1 - w)
        return total
    return impl


@twin(runtime.arange_partial)
def _arange_partial(ans, start, stop=None, which="start"):
    """Zeros for ``arange(stop)`` and integer samples; else ones (``start``) or ``k`` (``step``)."""
    if not array(ans):
        return None
    if isinstance(ans.dtype, (types.Integer, types.Boolean)) or none(stop):
        return lambda ans, start, stop=None, which="start": np.zeros(ans.shape)
    if left_out(which, "start"):
        return lambda ans, start, stop=None, which="start": np.ones(ans.shape)
    if left_out(which, "step"):
        return lambda ans, start, stop=None, which="start": \
            np.arange(ans.size, dtype=np.float64).reshape(ans.shape)
