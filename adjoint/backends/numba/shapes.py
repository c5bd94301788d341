"""Numba twins of ``adjoint/runtime/shapes.py``: joining and splitting."""
from __future__ import annotations

import numba
import numpy as np
from numba import types

from ... import runtime
from .kinds import Rows, array, flat, generated, integer, list_of, none, real_array, tuple_of, twin


@twin(runtime.unstack)
def _unstack(g, arrays, axis=0):
    """``np.stack``'s adjoint: ``g``'s slices along ``axis``, as an array or a list's items."""
    if not (real_array(g) and (integer(axis) or isinstance(axis, types.Omitted))):
        return None
    if array(arrays):
        return lambda g, arrays, axis=0: np.swapaxes(g, 0, axis % g.ndim) if axis % g.ndim else g
    if list_of(arrays) and real_array(arrays.dtype):
        def impl(g, arrays, axis=0):
            first = _axis_first(g, axis % g.ndim)
            return Rows([np.ascontiguousarray(first[i]) for i in range(first.shape[0])])
        return impl


@numba.njit(cache=True)
def _axis_first(g, axis):
    """``g`` with ``axis`` moved to the front, the others in order (``np.moveaxis(g, axis, 0)``)."""
    out = g
    for a in range(axis, 0, -1):
        out = np.swapaxes(out, a, a - 1)
    return out


# -- np.concatenate and the stacking functions built on it ---------------------------------
@twin(runtime.unconcatenate)
def _unconcatenate(g, arrays, axis=0, promote=None):
    """``g`` cut back into the pieces: a tuple's or a list's items (``Rows``), or an array's rows.

    ``promote`` (``np.atleast_2d`` for ``vstack``, ...) is a function the generated code names;
    the twin calls the function it stands for. ``axis=None`` joined flattened pieces.
    """
    if not (real_array(g) and (none(axis) or integer(axis) or isinstance(axis, types.Omitted))):
        return None
    flat_pieces = none(axis)
    env = {"Rows": Rows, "np": np, "promoted": _promoter(promote),
           "front": _flat_front if flat_pieces else _front,
           "extent": _size if flat_pieces else _extent, "cut": _cut_flat if flat_pieces else _cut}
    if tuple_of(arrays) and all(real_array(t) for t in arrays.types):
        return generated(_tuple_pieces(len(arrays)), env)
    if list_of(arrays) and real_array(arrays.dtype):
        return generated(_many_pieces("[piece]", "out.append(piece)", "Rows(out)"), env)
    if real_array(arrays):
        return generated(_many_pieces("np.empty(arrays.shape)\n    out[0] = piece", "out[i] = piece", "out"), env)


def _promoter(promote):
    """The compiled function applying ``promote`` (a NumPy function or a runtime helper)."""
    if none(promote):
        return numba.njit(lambda x: x)
    fn = promote.typing_key
    return numba.njit(lambda x: fn(x))


_HEAD = ["def impl(g, arrays, axis=0, promote=None):", "    first, ax = front(g, axis)",
         "    start = 0"]


def _many_pieces(first_out, keep, result):
    """The source cutting ``g`` into a list's items or an array's rows: ``out`` starts as
    ``first_out`` once the first piece is cut (a list is typed from its first item), and
    ``keep`` adds piece ``i`` to it."""
    step = ["stop = start + extent(promoted(arrays[i]), ax)",
            "piece = cut(first, start, stop, ax, arrays[i])", "start = stop"]
    return _HEAD + [f"    {line}" for line in ["i = 0"] + step + [f"out = {first_out}"]] + \
        ["    for i in range(1, len(arrays)):"] + [f"        {line}" for line in step + [keep]] + \
        [f"    return {result}"]


def _tuple_pieces(n):
    """The source cutting ``g`` into the ``n`` items of a tuple (one piece per item)."""
    lines = list(_HEAD)
    for i in range(n):
        lines += [f"    stop = start + extent(promoted(arrays[{i}]), ax)",
                  f"    p{i} = cut(first, start, stop, ax, arrays[{i}])", "    start = stop"]
    return lines + ["    return Rows((" + "".join(f"p{i}, " for i in range(n)) + "))"]


@numba.njit(cache=True)
def _front(g, axis):
    """``g`` with the joined axis first, and that axis as a non-negative number."""
    ax = axis % g.ndim
    return np.swapaxes(g, 0, ax), ax


@numba.njit(cache=True)
def _flat_front(g, axis):
    return flat(g), 0


@numba.njit(cache=True)
def _extent(x, ax):
    return x.shape[ax]


@numba.njit(cache=True)
def _size(x, ax):
    return x.size


@numba.njit(cache=True)
def _cut(first, start, stop, ax, x):
    """Entries ``start:stop`` along the joined axis, in ``x``'s shape (before ``promote``)."""
    return np.ascontiguousarray(np.swapaxes(first[start:stop], 0, ax)).reshape(x.shape)


@numba.njit(cache=True)
def _cut_flat(first, start, stop, ax, x):
    return first[start:stop].copy().reshape(x.shape)


