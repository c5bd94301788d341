"""Helpers of the ``scipy.signal`` rules (``rules/signal.py``); nothing here imports SciPy.

A convolution in mode ``same`` or ``valid`` is a window of the ``full`` one;
these helpers move between the two, so every adjoint is a full-size correlation.
"""
from __future__ import annotations

import numpy as np

__all__ = ["embed_full", "crop_mode"]


def _window(in1, in2, mode):
    """The slices of the full convolution of ``in1`` and ``in2`` that ``mode`` returns."""
    out = []
    for n1, n2 in zip(np.shape(in1), np.shape(in2)):
        if mode == "full":
            start, size = 0, n1 + n2 - 1
        elif mode == "same":
            start, size = (n2 - 1) // 2, n1
        else:  # valid
            start, size = min(n1, n2) - 1, abs(n1 - n2) + 1
        out.append(slice(start, start + size))
    return tuple(out)


def embed_full(cot, in1, in2, mode="full"):
    """``cot``, the adjoint of a ``mode`` convolution, placed in zeros of the full size."""
    shape = tuple(n1 + n2 - 1 for n1, n2 in zip(np.shape(in1), np.shape(in2)))
    full = np.zeros(shape, dtype=np.result_type(cot, in1, in2))
    full[_window(in1, in2, mode)] = cot
    return full


def crop_mode(full, in1, in2, mode="full"):
    """The part of a full convolution of ``in1`` and ``in2`` that ``mode`` returns."""
    return full[_window(in1, in2, mode)]
