"""The few helpers generated code calls.

Each helper is small, pure NumPy and free of adjoint's internals, so the
generated source can be pasted into a file and run with
``from adjoint.runtime import *``. Broadcasting and accumulation live here
once, never in individual rules.
"""
from __future__ import annotations

import numpy as np

from .errors import NonScalarOutputError

__all__ = [
    "unbroadcast", "unreduce", "zeros_like", "add_at", "last_writes", "grad_like", "unit_seed", "snapshot",
    "astype", "none_to_zero", "extremum_grad", "dot_grad_a", "dot_grad_b", "matmul_grad_a", "matmul_grad_b",
    "transpose_grad", "count", "unstack_like", "writable_copy", "AdjointList", "AdjointDict",
    "extremum_jvp", "tangent_like", "broadcast_like", "scattered", "tangent_fit",
]


def unbroadcast(g, x):
    """Sum ``g`` over the axes along which ``x`` was broadcast, giving ``x``'s shape.

    A real ``x`` gets the real part of a complex ``g``: the adjoint of a real
    value is real (its imaginary part is meaningless, see ``conj``).
    """
    if type(g) is np.ndarray and type(x) is np.ndarray and \
            (g.dtype.kind != "c" or x.dtype.kind == "c"):
        # the common case, called for every broadcasting operand: no conversions
        return g if g.shape == x.shape else _sum_to(g, x.shape)
    shape = np.shape(x)
    if _is_complex(g) and not _is_complex(x):
        g = np.real(g)
    g = np.asarray(g)
    return g if g.shape == shape else _sum_to(g, shape)


def _sum_to(g, shape):
    lead = g.ndim - len(shape)
    if lead > 0:
        g = np.add.reduce(g, axis=0 if lead == 1 else tuple(range(lead)))
    elif lead < 0:  # fewer axes than x: they align at the right, as in broadcasting
        g = g.reshape((1,) * -lead + g.shape)
    axes = tuple([i for i, n in enumerate(shape) if n == 1 and g.shape[i] != 1])
    if axes:
        g = np.add.reduce(g, axis=axes, keepdims=True)
    if g.shape != shape:
        g = np.array(np.broadcast_to(g, shape))  # writable: generated code may add to it in place
    return g


SMALL = 1 << 14  # below this many elements a materialised array is cheaper than a broadcast view


def _broadcast(g, shape):
    """``g`` broadcast to ``shape``: a fresh array when small (cheap to make), else a view."""
    size = 1
    for n in shape:
        size *= n
    if size <= SMALL:
        out = np.empty(shape, dtype=np.result_type(g))
        out[...] = g
        return out
    return np.broadcast_to(g, shape)


def unreduce(g, x, axis=None, keepdims=False):
    """Spread the adjoint of a reduction of ``x`` over ``axis`` back to ``x``'s shape."""
    shape = x.shape if type(x) is np.ndarray else np.shape(x)
    return _broadcast(_restore_axes(g, x, axis, keepdims), shape)


def _restore_axes(g, x, axis, keepdims):
    """The result ``g`` of a reduction of ``x`` with the reduced axes back (length 1)."""
    if axis is None or keepdims:
        return g
    return np.expand_dims(g, _axes(x, axis))


def count(x, axis=None):
    """How many elements a reduction over ``axis`` combines."""
    if axis is None:
        return x.size if type(x) is np.ndarray else int(np.size(x))
    shape = np.shape(x)
    total = 1
    for a in _axes(x, axis):
        total *= shape[a]
    return total


def extremum_grad(g, x, ans, axis=None, keepdims=False):
    """Adjoint of max/min: ``g`` shared equally among the entries that attain the extremum."""
    g, ans = _restore_axes(g, x, axis, keepdims), _restore_axes(ans, x, axis, keepdims)
    hit = np.asarray(x) == ans  # g and ans broadcast against x: nothing is spread out
    dtype = g.dtype if type(g) is np.ndarray and g.dtype.kind in "fc" else \
        _float_dtype(np.result_type(g))
    ties = np.add.reduce(hit, axis=axis, keepdims=True, dtype=dtype)
    return hit * (g / ties)


def extremum_jvp(t, x, ans, axis=None, keepdims=False):
    """Tangent of max/min: the mean of ``t`` over the entries that attain the extremum."""
    hit = np.asarray(x) == unreduce(ans, x, axis, keepdims)
    ties = np.sum(hit, axis=axis, keepdims=keepdims)
    return np.sum(np.where(hit, t, 0.0), axis=axis, keepdims=keepdims) / ties


def dot_grad_a(g, a, b):
    """Adjoint of ``np.dot(a, b)`` with respect to ``a``."""
    a_nd, b_nd = np.ndim(a), np.ndim(b)
    if a_nd == 0 or b_nd == 0:
        return unbroadcast(g * np.conj(b), a)
    if b_nd == 1:
        return np.multiply.outer(g, np.conj(b)) if a_nd > 1 else g * np.conj(b)
    if a_nd == 1:  # every axis of b but the contracted one meets g
        if b_nd == 2:
            return np.dot(np.conj(b), g)
        return np.tensordot(np.conj(b), g, axes=([i for i in range(b_nd) if i != b_nd - 2],
                                                  list(range(g.ndim))))
    contracted = tuple(range(a_nd - 1, g.ndim))
    b_axes = [i for i in range(b_nd) if i != b_nd - 2]
    return np.tensordot(g, np.conj(b), axes=(contracted, b_axes))


