"""Numba twins of ``adjoint/runtime/shapes.py``: joining and splitting, copies of entries,
sorting, one-axis linear maps (``np.diff``), ``np.select`` and ``np.interp``."""
from __future__ import annotations

import numba
import numpy as np
from numba import types
from numba.np.numpy_support import as_dtype
from numba.np.unsafe.ndarray import to_fixed_tuple

from ... import runtime
from .kinds import (Rows, array, flat, generated, integer, integer_array, integer_or_left_out, left_out, list_of,
                    none, number, per_item, real, real_array, tuple_of, twin)


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


@twin(runtime.sort_jvp)
def _sort_jvp(t, a, axis=-1):
    """``t`` permuted like ``a`` along ``axis``: each lane of ``t`` read in the order a stable sort
    of ``a``'s lane puts its entries. ``t`` an array of ``a``'s shape or a number."""
    if not (real_array(a) and a.ndim >= 1 and integer_or_left_out(axis, -1)):
        return None
    if not (number(t) or (real_array(t) and t.ndim == a.ndim)):
        return None

    def impl(t, a, axis=-1):
        ax = axis % a.ndim
        values = np.ascontiguousarray(_axis_first(a, ax))
        tangents = np.ascontiguousarray(_axis_first(np.broadcast_to(t, a.shape), ax))
        out = np.zeros(values.shape, np.asarray(t).dtype)
        n = values.shape[0]
        lanes, source, target = values.reshape((n, -1)), tangents.reshape((n, -1)), out.reshape((n, -1))
        for r in range(lanes.shape[1]):
            order = np.argsort(lanes[:, r], kind="mergesort")
            for k in range(n):
                target[k, r] = source[order[k], r]
        return _axis_back(out, ax)
    return impl


@numba.njit(cache=True)
def _axis_back(x, axis):
    """``x`` with its first axis moved to ``axis`` (the inverse of ``_axis_first``), C-ordered."""
    out = x
    for a in range(axis):
        out = np.swapaxes(out, a, a + 1)
    return np.ascontiguousarray(out)


@twin(runtime.take_along_axis_grad)
def _take_along_axis_grad(g, arr, indices, axis=-1):
    """``g`` (broadcast to ``indices``' shape) added back at ``indices`` along ``axis`` (repeats
    add up), each other axis at its own position (at 0 where ``arr``'s length is 1);
    ``axis=None`` on the flat entries. Out-of-range indices raise."""
    if not (real_array(arr) and integer_array(indices) and (real_array(g) or number(g))):
        return None
    if none(axis):
        def impl(g, arr, indices, axis=-1):
            out = np.zeros(arr.size, np.asarray(g).dtype)
            values, at = flat(np.broadcast_to(g, indices.shape)), flat(indices)
            for k in range(at.size):
                out[_checked(at[k], arr.size)] += values[k]
            return out.reshape(arr.shape)
        return impl
    if integer_or_left_out(axis, -1) and indices.ndim == arr.ndim:
        def impl(g, arr, indices, axis=-1):
            ax = axis % arr.ndim
            out = np.zeros(arr.size, np.asarray(g).dtype)
            values, at = flat(np.broadcast_to(g, indices.shape)), flat(indices)
            for k in range(at.size):
                rest, pos, step = k, 0, 1
                for d in range(arr.ndim - 1, -1, -1):
                    c = rest % indices.shape[d]
                    rest //= indices.shape[d]
                    if d == ax:
                        c = _checked(at[k], arr.shape[d])
                    elif arr.shape[d] == 1:
                        c = 0
                    elif c >= arr.shape[d]:
                        raise IndexError("index out of bounds")
                    pos += c * step
                    step *= arr.shape[d]
                out[pos] += values[k]
            return out.reshape(arr.shape)
        return impl


