"""Numba twins of ``adjoint/runtime/ufuncs.py``: the partials of elementwise rules."""
from __future__ import annotations

import math

import numba
import numpy as np
from numba import types

from ... import runtime
from .kinds import (Rows, array, complex_number, complex_valued, left_out, list_of, none, number, numeric, real,
                    real_array, scalar, twin)


@twin(runtime.safe_div)
def _safe_div(a, b):
    """Real or complex numbers and arrays (the adjoint of ``abs`` of a complex value divides it)."""
    if scalar(a) and scalar(b):
        return lambda a, b: 0.0 if b == 0 else a / b
    if numeric(a) and numeric(b) and (array(a) or array(b)):
        def impl(a, b):
            zero = np.equal(b, 0)
            return np.where(zero, 0.0, a / np.where(zero, 1.0, b))
        return impl


@twin(runtime.safe_log)
def _safe_log(x):
    if number(x):
        return lambda x: np.log(1.0 if x == 0 else x)
    if real_array(x):
        return lambda x: np.log(np.where(x == 0, 1.0, x))


@twin(runtime.log_base)
def _log_base(base):
    if none(base):
        return lambda base: 1.0
    if number(base):
        return lambda base: math.log(base)


@twin(runtime.logistic)
def _logistic(x):
    """``1 / (1 + exp(-x))`` with ``-x`` capped as on NumPy."""
    if number(x) or real_array(x):
        return lambda x: 1.0 / (1.0 + np.exp(np.minimum(-x, runtime.ufuncs.LOGISTIC_CAP)))


@twin(runtime.pick_grad)
def _pick_grad(g, ans, x, other=None):
    """``max(x, other)``/``min`` of two numbers: the chosen one gets ``g``, a tie halves it."""
    if number(g) and number(ans) and number(x) and number(other):
        return lambda g, ans, x, other=None: g / 2 if x == other else g * (x == ans)


@twin(runtime.clip_grad)
def _clip_grad(g, x, lo=None, hi=None, lo_kw=None, hi_kw=None):
    """``clip(x, lo, hi)`` with bounds that are numbers or None, given by position."""
    if not (real(g) and real(x) and none(lo_kw) and none(hi_kw)):
        return None
    if not ((none(lo) or number(lo)) and (none(hi) or number(hi))):
        return None
    above, tie_lo = (_free, _never) if none(lo) else (_above, _tie)
    below, tie_hi = (_free, _never) if none(hi) else (_below, _tie)

    def impl(g, x, lo=None, hi=None, lo_kw=None, hi_kw=None):
        inside = np.logical_and(above(x, lo), below(x, hi))
        return np.where(np.logical_or(tie_lo(x, lo), tie_hi(x, hi)), g / 2, g * inside)
    return impl


@numba.njit(cache=True)
def _above(x, bound):
    return np.greater(x, bound)


@numba.njit(cache=True)
def _below(x, bound):
    return np.less(x, bound)


@numba.njit(cache=True)
def _tie(x, bound):
    return np.equal(x, bound)


@numba.njit(cache=True)
def _free(x, bound):
    """No bound: every entry (NaN too) is inside."""
    return np.logical_not(np.less(x, x))


@numba.njit(cache=True)
def _never(x, bound):
    return np.less(x, x)


@twin(runtime.imag_grad)
def _imag_grad(g, x):
    """``i g`` for a complex ``x``; a real one has no imaginary part to receive ``g``."""
    if not (numeric(g) and numeric(x)):
        return None
    if complex_valued(x):
        return lambda g, x: 1j * np.real(g)
    return lambda g, x: 0 * np.real(g)


@twin(runtime.sum_grad)
def _sum_grad(g, x):
    """The built-in ``sum`` of a real array: each row (or entry) of ``x`` gets ``g``; of a list
    of numbers or arrays: each item does (``Rows``, the list adjoint's type on Numba)."""
    if list_of(x) and (number(x.dtype) or array(x.dtype)) and (number(g) or real_array(g)):
        return lambda g, x: Rows(_copies(g, len(x)))
    if real_array(x) and number(g):
        return lambda g, x: np.full(x.shape, g)
    if real_array(x) and real_array(g):
        def impl(g, x):
            out = np.empty(x.shape, g.dtype)
            for i in range(x.shape[0]):
                out[i] = g
            return out
        return impl


@twin(runtime.mT)
def _mT(x):
    """The transpose of the last two axes (a view, as ``np.swapaxes`` gives)."""
    if array(x) and x.ndim >= 2:
        return lambda x: np.swapaxes(x, x.ndim - 1, x.ndim - 2)


@twin(runtime.mH)
def _mH(x):
    if array(x) and x.ndim >= 2:
        return lambda x: runtime.conj(np.swapaxes(x, x.ndim - 1, x.ndim - 2))


@twin(runtime.angle_grad)
def _angle_grad(g, z, deg=False):
    """``1j * g * z / |z|^2`` (times ``180 / pi`` in degrees, 0 at ``z == 0``) for complex
    ``z``; a real ``z`` has angle 0 or pi, derivative 0."""
    if not ((number(g) or real_array(g)) and (isinstance(deg, types.Boolean) or left_out(deg, False))):
        return None
    if real(z):
        return lambda g, z, deg=False: 0.0 * g
    if complex_number(z) or (array(z) and complex_number(z.dtype)):
        def impl(g, z, deg=False):
            scale = 180 / math.pi if deg else 1.0
            return 1j * g * scale * runtime.safe_div(z, np.abs(z) ** 2)
        return impl


@numba.njit(cache=True)
def _copies(g, n):
    """``n`` copies of ``g`` (a number or an array) as the rows of one array."""
    rows = np.empty((n,) + np.shape(g))
    for k in range(n):
        rows[k] = g
    return rows
