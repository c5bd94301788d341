"""Rules for ``scipy.special``, loaded on first need (see ``registry.OPTIONAL``).

Each partial is the textbook identity, written with SciPy's own functions, so the
derivative of a derivative is read from this table again (``hvp``, ``hessian``):
d/dx gammaln = digamma, d/dx digamma = polygamma(1, .), d/dz J_v = (J_{v-1} - J_{v+1}) / 2.
Orders, degrees and the parameters of the incomplete functions (``polygamma``'s ``n``,
``jv``'s ``v``, ``gammainc``'s ``a``) have no partial here: an active one is refused with
``NotDifferentiableError``. Holomorphic functions SciPy evaluates at complex points
conjugate their partial, as in ``ufuncs.py``; the scaled Bessel functions (``i0e``,
``ive``) carry ``exp(-|x|)`` and are real only.
"""
import scipy.special as sp

from .. import runtime as rt
from .registry import elementwise, structural, zero

S = "scipy.special."
SQRT_PI = "np.pi ** 0.5"
SQRT_2PI = "(2 * np.pi) ** 0.5"

# -- gamma and beta ---------------------------------------------------------------------------
elementwise(sp.gammaln, "x", x=f"g * {S}digamma(x)")
elementwise(sp.gamma, "x", x=f"g * conj(ans * {S}digamma(x))")
elementwise(sp.rgamma, "x", x=f"-g * conj(ans * {S}digamma(x))", notes="1 / gamma")
zero(sp.gammasgn, notes="the sign of gamma: constant between poles")
elementwise(sp.digamma, "x", x=f"g * {S}polygamma(1, x)")
elementwise(sp.polygamma, "n, x", x=f"g * {S}polygamma(n + 1, x)", notes="in x")
elementwise(sp.multigammaln, "a, d",
            a=f"g * np.sum({S}digamma(np.expand_dims(a, -1) - np.arange(d) / 2), axis=-1)",
            notes="in a: the sum of digamma(a - j / 2), j < d")
elementwise(sp.beta, "a, b", a=f"g * ans * ({S}digamma(a) - {S}digamma(a + b))",
            b=f"g * ans * ({S}digamma(b) - {S}digamma(a + b))")
elementwise(sp.betaln, "a, b", a=f"g * ({S}digamma(a) - {S}digamma(a + b))",
            b=f"g * ({S}digamma(b) - {S}digamma(a + b))")
# d/dx I_x(a, b) = x^(a-1) (1-x)^(b-1) / B(a, b); d/dx P(a, x) = x^(a-1) e^-x / Gamma(a)
elementwise(sp.betainc, "a, b, x",
            x=f"g * np.exp({S}xlogy(a - 1, x) + {S}xlog1py(b - 1, -x) - {S}betaln(a, b))",
            notes="in x")
elementwise(sp.gammainc, "a, x", x=f"g * np.exp({S}xlogy(a - 1, x) - x - {S}gammaln(a))",
            notes="in x")
elementwise(sp.gammaincc, "a, x", x=f"-g * np.exp({S}xlogy(a - 1, x) - x - {S}gammaln(a))",
            notes="in x")

# -- error functions and the normal distribution -----------------------------------------------
elementwise(sp.erf, "z", z="g * conj(2 * np.pi ** -0.5 * np.exp(-z ** 2))")
elementwise(sp.erfc, "x", x="-g * conj(2 * np.pi ** -0.5 * np.exp(-x ** 2))")
elementwise(sp.erfinv, "y", y=f"g * {SQRT_PI} / 2 * np.exp(ans ** 2)")
elementwise(sp.erfcinv, "y", y=f"-g * {SQRT_PI} / 2 * np.exp(ans ** 2)")
elementwise(sp.erfcx, "x", x="g * conj(2 * x * ans - 2 * np.pi ** -0.5)",
            notes="exp(x^2) erfc(x)")
elementwise(sp.ndtr, "x", x=f"g * conj(np.exp(-x ** 2 / 2) / {SQRT_2PI})")
elementwise(sp.log_ndtr, "x", x=f"g * np.exp(-x ** 2 / 2 - ans) / {SQRT_2PI}",
            notes="pdf / cdf, computed in logs")
elementwise(sp.ndtri, "y", y=f"g * {SQRT_2PI} * np.exp(ans ** 2 / 2)")

