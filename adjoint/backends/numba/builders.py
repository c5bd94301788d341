"""Numba twins of ``adjoint/runtime/builders.py``: casts, ``np.c_`` columns, dict keys."""
from __future__ import annotations

import numba
import numpy as np
from numba import types

from ... import runtime
from .kinds import array, dict_of, integer, integer_array, number, twin


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

