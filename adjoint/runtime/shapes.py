"""Helpers of the shape rules (``rules/shapes.py``): joining, splitting, tiling, indexing.
"""
from __future__ import annotations

import numpy as np

from .core import AdjointList, unbroadcast
from .reductions import _along, diagonal_grad

__all__ = [
    "unconcatenate", "reconcatenate", "unstack", "unsplit", "tile_grad", "repeat_grad",
    "pad_grad", "diag_grad", "take_grad", "take_along_axis_grad", "sort_grad", "sort_jvp",
]


# -- shapes ---------------------------------------------------------------------------
def unconcatenate(g, arrays, axis=0, promote=None):
    """Adjoint of ``np.concatenate(arrays, axis)``: ``g`` cut back into the pieces.

    ``promote`` is what the stacking function applied to each piece first
    (``np.atleast_2d`` for ``vstack``); ``axis=None`` concatenated flattened pieces.
    """
    shapes = [np.shape(promote(x) if promote else x) for x in arrays]
    if axis is None:
        g, axis, sizes = np.ravel(g), 0, [int(np.prod(s)) for s in shapes]
    else:
        sizes = [s[axis] for s in shapes]
    pieces = np.split(g, np.cumsum(sizes)[:-1], axis=axis)
    out = [np.reshape(p, np.shape(x)) for p, x in zip(pieces, arrays)]
    return np.stack(out) if isinstance(arrays, np.ndarray) else AdjointList(out)


def reconcatenate(parts, cot, arrays, axis=0, promote=None):
    """Adjoint of ``unconcatenate(cot, arrays, axis, promote)``: the pieces joined back like ``cot``.

    A piece's adjoint may be the number 0.0 (a piece nothing read): it is spread to the
    piece's shape.
    """
    pieces = [np.broadcast_to(p, np.shape(x)) for p, x in zip(parts, arrays)]
    if axis is None:
        return np.reshape(np.concatenate([np.ravel(p) for p in pieces]), np.shape(cot))
    joined = np.concatenate([promote(p) if promote else p for p in pieces], axis=axis)
    return np.reshape(joined, np.shape(cot))


def unstack(g, arrays, axis=0):
    """Adjoint of ``np.stack(arrays, axis)``: ``g`` split along ``axis``."""
    g = np.moveaxis(g, axis, 0)
    if isinstance(arrays, np.ndarray):
        return g
    return AdjointList(np.reshape(p, np.shape(x)) for p, x in zip(g, arrays))


def unsplit(g, ans, axis=0):
    """Adjoint of ``np.split``: the pieces' adjoints (0.0 where unused) joined along ``axis``."""
    parts = [np.broadcast_to(gi, np.shape(p)) for gi, p in zip(g, ans)]
    return np.concatenate(parts, axis=axis)


def tile_grad(g, a, reps):
    """Adjoint of ``np.tile``: the copies' adjoints summed."""
    reps = (reps,) if np.ndim(reps) == 0 else tuple(reps)
    shape = np.shape(a)
    nd = max(len(shape), len(reps))
    shape_p = (1,) * (nd - len(shape)) + tuple(shape)
    reps_p = (1,) * (nd - len(reps)) + reps
    split = [n for pair in zip(reps_p, shape_p) for n in pair]
    summed = np.sum(np.reshape(g, split), axis=tuple(range(0, 2 * nd, 2)))
    return np.reshape(summed, shape)


def repeat_grad(g, a, repeats, axis=None):
    """Adjoint of ``np.repeat``: each entry's copies summed."""
    x, ax = _along(a, axis)
    n = x.shape[ax]
    index = np.repeat(np.arange(n), repeats)
    out = np.zeros((n,) + np.moveaxis(np.asarray(g), ax, 0).shape[1:], dtype=np.result_type(g))
    np.add.at(out, index, np.moveaxis(np.asarray(g), ax, 0))
    return np.reshape(np.moveaxis(out, 0, ax), np.shape(a))


