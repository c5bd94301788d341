"""Helpers of the ``scipy.stats`` rules (``rules/stats.py``); nothing here imports SciPy."""
from __future__ import annotations

import numpy as np

__all__ = ["lower_part", "from_lower"]


def lower_part(full):
    """The adjoint ``full`` of a real symmetric matrix, on the lower triangle it is read from:
    each strict entry gets its own share and its mirror's, the upper triangle nothing."""
    full = np.asarray(full)
    strict = np.tril(full, -1) + np.tril(np.swapaxes(full, -1, -2), -1)
    return strict + _diagonal_matrix(full)


def from_lower(t):
    """The symmetric matrix whose lower triangle is that of ``t`` (the upper one is ignored)."""
    t = np.asarray(t)
    low = np.tril(t, -1)
    return low + np.swapaxes(low, -1, -2) + _diagonal_matrix(t)


def _diagonal_matrix(m):
    """The diagonal of ``m`` (of every matrix in a stack) as a diagonal matrix."""
    return np.diagonal(m, 0, -2, -1)[..., None] * np.eye(m.shape[-1], dtype=bool)