@twin(runtime.unsplit)
def _unsplit(g, ans, axis=0):
    """The pieces' adjoints (each spread to its piece's shape) joined along ``axis``: ``g`` and
    ``ans`` lists or tuples of arrays of one rank."""
    if not (_arrays(g) and _arrays(ans) and integer_or_left_out(axis, 0)):
        return None
    nd, dtype = ans.dtype.ndim, g.dtype.dtype
    if g.dtype.ndim > nd:
        return None

    def impl(g, ans, axis=0):
        ax = axis % nd
        shape = np.array(ans[0].shape)
        shape[ax] = 0
        for p in ans:
            shape[ax] += p.shape[ax]
        out = np.empty(to_fixed_tuple(shape, nd), dtype)
        rows = _axis_first(out, ax)
        start = 0
        for i in range(len(ans)):
            stop = start + ans[i].shape[ax]
            rows[start:stop] = _axis_first(np.broadcast_to(g[i], ans[i].shape), ax)
            start = stop
        return out
    return impl


def _arrays(t):
    """A list (reflected or typed) or a tuple of real arrays of one type."""
    return _sequence(t) and real_array(t.dtype)


def _sequence(t):
    """A list (reflected or typed) or a tuple of items of one type: ``t.dtype`` is theirs."""
    return isinstance(t, (types.List, types.ListType, types.UniTuple))


# -- np.atleast_1d/2d/3d --------------------------------------------------------------------
@twin(runtime.atleast_item)
def _atleast_item(g, k, ans, like):
    """``g`` (one argument: ``ans`` an array) or its item ``k`` (``ans`` a list or a tuple),
    in ``like``'s shape; a number, the adjoint of an unused item, is zeros unless ``like``
    has one entry. A number ``like`` gets a number. A tuple of items of several types needs
    ``k`` a constant."""
    if not (integer(k) and (real_array(like) or number(like))):
        return None
    if array(ans):
        pick, part = numba.njit(lambda g, k: g), g
    elif _sequence(g) and (_sequence(ans) or tuple_of(ans)):
        pick, part = numba.njit(lambda g, k: g[k]), g.dtype
    elif tuple_of(g) and tuple_of(ans) and isinstance(k, types.IntegerLiteral):
        at = k.literal_value
        pick, part = numba.njit(lambda g, k: g[at]), g.types[at]
    else:
        return None
    if not real(part):
        return None
    if number(like):
        return lambda g, k, ans, like: _one_entry(pick(g, k))
    return lambda g, k, ans, like: _shaped(pick(g, k), like)


@numba.njit(cache=True)
def _one_entry(part):
    """The one entry of ``part`` (a number or an array of size 1) as a number."""
    values = np.asarray(part)
    if values.size != 1:
        raise ValueError("atleast_item: a part of more than one entry for a number")
    return values.ravel()[0]


@numba.njit(cache=True)
def _shaped(part, like):
    values = np.asarray(part)
    if values.ndim == 0 and like.size != 1:
        return np.zeros(like.shape, values.dtype)
    return np.ascontiguousarray(values).reshape(like.shape)


# -- linear maps of one axis, and copies numbered by entry ---------------------------------------
@twin(runtime.apply_along)
def _apply_along(m, x, axis=-1):
    """``out[..., i, ...] = sum_j m[i, j] x[..., j, ...]`` along ``axis`` of ``x``."""
    if not (real_array(m) and m.ndim == 2 and real_array(x) and x.ndim >= 1
            and integer_or_left_out(axis, -1)):
        return None
    dtype = np.result_type(as_dtype(m.dtype), as_dtype(x.dtype))

    def impl(m, x, axis=-1):
        ax = axis % x.ndim
        lanes = np.ascontiguousarray(_axis_first(x, ax))
        n = lanes.shape[0]
        if m.shape[1] != n:
            raise ValueError("apply_along: the matrix does not fit the axis")
        source = lanes.reshape((n, -1))
        out = np.zeros((m.shape[0],) + lanes.shape[1:], dtype)
        target = out.reshape((m.shape[0], -1))
        for i in range(m.shape[0]):
            for j in range(n):
                w = m[i, j]
                for c in range(source.shape[1]):
                    target[i, c] += w * source[j, c]
        return _axis_back(out, ax)
    return impl