def pad_grad(g, array, pad_width, mode="constant"):
    """Adjoint of ``np.pad`` for the modes that copy entries (constant, edge, reflect,
    symmetric, wrap): every output entry's adjoint goes to the entry it copies."""
    if mode not in ("constant", "edge", "reflect", "symmetric", "wrap"):
        raise ValueError(f"adjoint: no derivative for np.pad with mode={mode!r}")
    shape = np.shape(array)
    index = np.arange(int(np.prod(shape))).reshape(shape)
    kwargs = {"constant_values": -1} if mode == "constant" else {}
    source = np.pad(index, pad_width, mode=mode, **kwargs).ravel()
    keep = source >= 0
    out = np.zeros(index.size, dtype=np.result_type(g))
    np.add.at(out, source[keep], np.ravel(g)[keep])
    return out.reshape(shape)


def diag_grad(g, v, k=0):
    """Adjoint of ``np.diag``: the diagonal of ``g`` (building) or ``g`` on a diagonal (reading)."""
    if np.ndim(v) == 1:
        return np.diagonal(g, k)
    return diagonal_grad(g, v, k)


def take_grad(g, a, indices, axis=None, mode="raise"):
    """Adjoint of ``np.take``: ``g`` added back at ``indices`` (repeats accumulate)."""
    x, ax = _along(a, axis)
    n = x.shape[ax]
    idx = np.asarray(indices)
    if mode == "wrap":
        idx = idx % n
    elif mode == "clip":
        idx = np.clip(idx, 0, n - 1)
    out = np.zeros(x.shape, dtype=np.result_type(g))
    moved = np.moveaxis(out, ax, 0)
    gm = np.moveaxis(np.asarray(g), list(range(ax, ax + idx.ndim)), list(range(idx.ndim)))
    np.add.at(moved, idx, gm)
    return np.reshape(out, np.shape(a))


def take_along_axis_grad(g, arr, indices, axis=-1):
    """Adjoint of ``np.take_along_axis``: ``g`` added back at ``indices``."""
    if axis is None:
        out = np.zeros(np.size(arr), dtype=np.result_type(g))
        np.add.at(out, indices, g)
        return np.reshape(out, np.shape(arr))
    shape = np.shape(arr)
    axis = axis % len(shape)
    index = []
    for d, n in enumerate(np.shape(indices)):
        if d == axis:
            index.append(indices)
        else:
            r = np.arange(n) if shape[d] != 1 else np.zeros(n, dtype=int)
            index.append(np.reshape(r, [-1 if i == d else 1 for i in range(len(shape))]))
    out = np.zeros(shape, dtype=np.result_type(g))
    np.add.at(out, tuple(index), g)
    return out


def sort_grad(g, a, axis=-1):
    """Adjoint of ``np.sort``: ``g`` sent back to where each sorted entry came from."""
    x, ax = _along(a, axis)
    order = np.argsort(x, axis=ax, kind="stable")
    out = np.zeros(x.shape, dtype=np.result_type(g))
    np.put_along_axis(out, order, g, axis=ax)
    return np.reshape(out, np.shape(a))


def sort_jvp(t, a, axis=-1):
    """Tangent of ``np.sort``: ``t`` permuted like ``a``."""
    x, ax = _along(a, axis)
    t, _ = _along(np.broadcast_to(t, np.shape(a)), axis)
    return np.take_along_axis(t, np.argsort(x, axis=ax, kind="stable"), axis=ax)


# -- numpy functions beyond the core set (issue 12) -----------------------------------------
__all__ += [
    "rollaxis_target", "entry_ids", "routed", "unrouted", "apply_along", "diff_matrix",
    "gradient_matrix", "gradient_grad", "ediff1d_core", "finite_parts", "select_grad",
    "select_none", "zeros_or_none", "interp_segment", "interp_inside", "interp_matrix",
    "interp_slopes",
]


def rollaxis_target(a, axis, start=0):
    """Where ``np.rollaxis(a, axis, start)`` puts ``axis``: the ``moveaxis`` destination."""
    nd = np.ndim(a)
    axis, start = axis % nd, start + nd if start < 0 else start
    return start - 1 if start > axis else start


def entry_ids(x, base=0):
    """``base`` plus each entry's flat index, shaped like ``x``: run through a function that
    copies entries, these say where each output entry came from (``routed``)."""
    return base + np.arange(np.size(x)).reshape(np.shape(x))


