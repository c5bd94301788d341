"""Rules for ``scipy.stats``, loaded on first need (see ``registry.OPTIONAL``).

The methods of a distribution (``scipy.stats.norm.logpdf``) are bound methods of
one instance; equal bound methods hash alike, so the registry is keyed by them.
A location-scale family is ``f(x) = f0(z) / scale`` with ``z = (x - loc) / scale``;
with ``D = d log f0 / dz`` (the *score*, given per family below):

    d logpdf / dx = D / scale,   d logpdf / dloc = -D / scale,
    d logpdf / dscale = -(z D + 1) / scale,
    d cdf / dx = pdf,   d cdf / dloc = -pdf,   d cdf / dscale = -z pdf,

``pdf = exp(logpdf)`` multiplies by ``ans``, ``logcdf`` divides by the cdf
(``exp(logpdf - ans)``) and ``sf = 1 - cdf`` changes the sign. Shape
parameters (``t``'s ``df``, ``gamma``'s ``a``) have partials for ``logpdf`` and
``pdf`` only: ``cdf``-type functions refuse an active one.
"""
import scipy.stats as st

from .. import runtime as rt
from .registry import elementwise, structural

Z = "((x - loc) / scale)"
_ST = "scipy.stats."

# family -> (its shape parameters, its score D(z), {shape: d log f0 / d shape})
FAMILIES = {
    "norm": ("", f"-{Z}", {}),
    "cauchy": ("", f"-2 * {Z} / (1 + {Z} ** 2)", {}),
    "laplace": ("", f"-np.sign({Z})", {}),
    "logistic": ("", f"-np.tanh({Z} / 2)", {}),
    "expon": ("", "-1.0", {}),
    "t": ("df", f"-(df + 1) * {Z} / (df + {Z} ** 2)",
          {"df": f"(scipy.special.digamma((df + 1) / 2) - scipy.special.digamma(df / 2) - 1 / df"
                 f" - np.log1p({Z} ** 2 / df) + (df + 1) * {Z} ** 2 / (df * (df + {Z} ** 2))) / 2"}),
    "gamma": ("a", f"(a - 1) / {Z} - 1", {"a": f"np.log({Z}) - scipy.special.digamma(a)"}),
    "beta": ("a, b", f"(a - 1) / {Z} - (b - 1) / (1 - {Z})",
             {"a": f"np.log({Z}) - scipy.special.digamma(a) + scipy.special.digamma(a + b)",
              "b": f"np.log1p(-{Z}) - scipy.special.digamma(b) + scipy.special.digamma(a + b)"}),
    "chi2": ("df", f"(df / 2 - 1) / {Z} - 0.5",
             {"df": f"(np.log({Z}) - LN2 - scipy.special.digamma(df / 2)) / 2"}),
}


def _partials(score, shapes, factor):
    """The partials of logpdf (``factor`` "") or pdf (``factor`` "ans * ")."""
    score = f"({score})"
    out = {"x": f"g * {factor}{score} / scale", "loc": f"-g * {factor}{score} / scale",
           "scale": f"-g * {factor}({Z} * {score} + 1) / scale"}
    out.update({p: f"g * {factor}({d})" for p, d in shapes.items()})
    return out


def _tails(dist, shapes, sign, ratio):
    """The partials of cdf/sf (``ratio`` False) or logcdf/logsf (True); ``sign`` is -1 for sf."""
    args = f"x, {shapes + ', ' if shapes else ''}loc, scale"
    density = f"np.exp({_ST}{dist}.logpdf({args}) - ans)" if ratio else f"{_ST}{dist}.pdf({args})"
    pos, neg = ("", "-") if sign > 0 else ("-", "")
    return {"x": f"{pos}g * {density}", "loc": f"{neg}g * {density}",
            "scale": f"{neg}g * {Z} * {density}"}


def _family(dist, shapes, score, shape_partials):
    gen = getattr(st, dist)
    params = f"x, {shapes + ', ' if shapes else ''}loc=0, scale=1"
    elementwise(gen.logpdf, params, **_partials(score, shape_partials, ""))
    elementwise(gen.pdf, params, **_partials(score, shape_partials, "ans * "))
    for method, sign, ratio in (("cdf", 1, False), ("sf", -1, False), ("logcdf", 1, True),
                                ("logsf", -1, True)):
        elementwise(getattr(gen, method), params, **_tails(dist, shapes, sign, ratio),
                    notes=f"in x, loc, scale{'; not in ' + shapes if shapes else ''}")


