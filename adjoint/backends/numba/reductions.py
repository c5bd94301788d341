"""Numba twins of ``adjoint/runtime/reductions.py``, for reductions over every entry."""
from __future__ import annotations

import numpy as np

from ... import runtime
from .kinds import flat, integer_or_left_out, left_out, none, number, real_array, twin


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
