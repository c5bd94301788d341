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
    "unbroadcast", "unreduce", "zeros_like", "add_at", "grad_like", "unit_seed", "snapshot",
    "astype", "extremum_grad", "dot_grad_a", "dot_grad_b", "matmul_grad_a", "matmul_grad_b",
    "transpose_grad", "count", "unstack_like", "writable_copy", "AdjointList", "AdjointDict",
]


def unbroadcast(g, x):
    """Sum ``g`` over the axes along which ``x`` was broadcast, giving ``x``'s shape."""
    shape = np.shape(x)
    gshape = np.shape(g)
    if gshape == shape:
        return g
    if len(gshape) > len(shape):
        g = np.sum(g, axis=tuple(range(len(gshape) - len(shape))))
    axes = tuple(i for i, n in enumerate(shape) if n == 1 and np.shape(g)[i] != 1)
    if axes:
        g = np.sum(g, axis=axes, keepdims=True)
    if np.shape(g) != shape:
        g = np.broadcast_to(g, shape)
    return g


def unreduce(g, x, axis=None, keepdims=False):
    """Spread the adjoint of a reduction of ``x`` over ``axis`` back to ``x``'s shape."""
    shape = np.shape(x)
    if axis is not None and not keepdims:
        axes = (axis,) if np.ndim(axis) == 0 else tuple(axis)
        g = np.expand_dims(g, tuple(a % len(shape) for a in axes))
    return np.broadcast_to(g, shape)


def count(x, axis=None):
    """How many elements a reduction over ``axis`` combines."""
    shape = np.shape(x)
    if axis is None:
        return int(np.prod(shape, dtype=np.int64))
    axes = (axis,) if np.ndim(axis) == 0 else tuple(axis)
    return int(np.prod([shape[a] for a in axes], dtype=np.int64))


def extremum_grad(g, x, ans, axis=None, keepdims=False):
    """Adjoint of max/min: ``g`` shared equally among the entries that attain the extremum."""
    g = unreduce(g, x, axis, keepdims)
    hit = np.asarray(x) == unreduce(ans, x, axis, keepdims)
    ties = np.sum(hit, axis=axis, keepdims=True)
    return g * hit / ties


def dot_grad_a(g, a, b):
    """Adjoint of ``np.dot(a, b)`` with respect to ``a``."""
    a_nd, b_nd = np.ndim(a), np.ndim(b)
    if a_nd == 0 or b_nd == 0:
        return unbroadcast(g * np.conj(b), a)
    if b_nd == 1:
        return np.multiply.outer(g, np.conj(b)) if a_nd > 1 else g * np.conj(b)
    if a_nd == 1:
        return np.tensordot(np.conj(b), g, axes=(list(range(1, b_nd)) if b_nd > 1 else [1],
                                                  list(range(g.ndim)))) if b_nd > 2 else np.dot(np.conj(b), g)
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
    a2 = a if np.ndim(a) > 1 else np.reshape(a, (1, -1))
    b2 = b if np.ndim(b) > 1 else np.reshape(b, (-1, 1))
    g2 = np.reshape(g, np.shape(a2 @ b2))
    return unbroadcast(g2 @ np.conj(np.swapaxes(b2, -1, -2)), a2).reshape(np.shape(a))


def matmul_grad_b(g, a, b):
    """Adjoint of ``a @ b`` with respect to ``b``."""
    a2 = a if np.ndim(a) > 1 else np.reshape(a, (1, -1))
    b2 = b if np.ndim(b) > 1 else np.reshape(b, (-1, 1))
    g2 = np.reshape(g, np.shape(a2 @ b2))
    return unbroadcast(np.conj(np.swapaxes(a2, -1, -2)) @ g2, b2).reshape(np.shape(b))


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


def snapshot(v):
    """A copy of ``v`` that later in-place writes cannot change."""
    return v.copy() if isinstance(v, np.ndarray) else v


def writable_copy(x):
    """A private copy of an argument the function writes into, so the caller's data never changes."""
    if isinstance(x, np.ndarray):
        return x.copy()
    if isinstance(x, (list, dict)):
        return type(x)(x)
    return np.array(x)


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
        dtype = _float_dtype(x.dtype)
        if np.shape(x_bar) != x.shape:
            x_bar = np.broadcast_to(x_bar, x.shape)
        out = np.asarray(x_bar, dtype=dtype)
        return out.copy() if not out.flags.writeable or not out.flags.owndata else out
    if isinstance(x, np.generic):
        return np.asarray(x_bar, dtype=_float_dtype(x.dtype))[()]
    if isinstance(x, complex) or np.iscomplexobj(x_bar):
        return complex(x_bar)
    return float(x_bar)


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
