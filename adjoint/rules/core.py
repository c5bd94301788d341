"""Structural rules the core compiler needs, and functions that carry no derivative.

Elementwise rules (operators, ufuncs, ``math``) live in ``ufuncs.py``; the other
modules imported by ``__init__`` cover reductions, shapes, linalg and built-ins.
Subgradient choices follow the NumPy-based peers: ``max``/``min`` reductions
share ``g`` equally among tied entries.
"""
import builtins
import operator

import numpy as np

from .registry import inactive, structural

# -- reductions --------------------------------------------------------------
structural(np.sum, "a, axis=None, dtype=None, out=None, keepdims=False",
           a="unreduce(g, a, axis, keepdims)", jvp="linear")
structural(np.mean, "a, axis=None, dtype=None, out=None, keepdims=False",
           a="unreduce(g / count(a, axis), a, axis, keepdims)", jvp="linear")
structural([np.max, np.amax, np.min, np.amin], "a, axis=None, out=None, keepdims=False",
           a="extremum_grad(g, a, ans, axis, keepdims)", notes="ties share g equally",
           jvp={"a": "extremum_jvp(t, a, ans, axis, keepdims)"})

# -- linear algebra and shapes -------------------------------------------------
structural(np.dot, "a, b", a="dot_grad_a(g, a, b)", b="dot_grad_b(g, a, b)", jvp="linear")
structural([operator.matmul, np.matmul], "a, b", a="matmul_grad_a(g, a, b)",
           b="matmul_grad_b(g, a, b)", jvp="linear")
structural(np.transpose, "a, axes=None", a="transpose_grad(g, axes)", jvp="linear")
structural(np.reshape, "a, shape=None, order='C'", a="np.reshape(g, np.shape(a))",
           jvp="linear")
structural([np.ravel, np.squeeze, np.expand_dims], "a, axis=None", a="np.reshape(g, np.shape(a))",
           jvp="linear")
structural([np.copy, np.asarray, np.array], "a, dtype=None", a="unstack_like(g, a)", jvp="linear")
structural(builtins.float, "x=0.0", x="g", jvp="linear")

# -- no derivative -------------------------------------------------------------
inactive([builtins.len, builtins.range, builtins.int, builtins.bool, builtins.isinstance,
          builtins.print, np.shape, np.ndim, np.size,
          np.argmax, np.argmin, np.argsort, np.zeros, np.ones, np.empty, np.zeros_like,
          np.ones_like, np.empty_like, np.eye,
          np.identity, np.isnan, np.isinf, np.isfinite, np.any, np.all, np.nonzero,
          np.logical_and, np.logical_or, np.logical_not, np.array_equal, np.allclose])

from .. import runtime  # noqa: E402

structural(runtime.astype, "x, dtype", x="astype(g, np.result_type(x))", name="ndarray.astype",
           jvp="linear")
