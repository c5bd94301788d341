"""Numba twins of ``adjoint/runtime/reductions.py``, for reductions over every entry."""
from __future__ import annotations

import numpy as np

from ... import runtime
from .kinds import flat, none, number, real_array, twin


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
