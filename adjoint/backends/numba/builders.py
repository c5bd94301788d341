"""Numba twins of ``adjoint/runtime/builders.py``: casts, ``np.c_`` columns, dict keys."""
from __future__ import annotations

import numpy as np
from numba import types

from ... import runtime
from .kinds import array, dict_of, number, twin


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
