"""Helpers of the reduction rules (``rules/reductions.py``).
"""
from __future__ import annotations

import numpy as np

from .core import _axes, _tie_share, conj, count, unreduce
from .ufuncs import safe_div

__all__ = [
    "prod_grad", "prod_jvp", "cumsum_grad", "cumprod_grad", "cumprod_jvp", "average_grad",
    "average_jvp", "diagonal_grad", "trace_grad", "norm_grad", "norm_jvp", "norm_grad_dot",
    "prod_grad_dot", "cumprod_grad_dot", "average_grad_dot",
]


def _to_last(x, axes):
    """``x`` with ``axes`` moved to the end and merged into one; and the undo."""
    x = np.asarray(x)
    rest = [a for a in range(x.ndim) if a not in axes]
    moved = np.transpose(x, rest + list(axes))
    shape = moved.shape

    def undo(y):
        return np.transpose(np.reshape(y, shape), np.argsort(rest + list(axes)))
    return np.reshape(moved, shape[:len(rest)] + (-1,)), undo


def _exclusive_cumprod(x, reverse=False):
    """Products of the entries before each one along the last axis (after, if ``reverse``)."""
    if reverse:
        return _exclusive_cumprod(x[..., ::-1])[..., ::-1]
    ones = np.ones(x.shape[:-1] + (1,), dtype=x.dtype)
    return np.cumprod(np.concatenate([ones, x[..., :-1]], axis=-1), axis=-1)


def prod_grad(g, a, axis=None, keepdims=False):
    """Adjoint of ``np.prod``: ``g`` times the product of the other entries (exact at zeros)."""
    a = np.asarray(a)
    axes = _axes(a, axis)
    flat, undo = _to_last(a, axes)
    others = _exclusive_cumprod(flat) * _exclusive_cumprod(flat, reverse=True)
    return unreduce(g, a, axis, keepdims) * conj(undo(others))


def prod_jvp(t, a, axis=None, keepdims=False):
    """Tangent of ``np.prod(a)`` along ``t``."""
    a = np.asarray(a)
    axes = _axes(a, axis)
    flat, undo = _to_last(a, axes)
    others = undo(_exclusive_cumprod(flat) * _exclusive_cumprod(flat, reverse=True))
    return np.sum(others * t, axis=axis, keepdims=keepdims)


def _along(x, axis):
    """``x`` flattened when ``axis`` is None (as cumsum does), and that axis."""
    return (np.ravel(x), 0) if axis is None else (np.asarray(x), axis)


def cumsum_grad(g, a, axis=None):
    """Adjoint of ``np.cumsum``: the reversed cumulative sum of ``g``."""
    g, ax = _along(g, axis)
    out = np.flip(np.cumsum(np.flip(g, ax), axis=ax), ax)
    return np.reshape(out, np.shape(a))


def cumprod_grad(g, a, ans, axis=None):
    """Adjoint of ``np.cumprod`` (exact where ``a`` has zeros, by a backward recurrence)."""
    g, ax = _along(g, axis)
    x, _ = _along(a, axis)
    p, _ = _along(ans, axis)
    if np.all(x != 0):
        out = np.flip(np.cumsum(np.flip(g * conj(p), ax), axis=ax), ax) / conj(x)
        return np.reshape(out, np.shape(a))
    g, x = np.moveaxis(g, ax, -1), conj(np.moveaxis(x, ax, -1))
    before = _exclusive_cumprod(x)
    acc = np.zeros_like(g[..., 0])
    out = np.zeros_like(g)
    for i in range(g.shape[-1] - 1, -1, -1):
        acc = g[..., i] + (x[..., i + 1] * acc if i + 1 < g.shape[-1] else 0)
        out[..., i] = before[..., i] * acc
    return np.reshape(np.moveaxis(out, -1, ax), np.shape(a))


def cumprod_jvp(t, a, ans, axis=None):
    """Tangent of ``np.cumprod(a)`` along ``t``: the adjoint's transpose, built from ``ans``."""
    t, ax = _along(t, axis)
    x, _ = _along(a, axis)
    x, t = np.moveaxis(x, ax, -1), np.moveaxis(t, ax, -1)
    out = np.zeros(np.broadcast_shapes(x.shape, t.shape), dtype=np.result_type(x, t))
    acc = np.zeros_like(out[..., 0])
    before = _exclusive_cumprod(x)
    for i in range(x.shape[-1]):
        acc = acc * x[..., i] + before[..., i] * t[..., i]
        out[..., i] = acc
    return np.moveaxis(out, -1, ax)