def routed(g, ids, x, base=0):
    """The adjoint of a copy that put entry ``j`` of ``x`` wherever ``ids == base + j``:
    ``g`` summed back into ``x``'s shape (entries copied twice add up)."""
    own = (ids >= base) & (ids < base + np.size(x))
    out = np.zeros(np.size(x), dtype=np.result_type(g))
    np.add.at(out, np.asarray(ids)[own] - base, np.broadcast_to(g, np.shape(ids))[own])
    return out.reshape(np.shape(x))


def unrouted(g, ids, x, base=0):
    """The adjoint of ``routed``: each position of ``ids`` that names an entry of ``x``
    reads that entry of ``g`` (zero elsewhere)."""
    own = (ids >= base) & (ids < base + np.size(x))
    out = np.zeros(np.shape(ids), dtype=np.result_type(g))
    out[own] = np.ravel(g)[np.asarray(ids)[own] - base]
    return out


def apply_along(m, x, axis=-1):
    """The matrix ``m`` applied to every vector of ``x`` along ``axis``: a linear map of one
    axis, written as a matrix (``diff``, ``gradient``); its adjoint applies ``m``'s transpose."""
    return np.moveaxis(np.tensordot(x, m, axes=([axis], [1])), -1, axis)


def diff_matrix(a, n=1, axis=-1, prepend=None, append=None):
    """The matrix of ``np.diff(., n, axis, prepend, append)`` on ``a``'s entries along ``axis``
    (the entries ``prepend``/``append`` add are constants: their columns are dropped)."""
    before, after = (0 if x is None else np.shape(x)[axis] if np.ndim(x) else 1
                     for x in (prepend, append))
    size = np.shape(a)[axis]
    full = np.diff(np.eye(before + size + after, dtype=_real(a)), n, axis=0)
    return full[:, before:before + size]


def _real(x):
    """The real floating dtype of ``x``'s derivatives."""
    return np.finfo(np.result_type(np.asarray(x), np.float32)).dtype


def gradient_matrix(n, spacing=1.0, edge_order=1, dtype=np.float64):
    """The matrix of ``np.gradient`` along one axis of length ``n`` (uniform or given spacing)."""
    return np.gradient(np.eye(n, dtype=dtype), spacing, axis=0, edge_order=edge_order)


def _gradient_axes(f, axis):
    nd = np.ndim(f)
    axes = range(nd) if axis is None else [axis] if np.ndim(axis) == 0 else axis
    return [a % nd for a in axes]


def gradient_grad(g, f, spacing=1.0, axis=None, edge_order=1):
    """Adjoint of ``np.gradient(f, spacing, axis=axis)``: each derivative's adjoint through
    the transpose of that axis's matrix, summed (one adjoint per output, 0.0 if unused)."""
    axes = _gradient_axes(f, axis)
    parts = [g] if len(axes) == 1 and not isinstance(g, (list, tuple)) else g
    out = np.zeros(np.shape(f), dtype=np.result_type(_real(f), *parts))
    for ax, part in zip(axes, parts):
        m = gradient_matrix(np.shape(f)[ax], spacing, edge_order, _real(f))
        out = out + apply_along(m.T, np.broadcast_to(part, np.shape(f)), ax)
    return out


def ediff1d_core(g, to_begin=None, to_end=None):
    """The slice of ``np.ediff1d``'s output that holds the differences."""
    return slice(np.size(to_begin) if to_begin is not None else 0,
                 np.size(g) - (np.size(to_end) if to_end is not None else 0))


def zeros_or_none(x):
    """None for None, else zeros of ``x``'s shape: the tangent of a constant argument."""
    return None if x is None else np.zeros(np.shape(x))


def finite_parts(g, x):
    """``g`` where ``x`` is finite, zero elsewhere, for the real and imaginary parts apart:
    the derivative of ``np.nan_to_num`` (its own adjoint)."""
    if not np.iscomplexobj(x):
        return np.where(np.isfinite(x), g, 0)
    g = np.asarray(g)
    return np.where(np.isfinite(np.real(x)), np.real(g), 0) + \
        1j * np.where(np.isfinite(np.imag(x)), np.imag(g), 0)


def _first_true(condlist):
    conds = np.broadcast_arrays(*[np.asarray(c, dtype=bool) for c in condlist])
    taken = np.zeros(conds[0].shape, dtype=bool)
    out = []
    for c in conds:
        out.append(c & ~taken)
        taken = taken | c
    return out, ~taken


