"""Helpers for calls that change an array in place, lowered by normalisation
into a pure call and a whole-array write, and for array builders whose values
follow their arguments (``full``, ``linspace``, ``arange``).
"""
from __future__ import annotations

import numpy as np

from .core import unbroadcast

__all__ = [
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