# -- logistic and information functions ----------------------------------------------------------
elementwise(sp.expit, "x", x="g * ans * (1 - ans)")
elementwise(sp.logit, "x", x="g / (x * (1 - x))")
elementwise(sp.log_expit, "x", x=f"g * {S}expit(-x)")
elementwise(sp.xlogy, "x, y", x="g * conj(np.log(y))", y="g * conj(x / y)")
elementwise(sp.xlog1py, "x, y", x="g * conj(np.log1p(y))", y="g * conj(x / (1 + y))")
elementwise(sp.entr, "x", x="-g * (np.log(x) + 1)", notes="x > 0")
elementwise(sp.rel_entr, "x, y", x="g * (np.log(x / y) + 1)", y="-g * x / y", notes="x, y > 0")
elementwise(sp.kl_div, "x, y", x="g * np.log(x / y)", y="g * (1 - x / y)", notes="x, y > 0")

# -- softmax family: e = e^(a - ans) (times the sign), w = b e are the weights of the entries ---
LSE_E = ("np.exp(a - unreduce(lse_value(ans, return_sign), a, axis, keepdims))"
         " * unreduce(lse_sign(ans, return_sign), a, axis, keepdims)")
LSE_W = f"none_to_one(b) * {LSE_E}"
LSE_G = "unreduce(lse_value(g, return_sign), a, axis, keepdims)"
structural(sp.logsumexp, "a, axis=None, b=None, keepdims=False, return_sign=False",
           a=f"unbroadcast({LSE_G} * conj({LSE_W}), a)", b=f"unbroadcast({LSE_G} * conj({LSE_E}), b)",
           jvp={"a": f"lse_pack(np.sum({LSE_W} * t, axis=axis, keepdims=keepdims), ans, return_sign)",
                "b": f"lse_pack(np.sum({LSE_E} * t, axis=axis, keepdims=keepdims), ans, return_sign)"},
           notes="axis, b, keepdims, return_sign (the sign is constant)")
structural(sp.softmax, "x, axis=None", x="ans * (g - np.sum(g * ans, axis=axis, keepdims=True))",
           jvp={"x": "ans * (t - np.sum(t * ans, axis=axis, keepdims=True))"})
structural(sp.log_softmax, "x, axis=None",
           x="g - np.exp(ans) * np.sum(g, axis=axis, keepdims=True)",
           jvp={"x": "t - np.sum(np.exp(ans) * t, axis=axis, keepdims=True)"})

# -- Bessel functions: J_v' = (J_{v-1} - J_{v+1}) / 2, I_v' = (I_{v-1} + I_{v+1}) / 2 ----------
elementwise(sp.j0, "x", x=f"-g * {S}j1(x)")
elementwise(sp.j1, "x", x=f"g * ({S}j0(x) - {S}jv(2, x)) / 2")
elementwise(sp.jv, "v, z", z=f"g * conj({S}jv(v - 1, z) - {S}jv(v + 1, z)) / 2", notes="in z")
elementwise(sp.y0, "x", x=f"-g * {S}y1(x)")
elementwise(sp.y1, "x", x=f"g * ({S}y0(x) - {S}yv(2, x)) / 2")
elementwise(sp.yn, "n, x", x=f"g * ({S}yn(n - 1, x) - {S}yn(n + 1, x)) / 2", notes="in x")
elementwise(sp.yv, "v, z", z=f"g * conj({S}yv(v - 1, z) - {S}yv(v + 1, z)) / 2", notes="in z")
elementwise(sp.i0, "x", x=f"g * {S}i1(x)")
elementwise(sp.i1, "x", x=f"g * ({S}i0(x) + {S}iv(2, x)) / 2")
elementwise(sp.iv, "v, z", z=f"g * conj({S}iv(v - 1, z) + {S}iv(v + 1, z)) / 2", notes="in z")
# the scaled forms are I_v(x) e^-|x|: the product rule adds -sign(x) times the function
elementwise(sp.i0e, "x", x=f"g * ({S}i1e(x) - np.sign(x) * ans)")
elementwise(sp.i1e, "x", x=f"g * (({S}i0e(x) + {S}ive(2, x)) / 2 - np.sign(x) * ans)")
elementwise(sp.ive, "v, z", z=f"g * (({S}ive(v - 1, z) + {S}ive(v + 1, z)) / 2 - np.sign(z) * ans)",
            notes="in real z")

# -- the helpers of logsumexp's rule: return_sign=True makes ans (value, sign) and g a list ----
structural(rt.none_to_one, "x", jvp="linear", x="g")
structural(rt.lse_value, "v, return_sign", static="return_sign", jvp="linear",
           v="lse_pack(g, v, return_sign)")
structural(rt.lse_pack, "t, like, return_sign", static="like, return_sign", jvp="linear",
           t="lse_value(g, return_sign)")
zero(rt.lse_sign, notes="the sign of a sum: constant almost everywhere")