def select_grad(g, condlist, choicelist):
    """Adjoint of ``np.select`` for its choices: each gets ``g`` where its condition is the
    first that holds."""
    firsts, _ = _first_true(condlist)
    return AdjointList(unbroadcast(np.where(m, g, 0), c) for m, c in zip(firsts, choicelist))


def select_none(condlist):
    """Where no condition of ``np.select`` holds (its default is taken)."""
    return _first_true(condlist)[1]


def interp_segment(x, xp):
    """The segment ``[xp[i], xp[i + 1]]`` of each ``x`` (the first or last outside ``xp``)."""
    return np.clip(np.searchsorted(xp, x, side="right") - 1, 0, len(xp) - 2)


def interp_inside(x, xp):
    """Whether each ``x`` lies within ``xp``, where ``np.interp`` has a slope."""
    return (np.asarray(x) >= xp[0]) & (np.asarray(x) <= xp[-1])


def interp_matrix(x, xp, left=None, right=None):
    """``W`` with ``np.interp(x, xp, fp) == W @ fp`` (shape ``x.shape + (len(xp),)``) where
    the values outside ``xp`` are ``fp``'s ends (``left``/``right`` replace them by constants)."""
    n = len(xp)
    eye = np.eye(n)
    cols = [np.interp(x, xp, eye[j], left=0.0 if left is not None else None,
                      right=0.0 if right is not None else None) for j in range(n)]
    return np.stack(cols, axis=-1).astype(_real(x))


def interp_slopes(x, xp):
    """The derivative in ``x`` of ``interp_matrix(x, xp)``: within ``xp``, the slope of each
    hat function on the segment of ``x``; zero outside."""
    seg, inside = interp_segment(x, xp), interp_inside(x, xp)
    steps = np.diff(np.eye(len(xp)), axis=1) / np.diff(xp)  # [j, i]: hat j's slope on segment i
    return np.moveaxis(steps[:, seg] * inside, 0, -1).astype(_real(x))


__all__ += ["grid_axis", "grid_others", "grid_tangent", "unblock"]


def grid_axis(ans, k, indexing="xy"):
    """The axis of ``np.meshgrid``'s grids along which its ``k``-th input varies."""
    return {0: 1, 1: 0}.get(k, k) if indexing == "xy" and len(ans) > 1 else k


def grid_others(ans, k, indexing="xy"):
    """The axes of the ``k``-th grid that its input does not vary along."""
    axis = grid_axis(ans, k, indexing)
    return tuple(i for i in range(np.ndim(ans[k])) if i != axis)


def grid_tangent(t, k, ans, indexing="xy"):
    """The tangents of ``np.meshgrid``'s grids along a tangent ``t`` of its ``k``-th input:
    ``t`` spread like that input, zero for the other grids."""
    axis = grid_axis(ans, k, indexing)
    shape = [1] * np.ndim(ans[k])
    shape[axis] = np.size(t)
    out = [0.0] * len(ans)
    out[k] = np.broadcast_to(np.reshape(t, shape), np.shape(ans[k]))
    return AdjointList(out)


def _leaves(arrays, base=0):
    """``np.block``'s nested lists with each leaf replaced by its ``entry_ids`` (numbered on
    from ``base``), and the leaves with their bases."""
    if not isinstance(arrays, list):
        return entry_ids(arrays, base), [(arrays, base)]
    ids, leaves = [], []
    for item in arrays:
        sub, found = _leaves(item, base + sum(np.size(x) for x, _ in leaves))
        ids.append(sub)
        leaves += found
    return ids, leaves


def _nest(arrays, flat):
    if not isinstance(arrays, list):
        return flat.pop(0)
    return AdjointList(_nest(item, flat) for item in arrays)


def unblock(g, arrays):
    """Adjoint of ``np.block(arrays)``: each leaf's entries' adjoints, nested like ``arrays``."""
    ids, leaves = _leaves(arrays)
    ids = np.block(ids)
    return _nest(arrays, [routed(g, ids, x, base) for x, base in leaves])


# -- np.atleast_1d/2d/3d of several arrays, np.block on any NumPy (issue 12) -------------------
__all__ += ["atleast_item", "atleast_tangent", "plain_lists"]


