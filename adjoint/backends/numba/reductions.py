"""Numba twins of ``adjoint/runtime/reductions.py``, for reductions over every entry (the
ones Numba compiles take no axis) or, for ``trapezoid``, along the last axis."""
from __future__ import annotations

import numba
import numpy as np
from numba import types
from numba.np.numpy_support import as_dtype

from ... import runtime
from .kinds import array, flat, integer_or_left_out, left_out, none, number, real_array, twin


@twin(runtime.prod_grad)
def _prod_grad(g, a, axis=None, keepdims=False):
    """``g`` times the product of the other entries, by prefix and suffix products (exact at 0)."""
    if number(g) and real_array(a) and none(axis):
        def impl(g, a, axis=None, keepdims=False):
            entries = flat(a)
            others = np.empty(entries.size)
            p = 1.0
            for k in range(entries.size):
                others[k] = p
                p *= entries[k]
            p = 1.0
            for k in range(entries.size - 1, -1, -1):
                others[k] *= p
                p *= entries[k]
            return (g * others).reshape(a.shape)
        return impl


@twin(runtime.cumsum_grad)
def _cumsum_grad(g, a, axis=None):
    """The reversed cumulative sum of ``g`` (cumsum over the flattened entries)."""
    if real_array(g) and g.ndim == 1 and real_array(a) and none(axis):
        return lambda g, a, axis=None: np.ascontiguousarray(np.cumsum(g[::-1])[::-1]).reshape(a.shape)


@twin(runtime.norm_grad)
def _norm_grad(g, x, ans, ord=None, axis=None, keepdims=False, vector=False):
    """The 2-norm over every entry: ``g * x / |x|`` (0 where the norm is 0)."""
    if number(g) and real_array(x) and number(ans) and none(ord) and none(axis):
        return lambda g, x, ans, ord=None, axis=None, keepdims=False, vector=False: \
            g * runtime.safe_div(x, ans)


@twin(runtime.cumprod_grad)
def _cumprod_grad(g, a, ans, axis=None):
    """Over the flattened entries, by the backward recurrence (exact where ``a`` has zeros):
    entry ``i`` gets ``prod(a[:i]) * (g[i] + a[i+1] * (g[i+1] + ...))``."""
    if real_array(g) and g.ndim == 1 and real_array(a) and none(axis):
        def impl(g, a, ans, axis=None):
            x = flat(a)
            before = np.empty(x.size)
            p = 1.0
            for i in range(x.size):
                before[i] = p
                p *= x[i]
            out = np.empty(x.size)
            acc = 0.0
            for i in range(x.size - 1, -1, -1):
                acc = g[i] + (x[i + 1] * acc if i + 1 < x.size else 0.0)
                out[i] = before[i] * acc
            return out.reshape(a.shape)
        return impl


@twin(runtime.trace_grad)
def _trace_grad(g, a, offset=0, axis1=0, axis2=1):
    """``g`` on every entry of diagonal ``offset`` of a matrix (the default axes)."""
    if number(g) and real_array(a) and a.ndim == 2 and _default(axis1, 0) and _default(axis2, 1) \
            and integer_or_left_out(offset, 0):
        def impl(g, a, offset=0, axis1=0, axis2=1):
            out = np.zeros(a.shape)
            for i in range(a.shape[0]):
                if 0 <= i + offset < a.shape[1]:
                    out[i, i + offset] = g
            return out
        return impl


def _default(axis, value):
    """Whether an axis argument is left out or the literal ``value``."""
    return left_out(axis, value) or getattr(axis, "literal_value", None) == value


def _float64_result(t):
    """A real array whose entries the NumPy helper reads as float64 (``result_type`` with
    float32 is float64): float64 and wide integers, so the twin's float64 arithmetic is theirs."""
    return real_array(t) and number(t.dtype) and \
        np.result_type(as_dtype(t.dtype), np.float32) == np.float64


@numba.njit(cache=True)
def _one_entry(v):
    return np.full(1, v)


@twin(runtime.nan_count)
def _nan_count(a, axis=None, keepdims=False):
    """The entries that are not NaN, over every entry (Numba's ``np.nanmean`` takes no axis),
    as a float of ``a``'s real dtype; with ``keepdims`` one in an array of ``a``'s rank."""
    if not (real_array(a) and number(a.dtype) and none(axis)):
        return None
    dtype = np.finfo(np.result_type(as_dtype(a.dtype), np.float32)).dtype.type
    if left_out(keepdims, False):
        return lambda a, axis=None, keepdims=False: dtype(np.sum(~np.isnan(a)))
    if left_out(keepdims, True):
        ones = (1,) * a.ndim
        return lambda a, axis=None, keepdims=False: np.full(ones, np.sum(~np.isnan(a)), dtype)


