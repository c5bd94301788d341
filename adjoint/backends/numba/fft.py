"""Numba twins of ``adjoint/runtime/fft.py``.

Numba compiles ``np.fft`` only with an extension (rocket-fft); where one is
installed, these let the adjoints of the transforms compile too.
"""
from __future__ import annotations

import numpy as np
from numba import types

from ... import runtime
from .kinds import array, complex_number, generated, none, real_array, twin


@twin(runtime.fit_like)
def _fit_like(x, like):
    """``x`` cut or zero-padded at the end of each axis to ``like``'s shape; real when ``like`` is."""
    if not (array(x) and array(like) and x.ndim == like.ndim):
        return None
    value = "np.real(x)" if complex_number(x.dtype) and real_array(like) else "x"
    corner = ", ".join(f":n[{d}]" for d in range(x.ndim))
    return generated(["def impl(x, like):",
                      f"    v = {value}",
                      "    out = np.zeros(like.shape, v.dtype)",
                      "    n = np.minimum(np.array(v.shape), np.array(like.shape))",
                      f"    out[{corner}] = v[{corner}]", "    return out"], {"np": np})


@twin(runtime.dual_norm)
def _dual_norm(norm):
    """The normalisation of the adjoint transform, so that only ``np.fft`` itself (compiled with
    rocket-fft, refused without) decides whether a transform's gradient compiles."""
    if none(norm):
        return lambda norm: "forward"
    if isinstance(types.unliteral(norm), types.UnicodeType):
        def impl(norm):
            if norm == "ortho":
                return "ortho"
            if norm == "forward":
                return "backward"
            if norm == "backward":
                return "forward"
            raise KeyError("norm must be None, 'backward', 'forward' or 'ortho'")
        return impl
