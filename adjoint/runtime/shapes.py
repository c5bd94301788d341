"""Helpers of the shape rules (``rules/shapes.py``): joining, splitting, tiling, indexing.
"""
from __future__ import annotations

import numpy as np

from .core import AdjointList
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