def dot_grad_b(g, a, b):
    """Adjoint of ``np.dot(a, b)`` with respect to ``b``."""
    a_nd, b_nd = np.ndim(a), np.ndim(b)
    if a_nd == 0 or b_nd == 0:
        return unbroadcast(g * np.conj(a), b)
    if a_nd == 1 and b_nd == 1:
        return g * np.conj(a)
    if b_nd == 1:
        return np.tensordot(np.conj(a), g, axes=(list(range(a_nd - 1)), list(range(g.ndim))))
    if a_nd == 1:
        return np.multiply.outer(np.conj(a), g) if b_nd == 2 else np.moveaxis(
            np.multiply.outer(np.conj(a), g), 0, b_nd - 2)
    g_axes = list(range(a_nd - 1))
    out = np.tensordot(np.conj(a), g, axes=(g_axes, g_axes))
    return np.moveaxis(out, 0, b_nd - 2)


def matmul_grad_a(g, a, b):
    """Adjoint of ``a @ b`` with respect to ``a`` (1-D operands and stacks included)."""
    a, b = np.asarray(a), np.asarray(b)
    if a.ndim == 2 and b.ndim == 2:
        return g @ conj(b).T
    if a.ndim == 1 and b.ndim == 1:
        return g * conj(b)
    if a.ndim == 2 and b.ndim == 1:
        return np.outer(g, conj(b))
    if a.ndim == 1 and b.ndim == 2:
        return conj(b) @ g
    a2, b2, g2 = _matrices(g, a, b)
    return unbroadcast(g2 @ conj(np.swapaxes(b2, -1, -2)), a2).reshape(a.shape)


def matmul_grad_b(g, a, b):
    """Adjoint of ``a @ b`` with respect to ``b``."""
    a, b = np.asarray(a), np.asarray(b)
    if a.ndim == 2 and b.ndim == 2:
        return conj(a).T @ g
    if a.ndim == 1 and b.ndim == 1:
        return g * conj(a)
    if a.ndim == 2 and b.ndim == 1:
        return conj(a).T @ g
    if a.ndim == 1 and b.ndim == 2:
        return np.outer(conj(a), g)
    a2, b2, g2 = _matrices(g, a, b)
    return unbroadcast(conj(np.swapaxes(a2, -1, -2)) @ g2, b2).reshape(b.shape)


def _matrices(g, a, b):
    """``a``, ``b`` promoted to matrices as matmul does, and ``g`` shaped like their product."""
    a2 = a if a.ndim > 1 else a.reshape(1, -1)
    b2 = b if b.ndim > 1 else b.reshape(-1, 1)
    batch = np.broadcast_shapes(a2.shape[:-2], b2.shape[:-2])
    return a2, b2, np.reshape(g, batch + (a2.shape[-2], b2.shape[-1]))


def transpose_grad(g, axes=None):
    """Adjoint of ``np.transpose(x, axes)``: the inverse permutation."""
    if axes is None:
        return np.transpose(g)
    return np.transpose(g, np.argsort(axes))


def unstack_like(g, x):
    """Adjoint of ``np.array(x)``: ``g`` split to match a list or tuple ``x``."""
    if isinstance(x, (list, tuple)):
        return AdjointList(unstack_like(g[i], v) for i, v in enumerate(x))
    return g


def astype(x, dtype):
    """``x.astype(dtype)``, as a function the rule registry can name."""
    return np.asarray(x).astype(dtype)


def unit_seed(y):
    """The seed 1 of a scalar output; refuses an output that is not a scalar."""
    kind = type(y)
    if kind is float or kind is np.float64:
        return 1.0
    if np.ndim(y) != 0:
        raise NonScalarOutputError(
            f"grad needs a function that returns a scalar, but it returned shape {np.shape(y)}; "
            "use adjoint.vjp for vector outputs, or reduce the output (e.g. with np.sum)")
    if isinstance(y, (list, tuple, dict)):
        raise NonScalarOutputError("grad needs a scalar output, not a container; use has_aux=True "
                                   "to return (loss, aux)")
    return np.ones_like(y) if isinstance(y, np.ndarray) or isinstance(y, np.generic) else 1.0


def none_to_zero(v):
    """A custom rule's None (no derivative) as a zero adjoint."""
    return 0.0 if v is None else v


def snapshot(v):
    """A copy of ``v`` that later in-place writes cannot change."""
    return v.copy() if isinstance(v, np.ndarray) else v


def writable_copy(x):
    """A private copy of a value the function writes into, so the caller's data never changes:
    arrays are copied, containers rebuilt around copies of their items, numbers kept."""
    if isinstance(x, np.ndarray):
        return x.copy()
    if isinstance(x, dict):
        return type(x)((k, writable_copy(v)) for k, v in x.items())
    if isinstance(x, (list, tuple)):
        items = [writable_copy(v) for v in x]
        return type(x)(*items) if hasattr(x, "_fields") else type(x)(items)
    return x


def broadcast_like(g, x):
    """``g`` broadcast to ``x``'s shape, as a new writable array (the adjoint of ``unbroadcast``)."""
    return np.array(np.broadcast_to(g, np.shape(x)))


def scattered(t, like, index):
    """Zeros shaped like ``like`` with ``t`` added at ``index`` (repeated indices add up)."""
    if isinstance(like, (dict, list, tuple)):  # an item of a dict or list of arrays
        return add_at(zeros_like(like), index, t)
    out = np.zeros(np.shape(like), dtype=np.result_type(_float_dtype(np.result_type(like)), t))
    return add_at(out, index, t)


