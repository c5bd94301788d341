"""Helpers of the discrete Fourier transform rules (``rules/fft.py``).

The transforms are linear, so their adjoints are transforms too: the adjoint
of ``fft`` with a normalisation is ``ifft`` with the dual one (``dual_norm``),
the zero-padding or cutting that ``n=``/``s=`` ask for is undone by
``fit_like``, and the real transforms weigh the bins of a half spectrum by the
number of entries of the full spectrum each stands for (``pair_weights``).
"""
from __future__ import annotations

import numpy as np

__all__ = ["fit_like", "dual_norm", "fft_axes", "fft_shape", "pair_weights"]

_DUAL = {None: "forward", "backward": "forward", "forward": "backward", "ortho": "ortho"}


def fit_like(x, like):
    """``x`` cut or zero-padded at the end of each axis to ``like``'s shape; real when ``like`` is.

    Undoes the padding or cutting of ``n=``/``s=``. It is its own adjoint:
    ``fit_like(g, x)`` gives the adjoint of ``x``.
    """
    x = np.asarray(x)
    if np.iscomplexobj(x) and not np.iscomplexobj(like):
        x = np.real(x)
    shape = np.shape(like)
    if x.shape == shape:
        return x
    x = x[tuple(slice(0, n) for n in shape)]
    return np.pad(x, [(0, n - m) for n, m in zip(shape, x.shape)])


def dual_norm(norm):
    """The normalisation whose transform is the adjoint of one with ``norm``: the scale
    ``1/n`` moves between the forward and the inverse transform, ``ortho`` stays."""
    return _DUAL[norm]


def fft_axes(a, s, axes):
    """The axes an n-dimensional transform of ``a`` runs along: ``axes``, else the last
    ``len(s)`` axes when ``s`` is given, else every axis."""
    if axes is not None:
        return list(axes)
    return list(range(np.ndim(a) - (np.ndim(a) if s is None else len(s)), np.ndim(a)))


def fft_shape(a, s, axes):
    """The transform's lengths: ``s`` when given, else ``a``'s lengths along ``axes`` (a
    number for one axis, as ``n=`` and ``axis=`` are; a list for ``fft_axes``)."""
    if s is not None:
        return s
    if np.ndim(axes) == 0:
        return np.shape(a)[axes]
    return [np.shape(a)[i] for i in axes]


def pair_weights(x, n, axis):
    """Along ``axis`` of ``x`` (a half spectrum of a real signal of length ``n``), how many
    bins of the full spectrum each bin stands for: 1 for the constant bin and, for even
    ``n``, the Nyquist bin; 2 for the others, whose conjugate mirror is left out.

    ``n`` and ``axis`` may be the lists of an n-dimensional transform, whose real axis
    is the last.
    """
    n, axis = (n, axis) if np.ndim(axis) == 0 else (n[-1], axis[-1])
    w = np.full(n // 2 + 1, 2.0)
    w[0] = 1.0
    if n % 2 == 0:
        w[-1] = 1.0
    shape = [1] * np.ndim(x)
    shape[axis] = w.size
    return np.reshape(w, shape).astype(np.finfo(np.result_type(np.asarray(x), np.float32)).dtype)
