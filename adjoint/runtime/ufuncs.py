"""Helpers of the elementwise rules (``rules/ufuncs.py``, ``rules/builtins.py``).

Complex numbers follow PyTorch's convention for real-valued losses: the
gradient of L with respect to z = x + iy is dL/dx + i dL/dy (the direction of
steepest ascent), so for a holomorphic f the adjoint is g * conj(f'(z)).
"""
from __future__ import annotations

import math as _math

import numpy as np

from .core import AdjointList, _tie_share, conj

__all__ = [
    "LN2", "LN10", "mT", "mH", "safe_div", "safe_log", "log_base", "logistic", "clip_grad", "imag_grad",
    "angle_grad", "angle_jvp", "pick_grad", "pick_jvp", "sum_grad", "angle_grad_dot",
]


LN2 = _math.log(2.0)


LN10 = _math.log(10.0)


LOGISTIC_CAP = 709.78  # exp(709.78) is 1.79e308, the largest float 1.80e308


def mT(x):
    """Matrix transpose of the last two axes."""
    return np.swapaxes(x, -1, -2)


def mH(x):
    """Conjugate transpose of the last two axes."""
    return conj(np.swapaxes(x, -1, -2))


def safe_div(a, b):
    """``a / b`` with 0 where ``b == 0`` (the subgradient chosen at 0/0 kinks)."""
    zero = np.equal(b, 0)
    return np.where(zero, 0, a / np.where(zero, 1, b))


def safe_log(x):
    """``log(x)`` with 0 at ``x == 0``: the y-partial of ``x ** y`` is 0 where x is 0."""
    return np.log(np.where(np.equal(x, 0), 1, x))


def log_base(base):
    """The natural log of a logarithm's base (1 for ``math.log(x)``, which has none)."""
    return 1.0 if base is None else _math.log(base)


def logistic(x):
    """``1 / (1 + exp(-x))`` of real ``x`` in five passes over two new arrays, with no warning:
    ``-x`` is capped at 709.78, below ``log`` of the largest float, so ``exp`` cannot overflow;
    where ``x < -709.78`` it gives 5.6e-309 for a value between that and 0. (``np.errstate``
    would cost more than the whole function on 100 points.) The derivative code of
    ``logaddexp`` calls it (``passes/simplify.py``). The ufuncs are local names and write
    in place: on 100 points the calls cost more than the arithmetic."""
    out = _minimum(_negative(x), LOGISTIC_CAP)
    if type(out) is not np.ndarray:
        return 1.0 / (1.0 + _exp(out))
    _exp(out, out=out)
    _add(out, 1.0, out=out)
    return _reciprocal(out, out=out)


_negative, _minimum, _exp, _add, _reciprocal = np.negative, np.minimum, np.exp, np.add, np.reciprocal


def _shared(g, x, chosen, other):
    """``g`` where ``x`` was chosen, halved where ``x`` ties ``other``."""
    return np.where(np.equal(x, other), g / 2, g * chosen)


def clip_grad(g, x, lo=None, hi=None, lo_kw=None, hi_kw=None):
    """The share of ``g`` that reaches ``x`` in ``clip(., lo, hi)``.

    ``x`` gets ``g`` strictly between the bounds and half of it where it equals
    a bound (``clip`` is ``minimum(maximum(x, lo), hi)`` and ties split ``g``
    equally); ``None`` is no bound. Bounds use the same helper: ``lo`` gets
    ``clip_grad(g, lo, x)`` and ``hi`` gets ``clip_grad(g, hi, None, x)``.
    """
    lo = lo_kw if lo is None else lo
    hi = hi_kw if hi is None else hi
    inside = np.ones(np.shape(x), dtype=bool)
    tie = np.zeros(np.shape(x), dtype=bool)
    if lo is not None:
        inside = inside & np.greater(x, lo)
        tie = tie | np.equal(x, lo)
    if hi is not None:
        inside = inside & np.less(x, hi)
        tie = tie | np.equal(x, hi)
    return np.where(tie, g / 2, g * inside)


def imag_grad(g, x):
    """Adjoint of ``np.imag(x)``: ``i g`` for complex ``x``, nothing for real ``x``."""
    return 1j * np.real(g) if np.iscomplexobj(x) else 0 * np.real(g)


def angle_grad(g, z, deg=False):
    """Adjoint of ``np.angle(z)``: ``i g z / |z|^2`` (0 at ``z == 0`` and for real ``z``)."""
    if not np.iscomplexobj(z):
        return 0 * np.real(g)
    scale = 180 / _math.pi if deg else 1
    return 1j * np.real(g) * scale * safe_div(z, np.abs(z) ** 2)


def angle_jvp(t, z, deg=False):
    """Tangent of ``np.angle(z)``: ``Im(t / z)`` (0 at ``z == 0`` and for real ``z``)."""
    scale = 180 / _math.pi if deg else 1.0
    return np.imag(safe_div(t, z)) * scale


def pick_grad(g, ans, x, other=None):
    """Adjoint of the built-in ``max``/``min`` for ``x``: ``max(x, other)``, or ``max(x)``.

    With two arguments the chosen one gets ``g`` (ties split it); with one
    iterable ``g`` is shared among the entries equal to the result.
    """
    if other is not None:
        return _shared(g, x, np.equal(x, ans), other)
    if isinstance(x, np.ndarray):
        return g * _tie_share(x, ans, 0)
    hits = [v == ans for v in x]
    return AdjointList(g / sum(hits) if h else 0.0 for h in hits)


def pick_jvp(t, ans, x, other=None):
    """Tangent of the built-in ``max``/``min`` along a tangent ``t`` of ``x``."""
    share = pick_grad(1.0, ans, x, other)
    if other is not None:
        return share * t
    if isinstance(x, np.ndarray):
        return np.sum(share * t, axis=0)
    return sum(s * ti for s, ti in zip(share, t))


def sum_grad(g, x):
    """Adjoint of the built-in ``sum(x)``: every item of ``x`` gets ``g``."""
    if isinstance(x, np.ndarray):
        return np.broadcast_to(g, x.shape)
    return AdjointList(g for _ in x)


# -- second order -------------------------------------------------------------------------
def angle_grad_dot(g, z, deg=False, z_dot=0.0):
    """Tangent of ``angle_grad`` along ``z_dot``: ``z / |z|^2`` is ``1 / conj(z)``."""
    if not np.iscomplexobj(z):
        return 0 * np.real(g)
    scale = 180 / _math.pi if deg else 1
    return -1j * np.real(g) * scale * safe_div(conj(z_dot), conj(z) ** 2)
