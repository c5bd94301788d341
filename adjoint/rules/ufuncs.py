"""Elementwise rules: the partial derivatives of NumPy's ufuncs and of ``math``.

Each template is ``g`` times the partial, and the framework reduces it to the
argument's shape (``unbroadcast``). For complex inputs the partial of a
holomorphic function is conjugated, ``g * conj(d)`` (``conj`` leaves real
values and their dtype alone): adjoint follows PyTorch's convention that the
gradient of a real loss L with respect to ``z = x + iy`` is ``dL/dx + i dL/dy``.
Forward mode reads the same templates with ``g`` replaced by the tangent; for
complex tangents it must drop that outer ``conj``. Functions that are not
holomorphic (``abs``, ``angle``, ``imag``) give their tangent as ``jvp``.
``abs``'s partial is written ``x / |x|`` rather than ``sign(x)``: ``sign`` is
a ``zero`` rule, right for real ``x`` only, and second derivatives (``hvp``)
differentiate this partial again.

Constants are Python floats (``LN2``, ``np.pi``) so that float32 stays float32.

Subgradients at kinks, as in JAX/autograd: ``abs`` and ``sign``-like functions
have derivative 0 at 0; ``maximum``/``minimum``/``clip`` split ``g`` equally
between tied arguments (``clip(x, lo, hi)`` is ``minimum(maximum(x, lo), hi)``).
"""
import builtins
import math
import operator

import numpy as np

from .registry import elementwise, zero

# -- arithmetic ------------------------------------------------------------------------
elementwise([operator.add, np.add], "x, y", x="g", y="g")
elementwise([operator.sub, np.subtract], "x, y", x="g", y="-g")
elementwise([operator.mul, np.multiply], "x, y", x="g * conj(y)", y="g * conj(x)")
elementwise([operator.truediv, np.divide, np.true_divide], "x, y", x="g / conj(y)",
            y="-g * conj(ans / y)")
elementwise([operator.neg, np.negative], "x", x="-g")
elementwise([operator.pos, np.positive], "x", x="g")
elementwise([operator.pow, np.power, np.float_power, builtins.pow, math.pow], "x, y",
            x="g * conj(y * x ** (y - 1))", y="g * conj(ans * safe_log(x))",
            notes="y-partial is 0 where x = 0 and needs x > 0 elsewhere")
elementwise([operator.mod, np.remainder], "x, y", x="g", y="-g * np.floor_divide(x, y)",
            notes="jumps where x/y is an integer")
elementwise([np.fmod, math.fmod], "x, y", x="g", y="-g * np.trunc(x / y)",
            notes="jumps where x/y is an integer")
elementwise(np.square, "x", x="g * conj(2 * x)")
elementwise([np.sqrt, math.sqrt], "x", x="g / conj(2 * ans)", notes="infinite at 0")
elementwise(np.cbrt, "x", x="g / (3 * ans ** 2)", notes="infinite at 0")
elementwise(np.reciprocal, "x", x="-g * conj(ans ** 2)")

# -- exponentials and logarithms ---------------------------------------------------------
elementwise([np.exp, math.exp], "x", x="g * conj(ans)")
elementwise(np.exp2, "x", x="g * conj(ans) * LN2")
elementwise([np.expm1, math.expm1], "x", x="g * conj(ans + 1)")
elementwise(np.log, "x", x="g / conj(x)")
elementwise(math.log, "x, base=None", x="g / (x * log_base(base))", notes="optional base")
elementwise([np.log2, math.log2], "x", x="g / (conj(x) * LN2)")
elementwise([np.log10, math.log10], "x", x="g / (conj(x) * LN10)")
elementwise([np.log1p, math.log1p], "x", x="g / conj(1 + x)")
elementwise(np.logaddexp, "x, y", x="g * np.exp(x - ans)", y="g * np.exp(y - ans)")
elementwise(np.logaddexp2, "x, y", x="g * np.exp2(x - ans)", y="g * np.exp2(y - ans)")
elementwise([math.erf], "x", x="g * 2 * np.pi ** -0.5 * np.exp(-x ** 2)")
elementwise([math.erfc], "x", x="-g * 2 * np.pi ** -0.5 * np.exp(-x ** 2)")