def atleast_item(g, k, ans, like):
    """The adjoint of argument ``k`` of ``np.atleast_Nd``, shaped like ``like``: ``g`` itself
    for one argument (``ans`` an array), else its item ``k`` (``0.0`` for an unused one)."""
    part = g[k] if isinstance(ans, (list, tuple)) else g
    if np.ndim(part) == 0 and np.size(like) != 1:
        return np.zeros(np.shape(like), dtype=np.result_type(part, like))
    return np.reshape(part, np.shape(like))


def atleast_tangent(tan, k, ans):
    """The tangent of ``np.atleast_Nd``'s output along the tangent ``tan`` of its argument
    ``k`` (already made at least N-D): ``tan`` itself for one argument, else the list of
    the outputs' tangents, zeros of their shapes but for item ``k``."""
    if not isinstance(ans, (list, tuple)):
        return tan
    return AdjointList(tan if i == k else np.zeros_like(item) for i, item in enumerate(ans))


def plain_lists(x):
    """Nested lists (adjoint lists among them) as plain lists: ``np.block`` before NumPy 2.3
    reads a list subclass as one array."""
    return [plain_lists(item) for item in x] if isinstance(x, list) else x


# -- np.piecewise: each region's function, differentiated where it runs (issue 12) ------------
__all__ += ["piecewise_grad", "piecewise_jvp", "piecewise_grad_dot"]


def _regions(x, condlist, funclist):
    """``(cond, last, func)`` per piece as ``np.piecewise`` reads them: a single condition
    made a list, an extra function for where no condition holds; ``last`` is where this
    piece's value is the one kept (a later piece overwrites an earlier one)."""
    if np.isscalar(condlist) or (not isinstance(condlist[0], (list, np.ndarray)) and x.ndim != 0):
        condlist = [condlist]
    conds = list(np.asarray(condlist, dtype=bool))
    if len(conds) == len(funclist) - 1:
        conds.append(~np.any(conds, axis=0))
    later = np.zeros(x.shape, dtype=bool)
    out = []
    for cond, func in reversed(list(zip(conds, funclist))):
        out.append((cond, cond & ~later, func))
        later = later | cond
    return out[::-1]


def _runs(cond, func):
    """Whether ``np.piecewise`` calls ``func`` on the piece ``cond`` (a function, a nonempty piece)."""
    return callable(func) and bool(np.any(cond))


def piecewise_grad(g, x, condlist, funclist):
    """Adjoint of ``np.piecewise(x, condlist, funclist)`` in ``x``: each function's
    vector-Jacobian product at its piece ``x[cond]``, with ``g`` where its value is kept."""
    from .calls import vjp_of
    x = np.asarray(x)
    g = np.broadcast_to(g, x.shape)
    out = np.zeros(x.shape, dtype=np.result_type(x, g))
    for cond, last, func in _regions(x, condlist, funclist):
        if _runs(cond, func):
            out[cond] += vjp_of(func, (x[cond],), np.where(last, g, 0)[cond], (0,))[0]
    return out


def piecewise_jvp(t, x, condlist, funclist):
    """Tangent of ``np.piecewise``: each function's tangent on its piece, a constant's zero."""
    from .calls import jvp_of
    x = np.asarray(x)
    t = np.broadcast_to(t, x.shape)
    out = np.zeros(x.shape, dtype=np.result_type(x, t))
    for cond, last, func in _regions(x, condlist, funclist):
        if _runs(cond, func):
            out[cond] = jvp_of(func, (x[cond],), (t[cond],))[1]
        else:
            out[cond] = 0.0
    return out


def piecewise_grad_dot(g, x, condlist, funclist, x_dot=0.0):
    """Tangent of ``piecewise_grad`` along ``x``'s: each function's second derivative, the
    tangent of its vector-Jacobian product."""
    from .calls import vjp_tangent
    x = np.asarray(x)
    g, x_dot = np.broadcast_to(g, x.shape), np.broadcast_to(x_dot, x.shape)
    out = np.zeros(x.shape, dtype=np.result_type(x, g, x_dot))
    for cond, last, func in _regions(x, condlist, funclist):
        if _runs(cond, func):
            out[cond] += vjp_tangent(func, (x[cond],), np.where(last, g, 0)[cond], (0,),
                                     (x_dot[cond],))[0]
    return out