def tangent_like(t, x):
    """A private, writable tangent shaped like ``x`` (a scalar ``t`` such as 0.0 is broadcast)."""
    if isinstance(x, dict):
        return {k: tangent_like(t[k] if isinstance(t, dict) else t, v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        items = [tangent_like(t[i] if isinstance(t, (list, tuple)) else t, v)
                 for i, v in enumerate(x)]
        return items if isinstance(x, list) else tuple(items)
    if isinstance(x, np.ndarray):
        dtype = np.result_type(_float_dtype(x.dtype), np.asarray(t).dtype)
        return np.array(np.broadcast_to(t, x.shape), dtype=dtype)
    return t


def tangent_fit(t, y):
    """The tangent ``t`` of an elementwise result ``y`` with ``y``'s shape.

    An operand that carries no tangent may still broadcast the result
    (``c + x[0]`` with ``c`` of shape (4, 3)): ``t`` is then spread to every
    entry it moves, as a new array. ``t`` itself when it has the shape already.
    """
    shape = np.shape(y)
    if np.shape(t) == shape:
        return t
    return np.array(np.broadcast_to(t, shape))


def zeros_like(x):
    """A zero adjoint shaped like ``x``; containers become mutable adjoint containers."""
    if isinstance(x, np.ndarray):
        return np.zeros(x.shape, dtype=_float_dtype(x.dtype))
    if isinstance(x, dict):
        return AdjointDict((k, zeros_like(v)) for k, v in x.items())
    if isinstance(x, (list, tuple)):
        return AdjointList(zeros_like(v) for v in x)
    if isinstance(x, np.generic):
        return np.zeros((), dtype=_float_dtype(x.dtype))[()]
    if isinstance(x, complex):
        return 0j
    return 0.0


def _float_dtype(dtype):
    return dtype if np.issubdtype(dtype, np.inexact) else np.float64


def add_at(x_bar, index, g):
    """``x_bar[index] += g``, adding every contribution where an index repeats."""
    if isinstance(x_bar, np.ndarray) and _has_int_array(index):
        np.add.at(x_bar, index, g)
    else:
        x_bar[index] += g
    return x_bar


def last_writes(x, index):
    """A mask over ``x[index]``: True where ``x[index] = v`` keeps that position's value.

    Where an index array repeats an element, NumPy keeps one of the writes and
    only that one reaches the result. Which one is found by repeating the write
    with position labels, so the answer is NumPy's own whatever its order.
    """
    labels = np.arange(np.size(x[index])).reshape(np.shape(x[index]))
    winner = np.full(np.shape(x), -1)
    winner[index] = labels
    return winner[index] == labels


def _has_int_array(index):
    if isinstance(index, tuple):
        return any(_has_int_array(i) for i in index)
    if isinstance(index, list):
        return True
    return isinstance(index, np.ndarray) and index.dtype != np.bool_ and index.ndim > 0


def grad_like(x_bar, x):
    """The gradient as the user expects it: ``x``'s structure, shape and dtype."""
    if type(x) is float:
        kind = type(x_bar)
        if kind is float or kind is np.float64:
            return float(x_bar)
    if isinstance(x, dict):
        bar = x_bar if isinstance(x_bar, dict) else {}
        return {k: grad_like(bar.get(k, 0.0), v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        bar = x_bar if isinstance(x_bar, (list, tuple)) else [0.0] * len(x)
        items = [grad_like(b, v) for b, v in zip(bar, x)]
        return type(x)(items) if not hasattr(x, "_fields") else type(x)(*items)
    if isinstance(x, np.ndarray):
        if type(x_bar) is np.ndarray and x_bar.dtype == x.dtype and x_bar.shape == x.shape \
                and x_bar.flags.writeable and x_bar.flags.owndata:
            return x_bar
        dtype = _float_dtype(x.dtype)
        if dtype.kind != "c" and _is_complex(x_bar):
            x_bar = np.real(x_bar)  # a real argument's gradient is real
        if np.shape(x_bar) != x.shape:
            x_bar = np.broadcast_to(x_bar, x.shape)
        out = np.asarray(x_bar, dtype=dtype)
        return out.copy() if not out.flags.writeable or not out.flags.owndata else out
    if isinstance(x, np.generic):
        dtype = _float_dtype(x.dtype)
        return np.asarray(x_bar if dtype.kind == "c" else np.real(x_bar), dtype=dtype)[()]
    if isinstance(x, complex):
        return complex(x_bar)
    return float(np.real(x_bar))


class AdjointList(list):
    """A list of adjoints that adds elementwise (``+`` on lists would concatenate)."""

    def __iadd__(self, other):
        if isinstance(other, (int, float)) and other == 0:
            return self
        for i, o in enumerate(other):
            self[i] = self[i] + o
        return self

    def __add__(self, other):
        return AdjointList(self).__iadd__(other)

    __radd__ = __add__


class AdjointDict(dict):
    """A dict of adjoints that adds key by key."""

    def __iadd__(self, other):
        if isinstance(other, (int, float)) and other == 0:
            return self
        for k, o in other.items():
            self[k] = self[k] + o
        return self

    def __add__(self, other):
        return AdjointDict(self).__iadd__(other)

    __radd__ = __add__


# =============================================================================
# NumPy coverage helpers (issue 3): what the rules in ufuncs.py,
# reductions.py, shapes.py, linalg.py and builtins.py call. Each helper is the
# derivative of one NumPy function, written once here so that rule templates
# stay one readable line.
#
# Complex numbers follow PyTorch's convention for real-valued losses: the
# gradient of L with respect to z = x + iy is dL/dx + i dL/dy (the direction of
# steepest ascent), so for a holomorphic f the adjoint is g * conj(f'(z)).
# =============================================================================
import math as _math
import string as _string

__all__ += [
    "LN2", "LN10", "conj", "mT", "mH", "safe_div", "safe_log", "log_base", "clip_grad",
    "imag_grad", "angle_grad", "angle_jvp", "pick_grad", "pick_jvp", "sum_grad", "prod_grad", "prod_jvp",
    "cumsum_grad", "cumprod_grad", "cumprod_jvp", "average_grad", "average_jvp", "diagonal_grad",
    "trace_grad", "norm_grad", "norm_jvp", "unconcatenate", "reconcatenate", "unstack", "unsplit",
    "tile_grad", "repeat_grad", "pad_grad", "diag_grad", "take_grad", "take_along_axis_grad",
    "sort_grad", "sort_jvp", "einsum_grad", "tensordot_grad", "inner_grad", "kron_grad",
    "solve_grad", "det_grad", "cholesky_grad", "cholesky_jvp", "eigh_grad", "eigh_jvp",
    "qr_grad", "qr_jvp", "svd_grad", "svd_jvp", "pinv_grad", "pinv_jvp", "lstsq_grad",
    "lstsq_jvp", "matrix_power_grad", "matrix_power_jvp",
]

def _is_complex(v):
    """Whether ``v`` is a complex number or array (used by ``unbroadcast`` and ``grad_like``)."""
    return isinstance(v, complex) or getattr(getattr(v, "dtype", None), "kind", None) == "c"


LN2 = _math.log(2.0)
LN10 = _math.log(10.0)


def conj(x):
    """Complex conjugate; real values (and their dtype) pass through unchanged."""
    kind = type(x)
    if kind is float or kind is np.float64 or (kind is np.ndarray and x.dtype.kind != "c"):
        return x
    return np.conj(x) if np.iscomplexobj(x) else x


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


# -- reductions -----------------------------------------------------------------------
def _axes(x, axis):
    nd = np.ndim(x)
    if axis is None:
        return tuple(range(nd))
    return tuple(sorted(a % nd for a in ((axis,) if np.ndim(axis) == 0 else axis)))


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


def _tie_share(x, ext, axis):
    """1/k on each of the k entries equal to the extremum ``ext``, 0 elsewhere."""
    hit = x == ext
    return hit / np.sum(hit, axis=axis, keepdims=True, dtype=_float_dtype(np.result_type(x)))


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


# -- contractions ---------------------------------------------------------------------
def _einsum_spec(subscripts, shapes):
    """Explicit form of ``subscripts``: one letter string per operand (ellipses spelled
    out) and the output's letters."""
    spec = subscripts.replace(" ", "")
    ins, out = spec.split("->") if "->" in spec else (spec, None)
    ins = ins.split(",")
    spare = [c for c in _string.ascii_letters if c not in spec]
    n_ell = max([len(shape) - len(s.replace("...", "")) for s, shape in zip(ins, shapes)
                 if "..." in s] or [0])
    ell = "".join(spare[:n_ell])
    full = []
    for s, shape in zip(ins, shapes):
        if "..." in s:
            k = len(shape) - len(s.replace("...", ""))
            s = s.replace("...", ell[n_ell - k:])
        full.append(s)
    if out is None:
        letters = "".join(ins).replace(".", "")
        out = ell + "".join(sorted(c for c in set(letters) if letters.count(c) == 1))
    else:
        out = out.replace("...", ell)
    return full, out


def einsum_grad(g, k, subscripts, *operands):
    """Adjoint of ``np.einsum(subscripts, *operands)`` for operand ``k``.

    The adjoint contracts ``g`` with the other operands (conjugated), then
    spreads it over letters only operand k had, sums broadcast axes, and puts
    repeated letters (``'ii->i'``) back on their diagonal.
    """
    ops = [o for o in operands if o is not None]
    ins, out = _einsum_spec(subscripts, [np.shape(o) for o in ops])
    x, sub = ops[k], ins[k]
    sizes = {}
    for s, o in zip(ins, ops):
        for c, n in zip(s, np.shape(o)):
            sizes[c] = max(sizes.get(c, 1), n)
    unique = "".join(dict.fromkeys(sub))
    others = [(s, conj(o)) for i, (s, o) in enumerate(zip(ins, ops)) if i != k]
    known = set(out).union(*[set(s) for s, _ in others])
    target = "".join(c for c in unique if c in known)
    g = np.broadcast_to(g, [sizes[c] for c in out])
    spec = ",".join([out] + [s for s, _ in others]) + "->" + target
    r = np.einsum(spec, g, *[o for _, o in others], optimize=len(ops) > 2)
    r = np.reshape(r, [sizes[c] if c in target else 1 for c in unique])
    dims = [np.shape(x)[sub.index(c)] for c in unique]
    summed = tuple(i for i, (n, d) in enumerate(zip(r.shape, dims)) if d == 1 and n != 1)
    if summed:
        r = np.sum(r, axis=summed, keepdims=True)
    r = np.broadcast_to(r, dims)
    if len(unique) == len(sub):
        return np.transpose(r, [unique.index(c) for c in sub]) if unique != sub else r
    full = np.zeros(np.shape(x), dtype=r.dtype)
    np.einsum(f"{sub}->{unique}", full)[...] = r  # a writeable view of the diagonal
    return full


def _tensordot_subscripts(na, nb, axes):
    if np.ndim(axes) == 0:
        axes = (list(range(na - axes, na)), list(range(axes)))
    a_ax, b_ax = ([axes[0]] if np.ndim(axes[0]) == 0 else list(axes[0]),
                  [axes[1]] if np.ndim(axes[1]) == 0 else list(axes[1]))
    a_ax, b_ax = [i % na for i in a_ax], [i % nb for i in b_ax]
    letters = iter(_string.ascii_letters)
    sa = [next(letters) for _ in range(na)]
    sb = [next(letters) for _ in range(nb)]
    for i, j in zip(a_ax, b_ax):
        sb[j] = sa[i]
    out = [c for i, c in enumerate(sa) if i not in a_ax] + [c for j, c in enumerate(sb) if j not in b_ax]
    return f"{''.join(sa)},{''.join(sb)}->{''.join(out)}"


def tensordot_grad(g, k, a, b, axes=2):
    """Adjoint of ``np.tensordot(a, b, axes)`` for operand ``k`` (0 or 1), as an einsum."""
    return einsum_grad(g, k, _tensordot_subscripts(np.ndim(a), np.ndim(b), axes), a, b)


def inner_grad(g, k, a, b):
    """Adjoint of ``np.inner(a, b)``: a contraction over both last axes."""
    na, nb = np.ndim(a), np.ndim(b)
    if na == 0 or nb == 0:
        return tensordot_grad(g, k, a, b, 0)
    return tensordot_grad(g, k, a, b, ([na - 1], [nb - 1]))


def kron_grad(g, k, a, b):
    """Adjoint of ``np.kron(a, b)`` for operand ``k``: ``g`` viewed as blocks, contracted."""
    nd = max(np.ndim(a), np.ndim(b))
    sa = (1,) * (nd - np.ndim(a)) + np.shape(a)
    sb = (1,) * (nd - np.ndim(b)) + np.shape(b)
    blocks = np.reshape(g, [n for pair in zip(sa, sb) for n in pair])
    la, lb = _string.ascii_letters[:nd], _string.ascii_letters[nd:2 * nd]
    spec = "".join(x + y for x, y in zip(la, lb))
    if k == 0:
        r = np.einsum(f"{spec},{lb}->{la}", blocks, conj(np.reshape(b, sb)))
        return np.reshape(r, np.shape(a))
    r = np.einsum(f"{spec},{la}->{lb}", blocks, conj(np.reshape(a, sa)))
    return np.reshape(r, np.shape(b))


# -- linear algebra -------------------------------------------------------------------
def _column(v):
    return v[..., :, None]


def solve_grad(g, a, b, ans, wrt="b"):
    """Adjoint of ``x = np.linalg.solve(a, b)``: ``b`` gets ``solve(a^H, g)``, ``a`` gets
    ``-b_bar x^H``. A 1-D ``b`` is a vector (NumPy 2 semantics)."""
    vector = np.ndim(b) == 1
    gb = np.linalg.solve(mH(a), g)
    if wrt == "b":
        return unbroadcast(gb, b)
    if vector:
        return unbroadcast(-_column(gb) * conj(ans)[..., None, :], a)
    return unbroadcast(-gb @ mH(ans), a)


def det_grad(g, a, ans):
    """Adjoint of ``np.linalg.det``: ``g conj(det a) inv(a)^H`` (needs an invertible ``a``)."""
    return np.expand_dims(g * conj(ans), (-2, -1)) * mH(np.linalg.inv(a))


def _lower_read(full, UPLO="L"):
    """The adjoint of a Hermitian matrix mapped onto the triangle LAPACK reads.

    NumPy's ``eigh``/``cholesky`` read one triangle of their argument (the other
    is implied), so the derivative of what they compute is this one.
    """
    n = full.shape[-1]
    strict = np.tril(np.ones((n, n), dtype=bool), -1) if UPLO == "L" else \
        np.triu(np.ones((n, n), dtype=bool), 1)
    diag = np.eye(n, dtype=bool)
    return np.where(diag, np.real(full), 0) + np.where(strict, full + mH(full), 0)


def _hermitian_from(t, UPLO="L"):
    """The Hermitian matrix LAPACK sees when it reads triangle ``UPLO`` of ``t``."""
    low = np.tril(t, -1) if UPLO == "L" else np.triu(t, 1)
    diag = np.real(np.diagonal(t, 0, -2, -1))
    return low + mH(low) + diag[..., None] * np.eye(t.shape[-1], dtype=diag.dtype)


def _phi(x):
    """Lower triangle with the diagonal halved."""
    n = x.shape[-1]
    return np.tril(x) - np.eye(n, dtype=bool) * (np.diagonal(x, 0, -2, -1)[..., None, :] / 2)


def cholesky_grad(g, ans, upper=False):
    """Adjoint of ``np.linalg.cholesky`` (Murray 2016), mapped onto the triangle NumPy reads."""
    L, gL = (mH(ans), mH(g)) if upper else (ans, g)
    inv_l = np.linalg.inv(L)
    s = mH(inv_l) @ _phi(mH(L) @ gL) @ inv_l
    return _lower_read((s + mH(s)) / 2, "U" if upper else "L")


def cholesky_jvp(t, ans, upper=False):
    """Tangent of ``np.linalg.cholesky``: ``L phi(L^-1 T L^-H)``."""
    L = mH(ans) if upper else ans
    inv_l = np.linalg.inv(L)
    dl = L @ _phi(inv_l @ _hermitian_from(t, "U" if upper else "L") @ mH(inv_l))
    return mH(dl) if upper else dl


def _eig_gaps(w):
    """``F[i, j] = 1 / (w[j] - w[i])`` off the diagonal, 0 on it."""
    gap = w[..., None, :] - w[..., :, None]
    eye = np.eye(w.shape[-1], dtype=bool)
    return np.where(eye, 0, 1 / np.where(eye, 1, gap))


def eigh_grad(g, a, ans, UPLO="L"):
    """Adjoint of ``np.linalg.eigh`` (or ``eigvalsh`` when ``ans`` is the eigenvalues).

    ``V (diag(g_w) + F o (V^H g_V)) V^H`` with ``F`` the inverse eigenvalue gaps;
    the eigenvector term is skipped when the eigenvectors' adjoint is zero, so
    repeated eigenvalues are fine for losses of eigenvalues only.
    """
    if isinstance(ans, np.ndarray):  # eigvalsh
        (w, v), (gw, gv) = np.linalg.eigh(a, UPLO), (g, 0.0)
    else:
        (w, v), (gw, gv) = ans, g
    gw = np.broadcast_to(np.real(gw), w.shape)
    mid = np.eye(w.shape[-1], dtype=bool) * np.expand_dims(gw, -2)
    if np.any(gv):
        mid = mid + _eig_gaps(w) * (mH(v) @ gv)
    return _lower_read(v @ mid @ mH(v), UPLO)


def eigh_jvp(t, a, ans, UPLO="L"):
    """Tangent of ``np.linalg.eigh``: ``(diag(V^H T V), V (F o V^H T V))``."""
    w, v = ans if not isinstance(ans, np.ndarray) else np.linalg.eigh(a, UPLO)
    m = mH(v) @ _hermitian_from(t, UPLO) @ v
    dw = np.real(np.diagonal(m, 0, -2, -1))
    if isinstance(ans, np.ndarray):
        return dw
    return dw, v @ (_eig_gaps(w) * m)


def _entry(g, like):
    """One output's adjoint as an array (``0.0`` for an unused output)."""
    if np.ndim(g) == 0 and g == 0:
        return np.zeros(np.shape(like), dtype=np.result_type(like))
    return np.broadcast_to(g, np.shape(like))


def _copyltu(m):
    low = np.tril(m, -1)
    return low + mH(low) + np.real(np.diagonal(m, 0, -2, -1))[..., None] * np.eye(m.shape[-1],
                                                                                  dtype=bool)


def _qr_tall_grad(q, r, gq, gr):
    m = r @ mH(gr) - mH(gq) @ q
    rhs = gq + q @ _copyltu(m)
    return mH(np.linalg.solve(r, mH(rhs)))


def qr_grad(g, a, ans, mode="reduced"):
    """Adjoint of ``np.linalg.qr`` (reduced, or ``'r'``) for real and complex inputs with a
    full-rank leading block (Liao et al. 2019)."""
    if mode == "r":
        q, r = np.linalg.qr(a)
        gq, gr = 0.0, g
    elif mode == "reduced" or (mode == "complete" and a.shape[-2] <= a.shape[-1]):
        (q, r), (gq, gr) = ans, g
    else:
        raise ValueError(f"adjoint: no derivative for np.linalg.qr with mode={mode!r}")
    gq, gr = _entry(gq, q), _entry(gr, r)
    m, n = a.shape[-2:]
    if m >= n:
        return _qr_tall_grad(q, r, gq, gr)
    y, u, gu, gv = a[..., m:], r[..., :m], gr[..., :m], gr[..., m:]
    gx = _qr_tall_grad(q, u, gq + y @ mH(gv), gu)
    return np.concatenate([gx, q @ gv], axis=-1)


def qr_jvp(t, a, ans, mode="reduced"):
    """Tangent of ``np.linalg.qr``: for a tall block ``dR = (X - C) R``, ``dQ = dA R^-1 - Q (X - C)``
    with ``X = Q^H dA R^-1`` and ``C`` its antisymmetric (anti-Hermitian) lower part."""
    q, r = ans if mode != "r" else np.linalg.qr(a)
    m, n = np.shape(a)[-2:]
    if m < n:
        dq, du = qr_jvp(t[..., :m], a[..., :m], (q, r[..., :m]))
        dv = mH(dq) @ a[..., m:] + mH(q) @ t[..., m:]
        dr = np.concatenate([du, dv], axis=-1)
        return dr if mode == "r" else (dq, dr)
    x = mH(np.linalg.solve(mH(r), mH(mH(q) @ t)))  # Q^H dA R^-1
    low = np.tril(x, -1)
    c = low - mH(low)
    if np.iscomplexobj(x):
        c = c + 1j * np.imag(np.diagonal(x, 0, -2, -1))[..., None] * np.eye(n, dtype=bool)
    dr = (x - c) @ r
    dq = mH(np.linalg.solve(mH(r), mH(t))) - q @ (x - c)
    return dr if mode == "r" else (dq, dr)


def svd_grad(g, a, ans, full_matrices=True, compute_uv=True):
    """Adjoint of ``np.linalg.svd`` (and ``svdvals``).

    Singular values: ``U diag(g_s) V^H`` (any input). Singular vectors (real
    input, distinct nonzero singular values): Townsend's formula, with the
    extra terms for a non-square matrix.
    """
    if not compute_uv or isinstance(ans, np.ndarray):
        (u, s, vh), (gu, gs, gvh) = np.linalg.svd(a, full_matrices=False), (0.0, g, 0.0)
    else:
        (u, s, vh), (gu, gs, gvh) = ans, g
    k = s.shape[-1]
    m, n = np.shape(a)[-2:]
    vectors = np.any(gu) or np.any(gvh)
    if vectors and (np.any(_entry(gu, u)[..., :, k:]) or np.any(_entry(gvh, vh)[..., k:, :])):
        raise ValueError("adjoint: the singular vectors beyond min(m, n) that "
                         "np.linalg.svd(a, full_matrices=True) adds are not unique: no derivative")
    u, vh = u[..., :, :k], vh[..., :k, :]
    out = (u * np.broadcast_to(np.real(gs), s.shape)[..., None, :]) @ vh
    if not vectors:
        return out
    if np.iscomplexobj(a):
        raise ValueError("adjoint: singular vectors of a complex matrix are not differentiated")
    gu, gv = _entry(gu, u)[..., :, :k], mT(_entry(gvh, vh)[..., :k, :])
    v = mT(vh)
    f = _eig_gaps(s ** 2)
    utgu, vtgv = mT(u) @ gu, mT(v) @ gv
    mid = (f * (utgu - mT(utgu))) * s[..., None, :] + s[..., :, None] * (f * (vtgv - mT(vtgv)))
    out = out + u @ mid @ vh
    if m > k:
        out = out + ((gu - u @ utgu) / s[..., None, :]) @ vh
    if n > k:
        out = out + u @ ((mT(gv) - mT(gv) @ v @ vh) / s[..., :, None])
    return out


def svd_jvp(t, a, ans, full_matrices=True, compute_uv=True):
    """Tangent of ``np.linalg.svd`` (singular values; vectors for real input, reduced or square).

    Tangents that do not exist are NaN: the vectors of a complex matrix (each
    pair has a free phase) and the extra ones ``full_matrices`` adds.
    """
    values_only = not compute_uv or isinstance(ans, np.ndarray)
    u_all, s, vh_all = np.linalg.svd(a, full_matrices=False) if values_only else ans
    k = s.shape[-1]
    m, n = np.shape(a)[-2:]
    u, vh = u_all[..., :, :k], vh_all[..., :k, :]
    dp = mH(u) @ t @ mH(vh)
    ds = np.real(np.diagonal(dp, 0, -2, -1))
    if values_only:
        return ds
    if np.iscomplexobj(a):  # each pair of vectors has a free phase: their tangents do not exist
        return np.full(np.shape(u_all), np.nan), ds, np.full(np.shape(vh_all), np.nan)
    f = _eig_gaps(s ** 2)
    ps, sp = dp * s[..., None, :], s[..., :, None] * dp
    v = mT(vh)
    du = u @ (f * (ps + mT(ps)))
    dv = v @ (f * (sp + mT(sp)))
    if m > k:
        du = du + (t @ v - u @ dp) / s[..., None, :]
    if n > k:
        dv = dv + (mT(t) @ u - v @ mT(dp)) / s[..., None, :]
    if full_matrices and m != n:  # the extra vectors are not unique: NaN where they are used
        du = np.concatenate([du, np.full(du.shape[:-1] + (m - k,), np.nan)], axis=-1)
        dv = np.concatenate([dv, np.full(dv.shape[:-1] + (n - k,), np.nan)], axis=-1)
    return du, ds, mT(dv)


def pinv_grad(g, a, ans):
    """Adjoint of ``np.linalg.pinv`` (Golub & Pereyra; constant rank)."""
    x = ans
    eye_m = np.eye(np.shape(a)[-2], dtype=x.dtype)
    eye_n = np.eye(np.shape(a)[-1], dtype=x.dtype)
    return (-mH(x) @ g @ mH(x) + (eye_m - a @ x) @ mH(g) @ x @ mH(x)
            + mH(x) @ x @ mH(g) @ (eye_n - x @ a))


def pinv_jvp(t, a, ans):
    """Tangent of ``np.linalg.pinv`` along ``t``."""
    x = ans
    eye_m = np.eye(np.shape(a)[-2], dtype=x.dtype)
    eye_n = np.eye(np.shape(a)[-1], dtype=x.dtype)
    return (-x @ t @ x + x @ mH(x) @ mH(t) @ (eye_m - a @ x)
            + (eye_n - x @ a) @ mH(t) @ mH(x) @ x)


def lstsq_grad(g, a, b, ans, wrt="a"):
    """Adjoint of ``np.linalg.lstsq`` (real input): the solution ``x = pinv(a) b``, the
    residuals ``|b - a x|^2`` and the singular values of ``a``."""
    x, res, _, s = ans
    gx, gres, gs = _entry(g[0], x), g[1], g[3]
    r = b - a @ x
    if wrt == "b":
        out = mH(np.linalg.pinv(a)) @ gx
        return out + 2 * r * gres if np.any(gres) else out
    vector = np.ndim(b) == 1
    gp = _column(gx) * conj(b)[None, :] if vector else gx @ mH(b)
    out = pinv_grad(gp, a, np.linalg.pinv(a))
    if np.any(gres):
        out = out - 2 * (_column(r * gres) * x[None, :] if vector else (r * gres) @ mT(x))
    if np.any(gs):
        out = out + svd_grad(gs, a, s)
    return out


def lstsq_jvp(ta, tb, a, b, ans):
    """Tangent of ``np.linalg.lstsq``'s solution, residuals and singular values (real input)."""
    x, res, rank, s = ans
    p = np.linalg.pinv(a)
    if ta is not None:
        dx, dr, ds = pinv_jvp(ta, a, p) @ b, -ta @ x, svd_jvp(ta, a, s)
    else:
        dx, dr, ds = p @ tb, tb, 0 * s
    r = b - a @ x
    dres = 2 * np.sum(r * dr, axis=0) * np.ones_like(res) if np.size(res) else 0 * res
    return AdjointList([dx, dres, 0, ds])  # the tangents along a and along b add item by item


def matrix_power_grad(g, a, n):
    """Adjoint of ``np.linalg.matrix_power(a, n)``: ``sum_k (a^H)^k g (a^H)^(n-1-k)``."""
    if n < 0:
        inv = np.linalg.inv(a)
        return -mH(inv) @ matrix_power_grad(g, inv, -n) @ mH(inv)
    powers = [np.broadcast_to(np.eye(np.shape(a)[-1], dtype=np.result_type(a)), np.shape(a))]
    for _ in range(n - 1):
        powers.append(powers[-1] @ mH(a))
    out = np.zeros(np.shape(a), dtype=np.result_type(g, a))
    for k in range(n):
        out = out + powers[k] @ g @ powers[n - 1 - k]
    return out


def matrix_power_jvp(t, a, n):
    """Tangent of ``np.linalg.matrix_power(a, n)`` along ``t``."""
    if n < 0:
        inv = np.linalg.inv(a)
        return matrix_power_jvp(-inv @ t @ inv, inv, -n)
    out = np.zeros(np.broadcast_shapes(np.shape(a), np.shape(t)), dtype=np.result_type(a, t))
    for k in range(n):
        out = out + np.linalg.matrix_power(a, k) @ t @ np.linalg.matrix_power(a, n - 1 - k)
    return out


# =============================================================================
# Helpers for calls that change an array in place, lowered by normalisation
# into a pure call and a whole-array write (issue 10), and for array builders
# whose values follow their arguments (``full``, ``linspace``, ``arange``).
# =============================================================================
__all__ += [
    "integer_cut", "scatter_add", "put_into", "put_grad", "linspace_grad", "linspace_jvp",
    "arange_partial", "as_column", "keys_of",
]


def integer_cut(g, ans):
    """``g``, or zeros where the result ``ans`` is integer or boolean: rounding to integers has
    derivative zero almost everywhere, so no derivative passes through such a cast."""
    if isinstance(ans, (np.ndarray, np.generic, bool, int)) and \
            np.result_type(ans).kind in "biu":
        return np.zeros(np.shape(g))
    return g


def scatter_add(a, index, v):
    """A copy of ``a`` with ``v`` added at ``index``, repeated indices adding up:
    ``np.add.at(a, index, v)`` as a pure function."""
    out = np.array(a, copy=True)
    np.add.at(out, index, v)
    return out


def put_into(a, ind, v, mode="raise"):
    """A copy of ``a`` after ``np.put(a, ind, v, mode)``: ``np.put`` as a pure function."""
    out = np.array(a, copy=True)
    np.put(out, ind, v, mode)
    return out


def put_grad(g, a, ind, v, mode="raise", wrt="a"):
    """Adjoint of ``put_into``. Each flat position keeps the last value put there (np.put
    writes in order) and ``v`` repeats when shorter than ``ind``; ``a`` keeps what nobody
    overwrote."""
    owner = np.full(np.size(a), -1)
    np.put(owner, ind, np.arange(np.size(ind)), mode)
    written = owner >= 0
    g = np.asarray(g)
    if wrt == "a":
        return np.where(np.reshape(written, np.shape(a)), 0, g)
    out = np.zeros(np.size(v), dtype=np.result_type(g))
    np.add.at(out, owner[written] % max(np.size(v), 1), np.ravel(g)[written])
    return np.reshape(out, np.shape(v))


def _linspace_weights(num, endpoint, axis, ndim, dtype):
    """The weight of ``stop`` in each sample of ``np.linspace``, shaped to broadcast along ``axis``."""
    div = num - 1 if endpoint else num
    w = np.arange(num) / max(div, 1)
    if np.result_type(dtype).kind in "fc":
        w = w.astype(dtype)  # float32 samples keep float32 adjoints
    shape = [1] * ndim
    shape[axis] = num
    return np.reshape(w, shape), div


def linspace_grad(g, start, stop, num=50, endpoint=True, retstep=False, dtype=None, axis=0,
                  wrt=0):
    """Adjoint of ``np.linspace`` in ``start`` (``wrt=0``) or ``stop`` (1): each sample is
    ``start + (stop - start) * w`` and the step ``(stop - start) / div``."""
    x = stop if wrt else start
    if retstep:
        g, g_step = g
    if dtype is not None and np.dtype(dtype).kind in "biu":
        return np.zeros(np.shape(x))
    g = np.asarray(g)
    if g.ndim:
        w, div = _linspace_weights(num, endpoint, axis % g.ndim, g.ndim, g.dtype)
        total = np.sum(g * (w if wrt else 1 - w), axis=axis)
    else:
        total, div = 0.0, max(num - 1 if endpoint else num, 1)
    if retstep and div > 0:
        total = total + g_step * ((1.0 if wrt else -1.0) / div)
    return unbroadcast(total, x)


def linspace_jvp(t_start, t_stop, start, stop, num=50, endpoint=True, retstep=False, dtype=None,
                 axis=0):
    """Tangent of ``np.linspace`` along ``t_start`` and ``t_stop``: linspace is linear in the pair
    of ends, so the tangent is the linspace between the tangents (shaped like the samples)."""
    zero = np.zeros(np.broadcast_shapes(np.shape(start), np.shape(stop)))
    out = np.linspace(zero + t_start, zero + t_stop, num=num, endpoint=endpoint, retstep=retstep,
                      axis=axis)
    if dtype is not None and np.dtype(dtype).kind in "biu":
        return (0 * out[0], 0 * out[1]) if retstep else 0 * out
    return out


def arange_partial(ans, start, stop=None, which="start"):
    """The partial of ``np.arange``'s samples ``start + k * step`` in ``start`` or ``step``
    (``stop`` only sets how many there are); zero for the one-argument form ``arange(stop)``
    and for integer results."""
    if np.result_type(ans).kind in "biu" or stop is None:
        return np.zeros(np.shape(ans))
    return np.ones(np.shape(ans)) if which == "start" else np.arange(np.size(ans), dtype=float)


def as_column(x):
    """``x`` as ``np.c_`` sees it: a number becomes a 1x1 array, a vector a column."""
    return np.reshape(x, np.shape(x) + (1,) * (2 - np.ndim(x))) if np.ndim(x) < 2 else x


def keys_of(d):
    """The keys of dict ``d`` in order, for loops over ``d.items()`` and ``d.values()``."""
    return list(d)


# =============================================================================
# Comprehensions and iteration (issue 11): what passes/comprehensions.py lowers
# dict comprehensions, dict(...) and sorted(...) to, and their adjoints.
# =============================================================================
__all__ += ["dict_from", "dict_from_grad", "sort_order", "items_of", "items_of_grad"]


def dict_from(keys, values):
    """``{k: v for k, v in zip(keys, values)}``: a later key wins, in first-seen order."""
    return dict(zip(keys, values))


def dict_from_grad(g, keys, values):
    """Adjoint of ``dict_from`` for ``values``: each value gets its key's adjoint, unless a
    later value with the same key replaced it (that one's item stays zero)."""
    last = {k: i for i, k in enumerate(keys)}
    return AdjointList(g[k] if last[k] == i and k in g else zeros_like(v)
                       for i, (k, v) in enumerate(zip(keys, values)))


def sort_order(keys, reverse=False):
    """The positions of ``keys`` in the order ``sorted(keys, reverse=reverse)`` gives (stable)."""
    return sorted(range(len(keys)), key=keys.__getitem__, reverse=reverse)


def items_of(x):
    """What iterating ``x`` gives, indexable: ``x`` itself when it is a sequence or an array,
    else ``list(x)`` (a dict's keys, a set's members, an iterator's items)."""
    if isinstance(x, (list, tuple, np.ndarray, range, str)):
        return x
    return list(x)


def items_of_grad(g, x):
    """Adjoint of ``items_of``: ``g`` itself for a sequence or array; zero for a dict (its keys
    carry no derivative). Other iterables are never active: nothing differentiable makes them."""
    if isinstance(x, dict):
        return zeros_like(x)
    if isinstance(x, np.ndarray) and not isinstance(g, np.ndarray):
        return np.reshape(np.array(list(g), dtype=_float_dtype(x.dtype)), x.shape)
    return g