@twin(runtime.average_grad)
def _average_grad(g, a, axis=None, weights=None, keepdims=False, wrt="a", ans=None):
    """Over every entry (Numba's ``np.average`` takes no axis): ``g / a.size``, or with weights
    of ``a``'s shape ``g * w / sum(w)`` for ``a`` and ``g * (a - ans) / sum(w)`` for the weights."""
    if not (number(g) and real_array(a) and none(axis) and left_out(keepdims, False)):
        return None
    if none(weights):
        return lambda g, a, axis=None, weights=None, keepdims=False, wrt="a", ans=None: \
            np.full(a.shape, g / a.size)
    if not (real_array(weights) and weights.ndim == a.ndim):
        return None
    if left_out(wrt, "a"):
        def impl(g, a, axis=None, weights=None, keepdims=False, wrt="a", ans=None):
            _same_shape(a, weights)
            return g * (weights / np.sum(weights))
        return impl
    if left_out(wrt, "weights") and number(ans):
        def impl(g, a, axis=None, weights=None, keepdims=False, wrt="a", ans=None):
            _same_shape(a, weights)
            return g * ((a - ans) / np.sum(weights))
        return impl


@numba.njit(cache=True)
def _same_shape(a, weights):
    if a.shape != weights.shape:
        raise ValueError("np.average over every entry needs weights of the array's shape")


@twin(runtime.quantile_grad)
def _quantile_grad(g, a, q, axis=None, keepdims=False, method="linear"):
    """Over every entry by the linear method (all Numba's ``np.quantile`` computes): at
    ``h = (n - 1) * q`` the sorted entries ``floor(h)`` and the next get ``g`` times
    ``1 - frac(h)`` and ``frac(h)``; ties sorted stably, as the NumPy helper does."""
    if not ((number(g) or real_array(g)) and _float64_result(a) and (number(q) or real_array(q))):
        return None
    if not (none(axis) and left_out(keepdims, False) and left_out(method, "linear")):
        return None
    g_entries, q_entries = (flat if array(g) else _one_entry), (flat if array(q) else _one_entry)

    def impl(g, a, q, axis=None, keepdims=False, method="linear"):
        values, gs, qs = flat(a), g_entries(g), q_entries(q)
        if gs.size != qs.size:
            raise ValueError("quantile_grad: one cotangent per quantile")
        n = values.size
        on_sorted = np.zeros(n)
        for j in range(qs.size):
            h = (n - 1) * float(qs[j])
            lo = np.floor(h)
            hi, up = min(lo + 1, n - 1), h - lo
            _share(on_sorted, lo, gs[j] * ((1 - up) + (up if hi == lo else 0.0)))
            if hi != lo:
                _share(on_sorted, hi, gs[j] * up)
        out = np.zeros(n)
        order = np.argsort(values, kind="mergesort")
        for k in range(n):
            out[order[k]] = on_sorted[k]
        return out.reshape(a.shape)
    return impl


@numba.njit(cache=True)
def _share(on_sorted, at, value):
    """``on_sorted[at] += value`` for a sorted position ``at`` (a float) inside the array."""
    if 0 <= at < on_sorted.size:
        on_sorted[int(at)] += value


@twin(runtime.trapezoid_weights)
def _trapezoid_weights(y, x=None, dx=1.0, axis=-1):
    """Along the last axis (Numba's ``np.trapezoid`` takes no axis): half the steps on either
    side of each sample, the steps ``dx`` or ``np.diff(x)`` of a vector ``x`` or of one of
    ``y``'s rank; the steps' shape with the axis one longer, as the NumPy helper gives."""
    if not (real_array(y) and y.ndim >= 1 and left_out(axis, -1)):
        return None
    if none(x) and (number(dx) or left_out(dx, 1.0)) and _float64_result(y):
        lead = (1,) * (y.ndim - 1)

        def impl(y, x=None, dx=1.0, axis=-1):
            steps = np.full(max(y.shape[-1] - 1, 0), np.float64(dx))
            return _halves(steps.reshape((1, steps.size))).reshape(lead + (y.shape[-1],))
        return impl
    if real_array(x) and x.dtype in (types.float64, types.int64):
        if x.ndim == 1:
            lead = (1,) * (y.ndim - 1)

            def impl(y, x=None, dx=1.0, axis=-1):
                _same_length(x, y)
                steps = np.diff(x)
                return _halves(steps.reshape((1, steps.size))).reshape(lead + (x.size,))
            return impl
        if x.ndim == y.ndim:
            def impl(y, x=None, dx=1.0, axis=-1):
                _same_length(x, y)
                steps = np.diff(np.ascontiguousarray(x))
                rows = steps.reshape((x.size // max(x.shape[-1], 1), steps.shape[-1]))
                return _halves(rows).reshape(x.shape)
            return impl


@numba.njit(cache=True)
def _same_length(x, y):
    if x.shape[-1] != y.shape[-1]:
        raise ValueError("trapezoid_weights: x needs y's length along the axis")


@numba.njit(cache=True)
def _halves(steps):
    """Row by row: sample ``k`` weighs ``(steps[k - 1] + steps[k]) / 2``, a missing step 0."""
    rows, m = steps.shape
    out = np.empty((rows, m + 1))
    for r in range(rows):
        for k in range(m + 1):
            before = steps[r, k - 1] if k > 0 else 0
            after = steps[r, k] if k < m else 0
            out[r, k] = (before + after) / 2
    return out
