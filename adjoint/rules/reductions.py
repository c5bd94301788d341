"""Reductions beyond ``sum``/``mean``/``max``/``min`` (which are in ``core.py``).

``axis`` and ``keepdims`` follow NumPy everywhere: ``unreduce`` puts the
reduced axes back before the adjoint spreads over them. Functions whose output
is real even for complex input (``var``, ``std``, the norms) take the real
part of ``g``. Subgradients: ``std`` and the norms have derivative 0 where they
are 0; ties of ``max``-type norms share ``g`` equally.
"""
import numpy as np

from .registry import structural

MEAN = "np.mean(a, axis=axis, keepdims=True)"

structural(np.prod, "a, axis=None, dtype=None, out=None, keepdims=False",
           a="prod_grad(g, a, axis, keepdims)", jvp={"a": "prod_jvp(t, a, axis, keepdims)"},
           notes="exact where entries are 0")
structural(np.var, "a, axis=None, dtype=None, out=None, ddof=0, keepdims=False",
           a=f"unreduce(np.real(g), a, axis, keepdims) * 2 * (a - {MEAN}) / (count(a, axis) - ddof)",
           jvp={"a": f"2 * np.sum(np.real(conj(a - {MEAN}) * t), axis=axis, keepdims=keepdims)"
                     " / (count(a, axis) - ddof)"})
structural(np.std, "a, axis=None, dtype=None, out=None, ddof=0, keepdims=False",
           a=f"unreduce(safe_div(np.real(g), ans), a, axis, keepdims) * (a - {MEAN})"
             " / (count(a, axis) - ddof)",
           jvp={"a": f"safe_div(np.sum(np.real(conj(a - {MEAN}) * t), axis=axis, keepdims=keepdims),"
                     " ans * (count(a, axis) - ddof))"},
           notes="0 where std is 0")
structural(np.cumsum, "a, axis=None, dtype=None, out=None", a="cumsum_grad(g, a, axis)",
           jvp="linear")
structural(np.cumprod, "a, axis=None, dtype=None, out=None", a="cumprod_grad(g, a, ans, axis)",
           jvp={"a": "cumprod_jvp(t, a, ans, axis)"}, notes="exact where entries are 0")
structural(np.nansum, "a, axis=None, dtype=None, out=None, keepdims=False",
           a="np.where(np.isnan(a), 0, unreduce(g, a, axis, keepdims))",
           jvp={"a": "np.sum(np.where(np.isnan(a), 0, t), axis=axis, keepdims=keepdims)"})
structural(np.average, "a, axis=None, weights=None, *, keepdims=False",
           a="average_grad(g, a, axis, weights, keepdims)",
           weights="average_grad(g, a, axis, weights, keepdims, 'weights', ans)",
           jvp={"a": "np.average(t, axis, weights, keepdims=keepdims)",
                "weights": "average_jvp(t, a, axis, weights, keepdims, ans)"},
           notes="weights of a's shape, or 1-D along axis")
structural(np.trace, "a, offset=0, axis1=0, axis2=1, dtype=None, out=None",
           a="trace_grad(g, a, offset, axis1, axis2)", jvp="linear")
structural(np.linalg.norm, "x, ord=None, axis=None, keepdims=False",
           x="norm_grad(np.real(g), x, ans, ord, axis, keepdims)",
           jvp={"x": "norm_jvp(t, x, ans, ord, axis, keepdims)"},
           notes="vector and matrix norms, every ord; 0 at 0")
structural(np.linalg.vector_norm, "x, *, axis=None, keepdims=False, ord=2",
           x="norm_grad(np.real(g), x, ans, ord, axis, keepdims, vector=True)",
           jvp={"x": "norm_jvp(t, x, ans, ord, axis, keepdims, vector=True)"}, notes="0 at 0")
structural(np.linalg.matrix_norm, "x, *, keepdims=False, ord='fro'",
           x="norm_grad(np.real(g), x, ans, ord, (-2, -1), keepdims)",
           jvp={"x": "norm_jvp(t, x, ans, ord, (-2, -1), keepdims)"}, notes="0 at 0")