# -- trigonometric and hyperbolic ----------------------------------------------------------
elementwise([np.sin, math.sin], "x", x="g * conj(np.cos(x))")
elementwise([np.cos, math.cos], "x", x="-g * conj(np.sin(x))")
elementwise([np.tan, math.tan], "x", x="g * conj(1 + ans ** 2)")
elementwise([np.arcsin, math.asin], "x", x="g / conj(np.sqrt(1 - x ** 2))")
elementwise([np.arccos, math.acos], "x", x="-g / conj(np.sqrt(1 - x ** 2))")
elementwise([np.arctan, math.atan], "x", x="g / conj(1 + x ** 2)")
elementwise([np.arctan2, math.atan2], "x1, x2", x1="g * x2 / (x1 ** 2 + x2 ** 2)",
            x2="-g * x1 / (x1 ** 2 + x2 ** 2)")
elementwise([np.hypot, math.hypot], "x, y", x="g * safe_div(x, ans)", y="g * safe_div(y, ans)",
            notes="0 at the origin")
elementwise([np.sinh, math.sinh], "x", x="g * conj(np.cosh(x))")
elementwise([np.cosh, math.cosh], "x", x="g * conj(np.sinh(x))")
elementwise([np.tanh, math.tanh], "x", x="g * conj(1 - ans ** 2)")
elementwise([np.arcsinh, math.asinh], "x", x="g / conj(np.sqrt(x ** 2 + 1))")
elementwise([np.arccosh, math.acosh], "x", x="g / conj(np.sqrt(x ** 2 - 1))")
elementwise([np.arctanh, math.atanh], "x", x="g / conj(1 - x ** 2)")
elementwise([np.deg2rad, np.radians, math.radians], "x", x="g * (np.pi / 180)")
elementwise([np.rad2deg, np.degrees, math.degrees], "x", x="g * (180 / np.pi)")
elementwise(np.sinc, "x", x="g * safe_div(np.cos(np.pi * x) - ans, x)", notes="0 at x = 0")

# -- piecewise -------------------------------------------------------------------------------
elementwise([np.abs, np.absolute, builtins.abs], "x", x="np.real(g) * safe_div(x, ans)",
            jvp={"x": "np.real(conj(safe_div(x, ans)) * t)"},
            notes="0 at x = 0; z/|z| for complex z")
elementwise([np.fabs, math.fabs], "x", x="g * np.sign(x)", notes="0 at x = 0")
elementwise([np.maximum, np.fmax, np.minimum, np.fmin], "x, y",
            x="np.where(x == y, g / 2, g * (ans == x))",
            y="np.where(x == y, g / 2, g * (ans == y))",
            notes="ties split g equally; fmax/fmin: a NaN argument gets none")
elementwise(np.clip, "a, a_min=None, a_max=None, out=None, *, min=None, max=None",
            a="clip_grad(g, a, a_min, a_max, min, max)", a_min="clip_grad(g, a_min, a)",
            a_max="clip_grad(g, a_max, None, a)", min="clip_grad(g, min, a)",
            max="clip_grad(g, max, None, a)",
            notes="at a bound, g is split between a and the bound")
elementwise(np.where, "condition, x, y", x="np.where(condition, g, 0)",
            y="np.where(condition, 0, g)")

# -- complex parts ------------------------------------------------------------------------------
elementwise(np.real, "val", val="np.real(g)")
elementwise(np.imag, "val", val="imag_grad(g, val)", jvp={"val": "np.imag(t)"})
elementwise([np.conj, np.conjugate], "x", x="np.conj(g)")
elementwise(np.angle, "z, deg=False", z="angle_grad(g, z, deg)", jvp={"z": "angle_jvp(t, z, deg)"},
            notes="0 for real z and at 0")

# -- zero derivative almost everywhere --------------------------------------------------------------
zero([np.sign, np.floor, np.ceil, np.round, np.around, np.rint, np.trunc, np.fix, np.heaviside,
      np.floor_divide, operator.floordiv, math.floor, math.ceil, math.trunc, builtins.round])