def _weights_like(weights, a, axis):
    """``np.average``'s weights broadcast against ``a``, and the undo for their adjoint."""
    w = np.asarray(weights)
    if w.shape == np.shape(a):
        return w, lambda gw: gw
    ax = axis % np.ndim(a)
    shape = [1] * np.ndim(a)
    shape[ax] = w.shape[0]
    others = tuple(i for i in range(np.ndim(a)) if i != ax)
    return np.reshape(w, shape), lambda gw: np.sum(gw, axis=others)


def average_grad(g, a, axis=None, weights=None, keepdims=False, wrt="a", ans=None):
    """Adjoint of ``np.average`` for ``a`` or (``wrt='weights'``) its weights."""
    g = unreduce(g, a, axis, keepdims)
    if weights is None:
        return g / count(a, axis)
    w, undo = _weights_like(weights, a, axis)
    total = np.sum(w, axis=axis, keepdims=True)
    if wrt == "a":
        return g * conj(w / total)
    mean = unreduce(ans, a, axis, keepdims)
    return undo(g * conj((a - mean) / total))


def average_jvp(t, a, axis=None, weights=None, keepdims=False, ans=None):
    """Tangent of ``np.average`` along a tangent ``t`` of its weights."""
    w, _ = _weights_like(weights, a, axis)
    t, _ = _weights_like(t, a, axis)
    mean = unreduce(ans, a, axis, keepdims)
    return np.sum(t * (a - mean), axis=axis, keepdims=keepdims) / np.sum(w, axis=axis,
                                                                       keepdims=keepdims)


def diagonal_grad(g, a, offset=0, axis1=0, axis2=1):
    """Adjoint of ``np.diagonal``: ``g`` placed on that diagonal of zeros shaped like ``a``."""
    shape = np.shape(a)
    nd = len(shape)
    axis1, axis2 = axis1 % nd, axis2 % nd
    rest = [i for i in range(nd) if i not in (axis1, axis2)]
    inner = np.zeros([shape[i] for i in rest] + [shape[axis1], shape[axis2]], dtype=np.result_type(g))
    mask = np.eye(shape[axis1], shape[axis2], k=offset, dtype=bool)
    inner[..., mask] = g
    return np.transpose(inner, np.argsort(rest + [axis1, axis2]))


def trace_grad(g, a, offset=0, axis1=0, axis2=1):
    """Adjoint of ``np.trace``: ``g`` on every entry of that diagonal."""
    n = np.diagonal(np.empty(np.shape(a), dtype=bool), offset, axis1, axis2).shape[-1]
    g = np.broadcast_to(np.expand_dims(g, -1), np.shape(g) + (n,))
    return diagonal_grad(g, a, offset, axis1, axis2)


def _norm_partial(x, nrm, ord, axis, matrix):
    """The derivative of a norm of ``x`` over ``axis`` (``nrm`` is the norm, kept dims).

    Subgradients: 0 where the norm is 0; tied max/min entries share equally.
    """
    mag, sign = np.abs(x), np.sign(x)
    if ord is None or ord == "fro" or (ord == 2 and not matrix):
        return safe_div(x, nrm)
    if matrix:
        r, c = axis
        if ord in (1, -1, np.inf, -np.inf):
            sums = np.sum(mag, axis=r if ord in (1, -1) else c, keepdims=True)
            ext = (np.max if ord > 0 else np.min)(sums, axis=axis, keepdims=True)
            return sign * _tie_share(sums, ext, axis)
        if ord in (2, -2, "nuc"):
            u, s, vh = np.linalg.svd(np.moveaxis(x, axis, (-2, -1)), full_matrices=False)
            if ord == "nuc":
                d = u @ vh
            else:
                k = 0 if ord == 2 else s.shape[-1] - 1
                d = u[..., :, k:k + 1] @ vh[..., k:k + 1, :]
            return np.moveaxis(d, (-2, -1), axis)
        raise ValueError(f"adjoint: no derivative for the matrix norm ord={ord!r}")
    if ord == 1:
        return sign
    if ord in (np.inf, -np.inf):
        return sign * _tie_share(mag, nrm, axis)
    if ord == 0:
        return np.zeros_like(mag)
    return sign * safe_div(mag ** (ord - 1), nrm ** (ord - 1))


