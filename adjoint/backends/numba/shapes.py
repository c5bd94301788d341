"""Numba twins of ``adjoint/runtime/shapes.py``: joining and splitting."""
from __future__ import annotations

import numba
import numpy as np

from ... import runtime
from .kinds import (Rows, array, flat, generated, integer, integer_array, integer_or_left_out, left_out, list_of,
                    none, number, per_item, real_array, tuple_of, twin)


@twin(runtime.unstack)
def _unstack(g, arrays, axis=0):
    """``np.stack``'s adjoint: ``g``'s slices along ``axis``, as an array or a list's items."""
    if not (real_array(g) and integer_or_left_out(axis, 0)):
        return None
    if array(arrays):
        return lambda g, arrays, axis=0: np.swapaxes(g, 0, axis % g.ndim) if axis % g.ndim else g
    if list_of(arrays) and real_array(arrays.dtype):
        def impl(g, arrays, axis=0):
            first = _axis_first(g, axis % g.ndim)
            return Rows([np.ascontiguousarray(first[i]) for i in range(first.shape[0])])
        return impl
    if tuple_of(arrays) and all(real_array(t) for t in arrays.types):
        items = per_item(len(arrays), "np.ascontiguousarray(first[{i}])", "first")
        rows = numba.njit(generated(items, {"np": np}))
        return lambda g, arrays, axis=0: Rows(rows(_axis_first(g, axis % g.ndim)))


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
    if not (real_array(g) and (none(axis) or integer_or_left_out(axis, 0))):
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




# -- copies of entries: their adjoints add back where each came from --------------------------
@twin(runtime.diag_grad)
def _diag_grad(g, v, k=0):
    """Building (``v`` a vector): the diagonal ``k`` of ``g``; reading (``v`` a matrix): ``g`` on it."""
    if not (real_array(g) and real_array(v) and integer_or_left_out(k, 0)):
        return None
    if v.ndim == 1:
        def impl(g, v, k=0):
            out = np.empty(v.size)
            for i in range(v.size):
                out[i] = g[i, i + k] if k >= 0 else g[i - k, i]
            return out
        return impl
    if v.ndim == 2:
        def impl(g, v, k=0):
            out = np.zeros(v.shape)
            for i in range(g.size):
                if k >= 0:
                    out[i, i + k] = g[i]
                else:
                    out[i - k, i] = g[i]
            return out
        return impl


@twin(runtime.take_grad)
def _take_grad(g, a, indices, axis=None, mode="raise"):
    """``g`` added back at ``indices`` (repeats add up): flat entries, or with a vector of
    indices the slices along ``axis``. Indices out of range raise, as ``np.take`` does."""
    if not (real_array(a) and (real_array(g) or number(g)) and integer_array(indices)
            and left_out(mode, "raise")):
        return None
    if none(axis):
        def impl(g, a, indices, axis=None, mode="raise"):
            out = np.zeros(a.size)
            values = np.broadcast_to(np.asarray(g), indices.shape).ravel()
            at = indices.ravel()
            for k in range(at.size):
                out[_checked(at[k], a.size)] += values[k]
            return out.reshape(a.shape)
        return impl
    if integer(axis) and indices.ndim == 1 and array(g) and g.ndim == a.ndim:
        def impl(g, a, indices, axis=None, mode="raise"):
            ax = axis % a.ndim
            out = np.zeros(a.shape)
            rows, parts = _axis_first(out, ax), _axis_first(g, ax)
            for k in range(indices.size):
                rows[_checked(indices[k], rows.shape[0])] += parts[k]
            return out
        return impl


@numba.njit(cache=True)
def _checked(j, n):
    """Index ``j`` of ``n`` entries, negative ones from the end; out of range raises."""
    if j < -n or j >= n:
        raise IndexError("index out of bounds")
    return j % n


@twin(runtime.repeat_grad)
def _repeat_grad(g, a, repeats, axis=None):
    """Each entry's copies summed, over the flattened entries (``repeats`` a count or counts)."""
    if not (real_array(g) and g.ndim == 1 and (real_array(a) or number(a)) and none(axis)):
        return None
    if integer(repeats) or integer_array(repeats):
        def impl(g, a, repeats, axis=None):
            counts = np.broadcast_to(np.asarray(repeats), (np.size(a),)).ravel()
            out = np.zeros(np.size(a))
            start = 0
            for i in range(out.size):
                out[i] = g[start:start + counts[i]].sum()
                start += counts[i]
            return out.reshape(np.shape(a))
        return impl


@twin(runtime.sort_grad)
def _sort_grad(g, a, axis=-1):
    """``g`` sent back where each sorted entry came from (a stable sort, as the NumPy helper's),
    along the last axis of a vector or a matrix."""
    if not (real_array(g) and real_array(a) and a.ndim in (1, 2) and g.ndim == a.ndim):
        return None
    if not integer_or_left_out(axis, -1):
        return None

    def impl(g, a, axis=-1):
        if axis % a.ndim != a.ndim - 1:
            raise NotImplementedError("sort_grad along an axis other than the last")
        out = np.zeros(a.shape)
        rows, values, sorted_rows = out.reshape((-1, a.shape[-1])), \
            np.ascontiguousarray(a).reshape((-1, a.shape[-1])), np.ascontiguousarray(g).reshape((-1, a.shape[-1]))
        for r in range(rows.shape[0]):
            order = np.argsort(values[r], kind="mergesort")
            for k in range(order.size):
                rows[r, order[k]] = sorted_rows[r, k]
        return out
    return impl
