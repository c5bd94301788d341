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

# -- numpy functions beyond the core set (issue 12) -----------------------------------------------
# The nan-functions are the plain ones over the entries that are numbers: NaN entries get nothing.
NCOUNT = "nan_count(a, axis, True)"
NMEAN = "np.nanmean(a, axis=axis, keepdims=True)"
structural(np.nanmean, "a, axis=None, dtype=None, out=None, keepdims=False",
           a=f"np.where(np.isnan(a), 0, unreduce(g, a, axis, keepdims) / {NCOUNT})",
           jvp={"a": "np.nanmean(np.where(np.isnan(a), np.nan, t), axis=axis, keepdims=keepdims)"})
structural([np.nanmax, np.nanmin], "a, axis=None, out=None, keepdims=False",
           a="extremum_grad(g, a, ans, axis, keepdims)",
           jvp={"a": "extremum_jvp(t, a, ans, axis, keepdims)"}, notes="ties share g equally")
structural(np.nanvar, "a, axis=None, dtype=None, out=None, ddof=0, keepdims=False",
           a=f"np.where(np.isnan(a), 0, unreduce(np.real(g), a, axis, keepdims) * 2 * (a - {NMEAN})"
             f" / ({NCOUNT} - ddof))",
           jvp={"a": f"2 * np.nansum(np.real(conj(a - {NMEAN}) * t), axis=axis, keepdims=keepdims)"
                     " / (nan_count(a, axis, keepdims) - ddof)"})
structural(np.nanstd, "a, axis=None, dtype=None, out=None, ddof=0, keepdims=False",
           a=f"np.where(np.isnan(a), 0, unreduce(safe_div(np.real(g), ans), a, axis, keepdims)"
             f" * (a - {NMEAN}) / ({NCOUNT} - ddof))",
           jvp={"a": f"safe_div(np.nansum(np.real(conj(a - {NMEAN}) * t), axis=axis, keepdims=keepdims),"
                     " ans * (nan_count(a, axis, keepdims) - ddof))"},
           notes="0 where it is 0")
structural(np.nanprod, "a, axis=None, dtype=None, out=None, keepdims=False",
           a="np.where(np.isnan(a), 0, prod_grad(g, np.where(np.isnan(a), 1, a), axis, keepdims))",
           jvp={"a": "prod_jvp(np.where(np.isnan(a), 0, t), np.where(np.isnan(a), 1, a), axis,"
                     " keepdims)"})
structural(np.ptp, "a, axis=None, out=None, keepdims=False",
           a="extremum_grad(g, a, np.max(a, axis=axis, keepdims=keepdims), axis, keepdims)"
             " - extremum_grad(g, a, np.min(a, axis=axis, keepdims=keepdims), axis, keepdims)",
           jvp={"a": "extremum_jvp(t, a, np.max(a, axis=axis, keepdims=keepdims), axis, keepdims)"
                     " - extremum_jvp(t, a, np.min(a, axis=axis, keepdims=keepdims), axis, keepdims)"},
           notes="ties share g equally")

# Quantiles read one or two sorted entries, weighted by where q falls between them. Their
# overwrite_input=True sorts the argument in place: it is not in the signatures, so it is refused.
QUANTILE = "a, q, axis=None, out=None, *, method='linear', keepdims=False"
structural(np.quantile, QUANTILE, a="quantile_grad(g, a, q, axis, keepdims, method)",
           jvp={"a": "quantile_jvp(t, a, q, axis, keepdims, method)"},
           notes="in a (q constant); methods linear, lower, higher, nearest, midpoint")
structural(np.percentile, QUANTILE, a="quantile_grad(g, a, np.divide(q, 100), axis, keepdims, method)",
           jvp={"a": "quantile_jvp(t, a, np.divide(q, 100), axis, keepdims, method)"},
           notes="in a (q constant); methods linear, lower, higher, nearest, midpoint")
structural(np.median, "a, axis=None, out=None, *, keepdims=False",
           a="quantile_grad(g, a, 0.5, axis, keepdims)",
           jvp={"a": "quantile_jvp(t, a, 0.5, axis, keepdims)"},
           notes="the middle entry, or the two middle ones equally")

structural(np.trapezoid, "y, x=None, dx=1.0, axis=-1",
           y="unreduce(g, y, axis) * trapezoid_weights(y, x, dx, axis)", jvp="linear",
           notes="in y (x and dx constant)")
structural(np.cumulative_sum, "x, *, axis=None, dtype=None, include_initial=False",
           x="cumsum_grad(g[initial_part(g, axis, include_initial)], x, axis)", jvp="linear")
structural(np.cumulative_prod, "x, *, axis=None, dtype=None, include_initial=False",
           x="cumprod_grad(g[initial_part(g, axis, include_initial)], x,"
             " ans[initial_part(ans, axis, include_initial)], axis)",
           jvp={"x": "np.pad(cumprod_jvp(t, x, ans[initial_part(ans, axis, include_initial)], axis),"
                     " initial_width(ans, axis, include_initial))"},
           notes="exact where entries are 0")

# the helpers' own rules, for second derivatives
from .. import runtime as rt  # noqa: E402
from .registry import inactive  # noqa: E402

structural(rt.quantile_grad, "cot, a, q, axis=None, keepdims=False, method='linear'", static="a",
           cot="quantile_jvp(g, a, q, axis, keepdims, method)", jvp="linear")
structural(rt.quantile_jvp, "tan, a, q, axis=None, keepdims=False, method='linear'", static="a",
           tan="quantile_grad(g, a, q, axis, keepdims, method)", jvp="linear")
inactive([rt.nan_count, rt.trapezoid_weights, rt.initial_part, rt.initial_width])