def norm_grad(g, x, ans, ord=None, axis=None, keepdims=False, vector=False):
    """Adjoint of ``np.linalg.norm`` (and ``vector_norm`` with ``vector=True``).

    As NumPy does, ``axis=None`` means every axis, and a norm over two axes
    with an ``ord`` is a matrix norm (unless ``vector``).
    """
    nd = np.ndim(x)
    axes = tuple(range(nd)) if axis is None else \
        tuple(a % nd for a in ((axis,) if np.ndim(axis) == 0 else axis))
    matrix = len(axes) == 2 and not vector
    nrm = unreduce(ans, x, axis, keepdims)
    return unreduce(g, x, axis, keepdims) * _norm_partial(x, nrm, ord, axes, matrix)


def norm_jvp(t, x, ans, ord=None, axis=None, keepdims=False, vector=False):
    """Tangent of ``np.linalg.norm`` along ``t``."""
    partial = norm_grad(np.ones(np.shape(ans)), x, ans, ord, axis, keepdims, vector)
    return np.sum(np.real(conj(partial) * t), axis=_axes(x, axis), keepdims=keepdims)


# -- numpy functions beyond the core set (issue 12) -----------------------------------------
__all__ += ["nan_count", "trapezoid_weights", "initial_part", "initial_width", "quantile_grad",
            "quantile_jvp"]


def nan_count(a, axis=None, keepdims=False):
    """How many entries of ``a`` along ``axis`` are numbers (not NaN), in ``a``'s real dtype."""
    dtype = np.finfo(np.result_type(np.asarray(a), np.float32)).dtype
    return np.sum(np.logical_not(np.isnan(a)), axis=axis, keepdims=keepdims, dtype=dtype)


def trapezoid_weights(y, x=None, dx=1.0, axis=-1):
    """The weight of each ``y`` along ``axis`` in ``np.trapezoid(y, x, dx, axis)``: half the
    width of the intervals on either side, so that the integral is ``sum(w * y)``."""
    nd, axis = np.ndim(y), axis % np.ndim(y)
    n = np.shape(y)[axis]
    if x is None:
        steps = np.full(n - 1, dx, dtype=np.result_type(np.asarray(y), np.float32))
        steps = np.reshape(steps, [n - 1 if i == axis else 1 for i in range(nd)])
    else:
        x = np.asarray(x)
        steps = np.diff(x, axis=axis) if x.ndim > 1 else \
            np.reshape(np.diff(x), [n - 1 if i == axis else 1 for i in range(nd)])
    pad = [(0, 0)] * np.ndim(steps)
    before, after = list(pad), list(pad)
    before[axis], after[axis] = (1, 0), (0, 1)
    return (np.pad(steps, before) + np.pad(steps, after)) / 2


def initial_part(g, axis=None, include_initial=False):
    """The index of ``cumulative_sum``'s (or ``_prod``'s) output past its initial entry."""
    if not include_initial:
        return ...
    axis = 0 if axis is None else axis % np.ndim(g)
    return (slice(None),) * axis + (slice(1, None),)


def initial_width(g, axis=None, include_initial=False):
    """``np.pad`` widths that put an initial entry back along ``axis`` (none without it)."""
    axis = 0 if axis is None else axis % np.ndim(g)
    return [(int(include_initial and i == axis), 0) for i in range(np.ndim(g))]


_PICKS = {  # method -> (lower index, upper index, weight of the upper) at virtual index h
    "linear": lambda h, n: (np.floor(h), np.minimum(np.floor(h) + 1, n - 1), h - np.floor(h)),
    "lower": lambda h, n: (np.floor(h), np.floor(h), 0 * h),
    "higher": lambda h, n: (np.ceil(h), np.ceil(h), 0 * h),
    "nearest": lambda h, n: (np.around(h), np.around(h), 0 * h),
    "midpoint": lambda h, n: (np.floor(h), np.ceil(h), 0.5 + 0 * h),
}