@twin(runtime.diff_matrix)
def _diff_matrix(a, n=1, axis=-1, prepend=None, append=None):
    """The ``n``-th differences of the identity over ``a``'s entries along ``axis`` and those
    ``prepend``/``append`` add (a number adds one, an array its length along ``axis``), the
    added ones' columns dropped; in ``a``'s real floating dtype."""
    if not (array(a) and a.ndim >= 1 and integer_or_left_out(n, 1) and integer_or_left_out(axis, -1)):
        return None
    if not all(none(x) or number(x) or array(x) for x in (prepend, append)):
        return None
    dtype = _real_dtype(a.dtype)
    extent_before, extent_after = _extent_of(prepend), _extent_of(append)

    def impl(a, n=1, axis=-1, prepend=None, append=None):
        before, after = extent_before(prepend, axis), extent_after(append, axis)
        size = a.shape[axis % a.ndim]
        full = np.diff(np.eye(before + size + after, dtype=dtype), n).T
        return np.ascontiguousarray(full[:, before:before + size])
    return impl


def _real_dtype(t):
    """The real floating dtype of the derivatives of an array of Numba dtype ``t``."""
    return np.finfo(np.result_type(as_dtype(t), np.float32)).dtype


def _extent_of(x):
    """The compiled count of entries ``x`` (None, a number or an array) adds along an axis."""
    if none(x):
        return numba.njit(lambda x, axis: 0)
    if number(x) or x.ndim == 0:
        return numba.njit(lambda x, axis: 1)
    return numba.njit(lambda x, axis: x.shape[axis % x.ndim])


@twin(runtime.ediff1d_core)
def _ediff1d_core(g, to_begin=None, to_end=None):
    """The slice of ``g`` between the ``to_begin`` and ``to_end`` entries (None, numbers or arrays)."""
    if not (array(g) and all(none(x) or number(x) or array(x) for x in (to_begin, to_end))):
        return None
    begin, end = _size_of(to_begin), _size_of(to_end)
    return lambda g, to_begin=None, to_end=None: slice(begin(to_begin), g.size - end(to_end))


def _size_of(x):
    """The compiled ``np.size(x)``, 0 for None."""
    if none(x):
        return numba.njit(lambda x: 0)
    if number(x):
        return numba.njit(lambda x: 1)
    return numba.njit(lambda x: x.size)


@twin(runtime.entry_ids)
def _entry_ids(x, base=0):
    """``base`` plus each entry's flat index, in ``x``'s shape (a number: ``base``)."""
    if not (integer_or_left_out(base, 0) and (number(x) or array(x))):
        return None
    if number(x):
        return lambda x, base=0: np.int64(base)
    return lambda x, base=0: (base + np.arange(x.size)).reshape(x.shape)


@twin(runtime.routed)
def _routed(g, ids, x, base=0):
    """``g`` at each position where ``ids - base`` names an entry of ``x``, summed into that
    entry (in ``ids``' order, as ``np.add.at``); ``g`` broadcast to ``ids``' shape. A number
    ``x`` gets a number."""
    if not (integer_array(ids) and (real_array(g) or number(g)) and (real_array(x) or number(x))
            and integer_or_left_out(base, 0)):
        return None
    dtype = as_dtype(g.dtype if array(g) else g)
    if number(x):
        return lambda g, ids, x, base=0: _routed_flat(g, ids, 1, base, dtype)[0]
    return lambda g, ids, x, base=0: _routed_flat(g, ids, x.size, base, dtype).reshape(x.shape)


@numba.njit(cache=True)
def _routed_flat(g, ids, size, base, dtype):
    out = np.zeros(size, dtype)
    values, at = flat(np.broadcast_to(g, ids.shape)), flat(ids)
    for k in range(at.size):
        j = at[k] - base
        if 0 <= j < size:
            out[j] += values[k]
    return out


