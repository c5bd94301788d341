"""Rules for Python's operators and the NumPy a loss function uses most.

Subgradient choices at kinks follow the NumPy-based peers: ``abs`` has
derivative 0 at 0 (``sign``), ``maximum``/``minimum`` split ``g`` equally
between tied arguments, ``max``/``min`` reductions share ``g`` equally among
tied entries.
"""
import builtins
import math
import operator

import numpy as np

from .registry import elementwise, inactive, structural, zero

# -- arithmetic ------------------------------------------------------------
elementwise([operator.add, np.add], "x, y", x="g", y="g")
elementwise([operator.sub, np.subtract], "x, y", x="g", y="-g")
elementwise([operator.mul, np.multiply], "x, y", x="g * y", y="g * x")
elementwise([operator.truediv, np.divide, np.true_divide], "x, y", x="g / y", y="-g * ans / y")
elementwise([operator.neg, np.negative], "x", x="-g")
elementwise([operator.pos, np.positive], "x", x="g")
elementwise([operator.pow, np.power, builtins.pow, math.pow], "x, y",
            x="g * y * x ** (y - 1)", y="g * ans * np.log(x)",
            notes="the y-partial needs x > 0")
elementwise(np.square, "x", x="2 * g * x")
elementwise([np.sqrt, math.sqrt], "x", x="g / (2 * ans)", notes="infinite at 0")
elementwise(np.cbrt, "x", x="g / (3 * ans ** 2)")
elementwise(np.reciprocal, "x", x="-g * ans ** 2")

# -- exponentials and logarithms -------------------------------------------
elementwise([np.exp, math.exp], "x", x="g * ans")
elementwise([np.log, math.log], "x", x="g / x")
elementwise(np.expm1, "x", x="g * (ans + 1)")
elementwise([np.log1p, math.log1p], "x", x="g / (1 + x)")
elementwise([np.exp2, ], "x", x="g * ans * np.log(2)")
elementwise([np.log2, math.log2], "x", x="g / (x * np.log(2))")
elementwise([np.log10, math.log10], "x", x="g / (x * np.log(10))")

# -- trigonometric and hyperbolic --------------------------------------------
elementwise([np.sin, math.sin], "x", x="g * np.cos(x)")
elementwise([np.cos, math.cos], "x", x="-g * np.sin(x)")
elementwise([np.tan, math.tan], "x", x="g * (1 + ans ** 2)")
elementwise([np.tanh, math.tanh], "x", x="g * (1 - ans ** 2)")
elementwise([np.sinh, math.sinh], "x", x="g * np.cosh(x)")
elementwise([np.cosh, math.cosh], "x", x="g * np.sinh(x)")

# -- piecewise ---------------------------------------------------------------
elementwise([np.abs, np.absolute, builtins.abs], "x", x="g * np.sign(x)", notes="0 at x = 0")
elementwise([np.maximum, np.fmax], "x, y", x="g * ((x > y) + 0.5 * (x == y))",
            y="g * ((y > x) + 0.5 * (x == y))", notes="ties split g equally")
elementwise([np.minimum, np.fmin], "x, y", x="g * ((x < y) + 0.5 * (x == y))",
            y="g * ((y < x) + 0.5 * (x == y))", notes="ties split g equally")
elementwise(np.where, "condition, x, y", x="np.where(condition, g, 0)",
            y="np.where(condition, 0, g)")
zero([np.sign, np.floor, np.ceil, np.round, np.rint, np.trunc, np.heaviside, math.floor,
      math.ceil, builtins.round, operator.floordiv, operator.mod, np.floor_divide])

# -- reductions --------------------------------------------------------------
structural(np.sum, "a, axis=None, dtype=None, out=None, keepdims=False",
           a="unreduce(g, a, axis, keepdims)")
structural(np.mean, "a, axis=None, dtype=None, out=None, keepdims=False",
           a="unreduce(g, a, axis, keepdims) / count(a, axis)")
structural([np.max, np.amax, np.min, np.amin], "a, axis=None, out=None, keepdims=False",
           a="extremum_grad(g, a, ans, axis, keepdims)", notes="ties share g equally")

# -- linear algebra and shapes -------------------------------------------------
structural(np.dot, "a, b", a="dot_grad_a(g, a, b)", b="dot_grad_b(g, a, b)")
structural([operator.matmul, np.matmul], "a, b", a="matmul_grad_a(g, a, b)",
           b="matmul_grad_b(g, a, b)")
structural(np.transpose, "a, axes=None", a="transpose_grad(g, axes)")
structural(np.reshape, "a, shape=None, order='C'", a="np.reshape(g, np.shape(a))")
structural([np.ravel, np.squeeze, np.expand_dims], "a, axis=None", a="np.reshape(g, np.shape(a))")
structural([np.copy, np.asarray, np.array], "a, dtype=None", a="unstack_like(g, a)")
structural(builtins.float, "x=0.0", x="g")

# -- no derivative -------------------------------------------------------------
inactive([builtins.len, builtins.range, builtins.int, builtins.bool, builtins.isinstance,
          builtins.print, np.shape, np.ndim, np.size,
          np.argmax, np.argmin, np.argsort, np.zeros, np.ones, np.empty, np.zeros_like,
          np.ones_like, np.empty_like, np.full, np.full_like, np.arange, np.linspace, np.eye,
          np.identity, np.isnan, np.isinf, np.isfinite, np.any, np.all, np.nonzero,
          np.logical_and, np.logical_or, np.logical_not, np.array_equal, np.allclose])

from .. import runtime  # noqa: E402

structural(runtime.astype, "x, dtype", x="astype(g, np.result_type(x))", name="ndarray.astype")