def _quantile_weights(a, q, axis, method):
    """``a``'s reduced axes merged last, the sorting order along it, and the weight each
    sorted entry has in each quantile (shape ``q.shape + (1,) * rest + (n,)``)."""
    if method not in _PICKS:
        raise ValueError(f"adjoint: no derivative for quantiles with method={method!r}")
    flat, undo = _to_last(a, _axes(a, axis))
    n = flat.shape[-1]
    q = np.asarray(q, dtype=np.finfo(np.result_type(flat, np.float32)).dtype)
    lo, hi, up = _PICKS[method]((n - 1) * q, n)
    lo, hi, up = (np.reshape(v, q.shape + (1,) * (flat.ndim - 1) + (1,)) for v in (lo, hi, up))
    k = np.arange(n)
    weights = (k == lo) * (1 - up) + (k == hi) * up
    return flat, undo, np.argsort(flat, axis=-1, kind="stable"), weights, q.ndim


def quantile_grad(g, a, q, axis=None, keepdims=False, method="linear"):
    """Adjoint of ``np.quantile(a, q, axis)`` in ``a``: ``g`` shared between the one or two
    sorted entries each quantile reads, as their weights in it."""
    flat, undo, order, weights, nq = _quantile_weights(a, q, axis, method)
    g = np.reshape(g, np.shape(weights)[:nq] + flat.shape[:-1] + (1,))
    on_sorted = np.sum(g * weights, axis=tuple(range(nq)))
    out = np.zeros(flat.shape, dtype=np.result_type(g, weights))
    np.put_along_axis(out, order, on_sorted, axis=-1)
    return undo(out)


def quantile_jvp(t, a, q, axis=None, keepdims=False, method="linear"):
    """Tangent of ``np.quantile(a, q, axis)`` along a tangent ``t`` of ``a``."""
    flat, _, order, weights, nq = _quantile_weights(a, q, axis, method)
    t, _ = _to_last(np.broadcast_to(t, np.shape(a)), _axes(a, axis))
    out = np.sum(np.take_along_axis(t, order, axis=-1) * weights, axis=-1)
    axes = _axes(a, axis)
    kept = [1 if i in axes else n for i, n in enumerate(np.shape(a)) if keepdims or i not in axes]
    return np.reshape(out, np.shape(q) + tuple(kept))


# -- second order -------------------------------------------------------------------------
def norm_grad_dot(g, x, ans, ord=None, axis=None, keepdims=False, vector=False, x_dot=0.0,
                  ans_dot=0.0):
    """The tangent of ``norm_grad(g, x, ans, ...)`` along ``x_dot`` and ``ans_dot``.

    ``norm_grad`` is ``g`` times the norm's partial ``N(x, ans)``; this is ``g`` times
    ``dN``. Norms whose partial is piecewise constant (ord 1, inf, -inf, 0 and the matrix
    1/inf norms) have ``dN = 0``; the spectral and nuclear matrix norms are refused.
    """
    nd = np.ndim(x)
    axes = tuple(range(nd)) if axis is None else \
        tuple(a % nd for a in ((axis,) if np.ndim(axis) == 0 else axis))
    matrix = len(axes) == 2 and not vector
    nrm = unreduce(ans, x, axis, keepdims)
    t_nrm = unreduce(np.broadcast_to(ans_dot, np.shape(ans)), x, axis, keepdims)
    x_dot = np.broadcast_to(x_dot, np.shape(x))
    frobenius = ord is None or ord == "fro" or (ord == 2 and not matrix)
    if matrix and ord in (2, -2, "nuc"):
        return unreduce(g, x, axis, keepdims) * _spectral_partial_dot(x, x_dot, ord, axes)
    if not frobenius and (matrix or ord in (0, 1, np.inf, -np.inf)):
        return np.zeros(np.shape(x), dtype=np.result_type(x, g, float))  # piecewise constant
    p = 2 if frobenius else ord
    mag = np.abs(x)
    d = (p - 1) * (safe_div(mag ** (p - 2) * x_dot, nrm ** (p - 1))
                   - safe_div(np.sign(x) * mag ** (p - 1) * t_nrm, nrm ** p))
    return unreduce(g, x, axis, keepdims) * d


