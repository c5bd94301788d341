"""Helpers of the ``scipy.special`` rules (``rules/special.py``).

SciPy is optional: nothing here imports it. The rules call SciPy's functions
by their full names (``scipy.special.digamma``), which the generated module
imports itself.
"""
from __future__ import annotations

import numpy as np

from .core import AdjointList, zeros_like

__all__ = ["none_to_one", "lse_value", "lse_sign", "lse_pack"]


def none_to_one(x):
    """``x``, or 1.0 for None: ``logsumexp``'s weights ``b`` default to one."""
    return 1.0 if x is None else x


def lse_value(v, return_sign):
    """The value part of ``logsumexp``'s result or adjoint: ``v[0]`` when it returned
    ``(value, sign)``, else ``v`` itself."""
    return v[0] if return_sign else v


def lse_sign(ans, return_sign):
    """The sign of the sum ``logsumexp`` took the log of (ones unless it returned it), shaped
    like the value; taken again with ``np.sign``, so that its derivative is zero whatever
    it is given."""
    return np.sign(ans[1]) if return_sign else np.ones_like(ans)


def lse_pack(t, like, return_sign):
    """A tangent (or adjoint) ``t`` of ``logsumexp``'s value, shaped like its result: with
    ``return_sign`` the pair ``(t, 0)``, the sign being constant."""
    return AdjointList([t, zeros_like(like[1])]) if return_sign else t