# -- np.nan_to_num, np.select, np.interp -----------------------------------------------------------
@twin(runtime.finite_parts)
def _finite_parts(g, x):
    """``g`` where ``x`` is finite, zero elsewhere (broadcast), for real ``g`` and ``x``;
    complex ones go to NumPy."""
    if not (real(g) and real(x)):
        return None
    if number(g) and number(x):
        return lambda g, x: g if np.isfinite(x) else 0.0
    dtype = np.result_type(as_dtype(g.dtype if array(g) else g))

    def impl(g, x):
        keep = np.isfinite(np.asarray(x))
        values = np.asarray(g)
        shape = np.broadcast_shapes(keep.shape, values.shape)
        keep_b, values_b = np.broadcast_to(keep, shape), np.broadcast_to(values, shape)
        out = np.zeros(shape, dtype)
        for index in np.ndindex(shape):
            if keep_b[index]:
                out[index] = values_b[index]
        return out
    return impl


@twin(runtime.select_none)
def _select_none(condlist):
    """Where none of the conditions (a list or a tuple of boolean arrays of one rank) holds."""
    if _conditions(condlist):
        return lambda condlist: ~_taken(condlist)


@twin(runtime.select_grad)
def _select_grad(g, condlist, choicelist):
    """Each choice gets ``g`` where its condition is the first that holds (zero elsewhere),
    summed to the choice's shape: ``Rows`` of the choices' adjoints."""
    if not (_conditions(condlist) and _arrays(choicelist) and (real_array(g) or number(g))):
        return None
    dtype = as_dtype(g.dtype if array(g) else g)

    def impl(g, condlist, choicelist):
        if len(condlist) != len(choicelist):
            raise ValueError("select_grad: as many conditions as choices")
        taken = np.zeros(_joint_shape(condlist), np.bool_)
        values = np.asarray(g)
        out = [_first_part(values, condlist[0], taken, choicelist[0], dtype)]
        for i in range(1, len(condlist)):
            out.append(_first_part(values, condlist[i], taken, choicelist[i], dtype))
        return Rows(out)
    return impl


def _conditions(t):
    return _sequence(t) and array(t.dtype) and isinstance(t.dtype.dtype, types.Boolean)


@numba.njit(cache=True)
def _joint_shape(condlist):
    shape = condlist[0].shape
    for c in condlist:
        shape = np.broadcast_shapes(shape, c.shape)
    return shape


@numba.njit(cache=True)
def _taken(condlist):
    """Where some condition holds."""
    taken = np.zeros(_joint_shape(condlist), np.bool_)
    for c in condlist:
        taken |= np.broadcast_to(c, taken.shape)
    return taken


@numba.njit(cache=True)
def _first_part(values, cond, taken, choice, dtype):
    """``values`` where ``cond`` holds and no earlier condition did (``taken``, updated),
    summed to ``choice``'s shape."""
    shape = np.broadcast_shapes(taken.shape, values.shape)
    first = np.broadcast_to(cond, taken.shape) & ~taken
    taken |= np.broadcast_to(cond, taken.shape)
    first_b, values_b = np.broadcast_to(first, shape), np.broadcast_to(values, shape)
    part = np.zeros(shape, dtype)
    for index in np.ndindex(shape):
        if first_b[index]:
            part[index] = values_b[index]
    return runtime.unbroadcast(part, choice)


@twin(runtime.interp_segment)
def _interp_segment(x, xp):
    """The segment ``i`` of ``[xp[i], xp[i + 1]]`` holding ``x`` (searched on the right, held
    to the first and last segment)."""
    if not (real(x) and real_array(xp) and xp.ndim == 1):
        return None
    if number(x):
        return lambda x, xp: min(max(np.searchsorted(xp, x, side="right") - 1, 0), len(xp) - 2)

    def impl(x, xp):
        out = np.searchsorted(xp, x, side="right") - 1
        return np.minimum(np.maximum(out, 0), len(xp) - 2)
    return impl


@twin(runtime.interp_inside)
def _interp_inside(x, xp):
    """Whether each ``x`` lies within ``[xp[0], xp[-1]]``."""
    if real(x) and real_array(xp) and xp.ndim == 1:
        return lambda x, xp: (x >= xp[0]) & (x <= xp[-1])