def prod_grad_dot(g, a, axis=None, keepdims=False, a_dot=0.0):
    """Tangent of ``prod_grad``: the product of the other entries is linear in each entry,
    so its tangent sums, over each other entry j, that product with ``a[j]`` replaced by
    its tangent (exact at zeros)."""
    a = np.asarray(a)
    axes = _axes(a, axis)
    flat, undo = _to_last(a, axes)
    t_flat, _ = _to_last(np.broadcast_to(a_dot, a.shape), axes)
    total = np.zeros(np.broadcast_shapes(flat.shape, t_flat.shape), dtype=np.result_type(flat, t_flat))
    for j in range(flat.shape[-1]):
        swapped = np.array(flat, dtype=total.dtype)
        swapped[..., j] = t_flat[..., j]
        others = _exclusive_cumprod(swapped) * _exclusive_cumprod(swapped, reverse=True)
        others[..., j] = 0
        total = total + others
    return unreduce(g, a, axis, keepdims) * conj(undo(total))


def cumprod_grad_dot(g, a, ans, axis=None, a_dot=0.0, ans_dot=0.0):
    """Tangent of ``cumprod_grad`` where ``a`` has no zeros (``out = revcumsum(g p) / a``)."""
    g, ax = _along(g, axis)
    x, _ = _along(a, axis)
    p, _ = _along(ans, axis)
    dx, _ = _along(np.broadcast_to(a_dot, np.shape(a)), axis)
    dp, _ = _along(np.broadcast_to(ans_dot, np.shape(ans)), axis)
    if not np.all(x != 0):
        raise ValueError("adjoint: no second derivative of np.cumprod where its input has zeros")
    tail = np.flip(np.cumsum(np.flip(g * conj(p), ax), axis=ax), ax)
    d_tail = np.flip(np.cumsum(np.flip(g * conj(dp), ax), axis=ax), ax)
    out = d_tail / conj(x) - tail * conj(dx) / conj(x) ** 2
    return np.reshape(out, np.shape(a))


def average_grad_dot(g, a, axis=None, weights=None, keepdims=False, wrt="a", ans=None,
                     a_dot=0.0, weights_dot=0.0, ans_dot=0.0):
    """Tangent of ``average_grad`` along ``a``, the weights and the average itself."""
    g = unreduce(g, a, axis, keepdims)
    if weights is None:
        return np.zeros(np.shape(a), dtype=np.result_type(g, float))
    w, undo = _weights_like(weights, a, axis)
    dw, _ = _weights_like(np.broadcast_to(weights_dot, np.shape(weights)), a, axis)
    total = np.sum(w, axis=axis, keepdims=True)
    d_total = np.sum(dw, axis=axis, keepdims=True)
    if wrt == "a":
        return g * conj(dw / total - w * d_total / total ** 2)
    mean = unreduce(ans, a, axis, keepdims)
    d_mean = unreduce(np.broadcast_to(ans_dot, np.shape(ans)), a, axis, keepdims)
    dev = a - mean
    d_dev = np.broadcast_to(a_dot, np.shape(a)) - d_mean
    return undo(g * conj(d_dev / total - dev * d_total / total ** 2))


def _spectral_partial_dot(x, x_dot, ord, axes):
    """The tangent of ``u_k v_k^T`` (spectral norms) or ``U V^T`` (nuclear) along ``x_dot``."""
    from .linalg import svd_jvp
    xm, tm = np.moveaxis(x, axes, (-2, -1)), np.moveaxis(x_dot, axes, (-2, -1))
    u, s, vh = np.linalg.svd(xm, full_matrices=False)
    du, _, dvh = svd_jvp(tm, xm, (u, s, vh), full_matrices=False)
    if ord != "nuc":
        k = 0 if ord == 2 else s.shape[-1] - 1
        u, du, vh, dvh = u[..., k:k + 1], du[..., k:k + 1], vh[..., k:k + 1, :], dvh[..., k:k + 1, :]
    return np.moveaxis(du @ vh + u @ dvh, (-2, -1), axes)