for _name, (_shapes, _score, _shape_partials) in FAMILIES.items():
    _family(_name, _shapes, _score, _shape_partials)

# -- Poisson, in mu: d log pmf / dmu = k / mu - 1, d cdf(k) / dmu = -pmf(floor(k)) ------------
K = "(k - loc)"
PMF_FLOOR = f"{_ST}poisson.pmf(np.floor(k), mu, loc)"
elementwise(st.poisson.logpmf, "k, mu, loc=0", mu=f"g * ({K} / mu - 1)", notes="in mu")
elementwise(st.poisson.pmf, "k, mu, loc=0", mu=f"g * ans * ({K} / mu - 1)", notes="in mu")
elementwise(st.poisson.cdf, "k, mu, loc=0", mu=f"-g * {PMF_FLOOR}", notes="in mu")
elementwise(st.poisson.sf, "k, mu, loc=0", mu=f"g * {PMF_FLOOR}", notes="in mu")
elementwise(st.poisson.logcdf, "k, mu, loc=0", mu=f"-g * {PMF_FLOOR} / np.exp(ans)", notes="in mu")
elementwise(st.poisson.logsf, "k, mu, loc=0", mu=f"g * {PMF_FLOOR} / np.exp(ans)", notes="in mu")

# -- multivariate normal: with r = cov^-1 (x - mean) per sample,
#    d logpdf = -r . dx + r . dmean - tr(cov^-1 dcov) / 2 + r . dcov r / 2;
#    cov is read on its lower triangle (SciPy factors it with eigh), as NumPy's eigh ---------
R = "np.transpose(np.linalg.solve(cov, np.transpose(x - none_to_zero(mean))))"


def _mvn(method, gain, factor):
    """The rule of ``multivariate_normal.logpdf`` (``gain`` g, ``factor`` "") or ``.pdf``
    (``gain`` g * ans, ``factor`` "ans * ")."""
    ge = f"np.expand_dims({gain}, -1)"
    sym = "from_lower(t)"
    structural(getattr(st.multivariate_normal, method), "x, mean=None, cov=1, allow_singular=False",
               x=f"-{ge} * {R}", mean=f"unbroadcast({ge} * {R}, mean)",
               cov=f"lower_part(-0.5 * (np.sum({gain}) * np.linalg.inv(cov)"
                   f" - np.transpose(np.atleast_2d({ge} * {R})) @ np.atleast_2d({R})))",
               jvp={"x": f"-{factor}np.sum({R} * t, axis=-1)", "mean": f"{factor}np.sum({R} * t, axis=-1)",
                    "cov": f"{factor}(0.5 * np.einsum('...i,ij,...j->...', {R}, {sym}, {R})"
                           f" - 0.5 * np.trace(np.linalg.solve(cov, {sym})))"},
               notes="x of shape (d,) or (n, d), a mean vector, a covariance matrix")


_mvn("logpdf", "g", "")
_mvn("pdf", "(g * ans)", "ans * ")

# -- Dirichlet: log pdf = sum((alpha - 1) log x) - sum(gammaln(alpha)) + gammaln(sum(alpha));
#    x holds the components on its first axis ------------------------------------------------
XT = "np.transpose(x)"
DIR_ALPHA = f"np.log({XT}) - scipy.special.digamma(alpha) + scipy.special.digamma(np.sum(alpha))"


def _dirichlet(method, gain, factor):
    ge = f"np.expand_dims({gain}, -1)"
    structural(getattr(st.dirichlet, method), "x, alpha",
               x=f"np.transpose({ge} * (alpha - 1) / {XT})",
               alpha=f"unbroadcast({ge} * ({DIR_ALPHA}), alpha)",
               jvp={"x": f"{factor}np.sum((alpha - 1) / {XT} * np.transpose(t), axis=-1)",
                    "alpha": f"{factor}np.sum(({DIR_ALPHA}) * t, axis=-1)"},
               notes="x of shape (k,) or (k, n) on the simplex")


_dirichlet("logpdf", "g", "")
_dirichlet("pdf", "(g * ans)", "ans * ")

# -- helpers: a symmetric matrix given by its lower triangle, and the adjoint on that triangle -----
structural(rt.lower_part, "full", jvp="linear", full="from_lower(g)")
structural(rt.from_lower, "t", jvp="linear", t="lower_part(g)")
structural(rt.none_to_zero, "v", jvp="linear", v="g")
