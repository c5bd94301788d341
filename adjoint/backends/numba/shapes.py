"""Numba twins of ``adjoint/runtime/shapes.py``: joining and splitting."""
from __future__ import annotations

from numba import types
from numba.extending import overload

from ... import runtime
from .kinds import Rows, array, list_of, real_array


@overload(runtime.unstack)
def _unstack(g, arrays, axis=0):
    """``np.stack``'s adjoint along axis 0: an array's rows, or a list's items."""
    if not (real_array(g) and _zero(axis)):
        return None
    if array(arrays):
        return lambda g, arrays, axis=0: g
    if list_of(arrays):
        return lambda g, arrays, axis=0: Rows(g)


def _zero(axis):
    """Whether ``axis`` is known to be 0 when the call is typed (left out, or a literal 0)."""
    if isinstance(axis, types.Omitted):
        return axis.value == 0
    return isinstance(axis, types.IntegerLiteral) and axis.literal_value == 0 or axis == 0
