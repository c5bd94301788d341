"""Numba twins of ``adjoint/runtime/linalg.py``, for real matrices (rank 2)."""
from __future__ import annotations

import numpy as np

from ... import runtime
from .kinds import array, number, real_array, twin


def matrix(t):
    return real_array(t) and t.ndim == 2


@twin(runtime.det_grad)
def _det_grad(g, a, ans):
    """``g det(a) inv(a)^T`` for one real matrix."""
    if number(g) and matrix(a) and number(ans):
        return lambda g, a, ans: (g * ans) * np.linalg.inv(a).T


@twin(runtime.solve_grad)
def _solve_grad(g, a, b, ans, wrt="b"):
    """``b`` gets ``solve(a^T, g)``, ``a`` gets ``-b_bar x^T``, for a vector or a matrix ``b``.
    ``wrt`` must be known when Numba types the call (the generated code names it)."""
    which = getattr(wrt, "literal_value", None)
    if not (matrix(a) and real_array(b) and b.ndim <= 2 and array(g) and g.ndim == b.ndim):
        return None
    if which == "b":
        return lambda g, a, b, ans, wrt="b": np.linalg.solve(np.ascontiguousarray(a.T), g)
    if which == "a" and b.ndim == 1:
        return lambda g, a, b, ans, wrt="b": -np.outer(np.linalg.solve(np.ascontiguousarray(a.T), g), ans)
    if which == "a":
        return lambda g, a, b, ans, wrt="b": -np.dot(np.linalg.solve(np.ascontiguousarray(a.T), g),
                                                     np.ascontiguousarray(ans.T))
