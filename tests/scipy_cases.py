"""The SciPy rules' cases for the registry-driven tests (``tests/test_rules.py`` CASES).

SciPy is optional: without it ``NAMES`` is empty, no case is added and the
tests see only NumPy's rules (the rules for SciPy are then never registered).
Cases name SciPy's functions by their full names (``scipy.special.gammaln``),
as the generated code does.
"""
from __future__ import annotations

import numpy as np

try:
    import scipy
    import scipy.integrate
    import scipy.linalg
    import scipy.signal
    import scipy.special
    import scipy.stats
except ImportError:  # pragma: no cover - exercised by the test that hides SciPy
    scipy = None

IMPORTS = "import scipy.special\nimport scipy.stats\nimport scipy.linalg\nimport scipy.signal\n" \
    "import scipy.integrate\nfrom tests.scipy_cases import ode_rhs\n" if scipy is not None else ""


def ode_rhs(y, t, k):
    """A non-autonomous, coupled right-hand side for the ``odeint`` cases."""
    return -k * y + np.sin(t) * y[::-1]


NAMES = {"scipy": scipy, "ode_rhs": ode_rhs} if scipy is not None else {}


def scipy_cases() -> dict:
    """Rule name -> cases, as in ``CASES``; empty without SciPy."""
    if scipy is None:
        return {}
    return {**special_cases(), **stats_cases(), **linalg_cases(), **signal_cases(), **integrate_cases()}


def no_derivative() -> dict:
    """The SciPy entries of ``NO_DERIVATIVE``: one expression per zero or inactive function."""
    if scipy is None:
        return {}
    return {"scipy.special.gammasgn": "scipy.special.gammasgn(a + 0.5)",
            "adjoint.runtime.lse_sign": "rt.lse_sign(scipy.special.logsumexp(a, b=a, return_sign=True), True)",
            "adjoint.runtime.adjoint_trans": "rt.adjoint_trans(0, a)"}


def special_cases():
    from .test_rules import CPLX, F64, C, P, R, S
    sp = "scipy.special."
    return {
        f"{sp}gammaln": [C(f"{sp}gammaln(a)", a=P(3, 4)), C(f"{sp}gammaln(a)", a=R(2, 3, lo=-2.7, hi=-2.2))],
        f"{sp}gamma": [C(f"{sp}gamma(a)", a=P(3, 4)), C(f"{sp}gamma(a)", a=R(3, lo=-1.8, hi=-1.2))],
        f"{sp}rgamma": [C(f"{sp}rgamma(a)", a=P(3, 4))],
        f"{sp}gammasgn": [C(f"{sp}gammasgn(a) * a", a=R(3, 4, lo=-0.9, hi=0.9))],
        f"{sp}psi": [C(f"{sp}digamma(a) + {sp}psi(a)", a=P(3, 4), dtypes=F64)],
        f"{sp}polygamma": [C(f"{sp}polygamma(1, a)", a=P(3, 4), dtypes=F64),
                           C(f"{sp}polygamma(2, a) * s", a=P(2), s=S(), dtypes=F64)],
        f"{sp}multigammaln": [C(f"{sp}multigammaln(a, 3)", a=R(3, 2, lo=2.0, hi=3.0), dtypes=F64),
                              C(f"{sp}multigammaln(s, 2)", s=S(1.5, 2.5), dtypes=F64)],
        f"{sp}beta": [C(f"{sp}beta(a, b)", a=P(3, 4), b=P(4))],
        f"{sp}betaln": [C(f"{sp}betaln(a, b)", a=P(3, 1), b=P(4))],
        f"{sp}betainc": [C(f"{sp}betainc(2.5, 1.5, a)", a=R(3, 4, lo=0.1, hi=0.9), dtypes=F64),
                         C(f"{sp}betainc(np.array([1.5, 3.0]), 2.0, a)", a=R(3, 2, lo=0.1, hi=0.9),
                           dtypes=F64)],
        f"{sp}gammainc": [C(f"{sp}gammainc(2.5, a)", a=P(3, 4), dtypes=F64),
                          C(f"{sp}gammainc(np.array([0.5, 3.0]), a)", a=P(3, 2), dtypes=F64)],
        f"{sp}gammaincc": [C(f"{sp}gammaincc(1.5, a)", a=P(3, 4), dtypes=F64)],
        f"{sp}erf": [C(f"{sp}erf(a)", a=R(3, 4)), C(f"{sp}erf(a)", a=R(3), dtypes=CPLX)],
        f"{sp}erfc": [C(f"{sp}erfc(a)", a=R(3, 4)), C(f"{sp}erfc(a)", a=R(3), dtypes=CPLX)],
        f"{sp}erfinv": [C(f"{sp}erfinv(a)", a=R(3, 4, lo=-0.8, hi=0.8))],
        f"{sp}erfcinv": [C(f"{sp}erfcinv(a)", a=R(3, 4, lo=0.2, hi=1.8))],
        f"{sp}erfcx": [C(f"{sp}erfcx(a)", a=R(3, 4, lo=-1.0, hi=3.0)), C(f"{sp}erfcx(a)", a=R(3), dtypes=CPLX)],
        f"{sp}ndtr": [C(f"{sp}ndtr(a)", a=R(3, 4, lo=-2, hi=2)), C(f"{sp}ndtr(a)", a=R(3), dtypes=CPLX)],
        f"{sp}log_ndtr": [C(f"{sp}log_ndtr(a)", a=R(3, 4, lo=-6, hi=3))],
        f"{sp}ndtri": [C(f"{sp}ndtri(a)", a=R(3, 4, lo=0.05, hi=0.95))],
        f"{sp}expit": [C(f"{sp}expit(a)", a=R(3, 4, lo=-3, hi=3))],
        f"{sp}logit": [C(f"{sp}logit(a)", a=R(3, 4, lo=0.1, hi=0.9))],
        f"{sp}log_expit": [C(f"{sp}log_expit(a)", a=R(3, 4, lo=-5, hi=5))],
        f"{sp}xlogy": [C(f"{sp}xlogy(a, b)", a=R(3, 4), b=P(4)), C(f"{sp}xlogy(a, b)", a=R(3), b=P(3), dtypes=CPLX)],
        f"{sp}xlog1py": [C(f"{sp}xlog1py(a, b)", a=R(3, 1), b=P(4)),
                         C(f"{sp}xlog1py(a, b)", a=R(3), b=P(3), dtypes=CPLX)],
        f"{sp}entr": [C(f"{sp}entr(a)", a=P(3, 4))],
        f"{sp}rel_entr": [C(f"{sp}rel_entr(a, b)", a=P(3, 4), b=P(4))],
        f"{sp}kl_div": [C(f"{sp}kl_div(a, b)", a=P(3, 4), b=P(3, 1))],
        f"{sp}logsumexp": [
            C(f"{sp}logsumexp(a)", a=R(3, 4)), C(f"{sp}logsumexp(a, axis=1)", a=R(2, 3, 4)),
            C(f"{sp}logsumexp(a, axis=(0, 2), keepdims=True)", a=R(2, 3, 4)),
            C(f"{sp}logsumexp(a, axis=0, b=b)", a=R(3, 4), b=P(3, 4)),
            C(f"{sp}logsumexp(a, axis=-1)", a=R(2, 3), dtypes=CPLX),
            C(f"{sp}logsumexp(a, b=b, axis=-1)", a=R(3, 4), b=P(4)),
            C(f"{sp}logsumexp(a, b=b, return_sign=True)[0]", a=R(4), b=R(4, lo=-1.0, hi=0.3), dtypes=F64),
            C(f"{sp}logsumexp(a, axis=1, b=b, return_sign=True)[0] * {sp}logsumexp(a, axis=1, b=b,"
              " return_sign=True)[1]", a=R(2, 3), b=R(2, 3, lo=-1.0, hi=0.4), dtypes=F64)],
        f"{sp}softmax": [C(f"{sp}softmax(a)", a=R(3, 4)), C(f"{sp}softmax(a, axis=1)", a=R(2, 3, 4)),
                         C(f"{sp}softmax(a, axis=(0, 2))", a=R(2, 3, 4))],
        f"{sp}log_softmax": [C(f"{sp}log_softmax(a)", a=R(3, 4)), C(f"{sp}log_softmax(a, axis=0)", a=R(3, 4))],
        f"{sp}j0": [C(f"{sp}j0(a)", a=R(3, 4, lo=-3, hi=3))],
        f"{sp}j1": [C(f"{sp}j1(a)", a=R(3, 4, lo=-3, hi=3))],
        f"{sp}jv": [C(f"{sp}jv(1.5, a)", a=P(3, 4)), C(f"{sp}jv(np.array([0.0, 2.0]), a)", a=R(3, 2, lo=-3, hi=3),
                                                       dtypes=F64),
                    C(f"{sp}jv(2.5, a)", a=P(3), dtypes=CPLX)],
        f"{sp}y0": [C(f"{sp}y0(a)", a=R(3, 4, lo=0.5, hi=4))],
        f"{sp}y1": [C(f"{sp}y1(a)", a=R(3, 4, lo=0.5, hi=4))],
        f"{sp}yn": [C(f"{sp}yn(2, a)", a=R(3, 4, lo=0.5, hi=4), dtypes=F64)],
        f"{sp}yv": [C(f"{sp}yv(0.5, a)", a=R(3, 4, lo=0.5, hi=4)), C(f"{sp}yv(1.5, a)", a=P(3) , dtypes=CPLX)],
        f"{sp}i0": [C(f"{sp}i0(a)", a=R(3, 4, lo=-3, hi=3))],
        f"{sp}i1": [C(f"{sp}i1(a)", a=R(3, 4, lo=-3, hi=3))],
        f"{sp}iv": [C(f"{sp}iv(2.0, a)", a=R(3, 4, lo=-3, hi=3)), C(f"{sp}iv(0.5, a)", a=P(3), dtypes=CPLX)],
        f"{sp}i0e": [C(f"{sp}i0e(a)", a=R(3, 4, lo=-3, hi=3))],
        f"{sp}i1e": [C(f"{sp}i1e(a)", a=R(3, 4, lo=-3, hi=3))],
        f"{sp}ive": [C(f"{sp}ive(1.5, a)", a=R(3, 4, lo=0.2, hi=3)), C(f"{sp}ive(2, a)", a=R(3, 4, lo=-3, hi=3))],
        "adjoint.runtime.none_to_one": [C("rt.none_to_one(a) * a", a=R(3), dtypes=F64)],
        "adjoint.runtime.lse_value": [C("rt.lse_value([a, b], True) + rt.lse_value(a, False)", a=R(3), b=R(3),
                                        dtypes=F64)],
        "adjoint.runtime.lse_pack": [C("rt.lse_pack(a, [a, b], True)[0] + rt.lse_pack(a, b, False)", a=R(3),
                                       b=R(3), dtypes=F64)],
        "adjoint.runtime.lse_sign": [C("rt.lse_sign((a, b), True) * a", a=R(3), b=R(3), dtypes=F64)],
    }


def stats_cases():
    """Each method of each family, in x, loc and scale (and the shapes for logpdf/pdf)."""
    from .test_rules import F64, C, P, R
    wide = (R(3, 4, lo=-2, hi=2), R(4), P(3, 1))
    positive = (R(3, 4, lo=0.5, hi=1.5), R(4, lo=-0.5, hi=0.0), P(3, 1))
    unit = (R(3, 4, lo=0.3, hi=0.6), R(4, lo=-0.1, hi=0.0), R(3, 1, lo=1.0, hi=1.2))
    families = {"norm": ({}, wide), "cauchy": ({}, wide), "laplace": ({}, wide),
                "logistic": ({}, wide), "expon": ({}, positive), "t": ({"df": R(4, lo=2, hi=5)}, wide),
                "gamma": ({"a": R(3, 1, lo=1.5, hi=3)}, positive), "chi2": ({"df": R(4, lo=3, hi=5)}, positive),
                "beta": ({"a": R(4, lo=1.5, hi=3), "b": R(3, 1, lo=1.5, hi=3)}, unit)}
    out = {}
    for dist, (shapes, (x, loc, scale)) in families.items():
        fixed = "".join(f"{2.5 + k}, " for k in range(len(shapes)))
        for method in ("logpdf", "pdf", "cdf", "logcdf", "sf", "logsf"):
            name = f"scipy.stats.{dist}.{method}"
            moving = method in ("logpdf", "pdf") and shapes
            params = "".join(f"{p}, " for p in shapes) if moving else fixed
            args = {"x": x, **(shapes if moving else {}), "m": loc, "s": scale}
            out[name] = [C(f"{name}(x, {params}m, s)", dtypes=F64, **args),
                         C(f"{name}(x, {fixed}scale=s)", x=x, s=scale, dtypes=F64)]
    out.update(multivariate_cases())
    k = "np.array([0.0, 1.0, 3.0, 4.0])"
    for method in ("logpmf", "pmf", "cdf", "logcdf", "sf", "logsf"):
        name = f"scipy.stats.poisson.{method}"
        out[name] = [C(f"{name}({k}, mu)", mu=R(3, 4, lo=1.0, hi=4.0), dtypes=F64),
                     C(f"{name}(2.0, mu, 1)", mu=R(3, lo=1.0, hi=4.0), dtypes=F64)]
    return out


def multivariate_cases():
    from .test_rules import F64, C, P, R, Spd
    mvn, dirichlet = "scipy.stats.multivariate_normal", "scipy.stats.dirichlet"
    out = {}
    for method in ("logpdf", "pdf"):
        out[f"{mvn}.{method}"] = [
            C(f"{mvn}.{method}(x, m, c)", x=R(4, 3), m=R(3), c=Spd(3, 3), dtypes=F64),
            C(f"{mvn}.{method}(x, m, c)", x=R(2), m=R(2), c=Spd(2, 2), dtypes=F64),
            C(f"{mvn}.{method}(x, cov=c)", x=R(2, 3), c=Spd(3, 3), dtypes=F64)]
        out[f"{dirichlet}.{method}"] = [
            C(f"{dirichlet}.{method}(x / np.sum(x), al)", x=P(3), al=R(3, lo=1.5, hi=3), dtypes=F64),
            C(f"{dirichlet}.{method}(x / np.sum(x, axis=0), al)", x=P(3, 4), al=R(3, lo=1.5, hi=3),
              dtypes=F64)]
    out["adjoint.runtime.lower_part"] = [C("rt.lower_part(a)", a=R(3, 3), dtypes=F64),
                                         C("rt.lower_part(a)", a=R(2, 3, 3), dtypes=F64)]
    out["adjoint.runtime.from_lower"] = [C("rt.from_lower(a)", a=R(3, 3), dtypes=F64)]
    out["adjoint.runtime.none_to_zero"] = [C("rt.none_to_zero(a) * a", a=R(3), dtypes=F64)]
    return out


def linalg_cases():
    from .test_rules import CPLX, F64, C, R, Spd, Well
    sl = "scipy.linalg."
    tri = {"a": Well(3, 3), "b": R(3, 2)}
    return {
        f"{sl}inv": [C(f"{sl}inv(a)", a=Well(3, 3), dtypes=F64), C(f"{sl}inv(a)", a=Well(2, 2), dtypes=CPLX)],
        f"{sl}det": [C(f"{sl}det(a)", a=Well(3, 3), dtypes=F64)],
        f"{sl}solve_triangular": [
            C(f"{sl}solve_triangular(a, b)", dtypes=F64, **tri),
            C(f"{sl}solve_triangular(a, b, lower=True)", a=Well(3, 3), b=R(3), dtypes=F64),
            C(f"{sl}solve_triangular(a, b, trans=1, lower=True, unit_diagonal=True)", dtypes=F64, **tri),
            C(f"{sl}solve_triangular(a, b, trans='C')", dtypes=F64, **tri),
            C(f"{sl}solve_triangular(a, b, lower=True)", a=Well(3, 3), b=R(3, 2), dtypes=CPLX)],
        f"{sl}cholesky": [C(f"{sl}cholesky(a)", a=Spd(3, 3), dtypes=F64),
                          C(f"{sl}cholesky(a, lower=True)", a=Spd(3, 3), dtypes=F64)],
        f"{sl}cho_factor": [C(f"{sl}cho_factor(a)[0]", a=Spd(3, 3), dtypes=F64),
                            C(f"{sl}cho_factor(a, lower=True)[0]", a=Spd(3, 3), dtypes=F64)],
        f"{sl}cho_solve": [C(f"{sl}cho_solve({sl}cho_factor(a), b)", a=Spd(3, 3), b=R(3, 2), dtypes=F64),
                           C(f"{sl}cho_solve({sl}cho_factor(a, lower=True), b)", a=Spd(3, 3), b=R(3),
                             dtypes=F64)],
        f"{sl}lu_factor": [C(f"{sl}lu_factor(a)[0]", a=R(4, 4), dtypes=F64)],
        f"{sl}lu_solve": [C(f"{sl}lu_solve({sl}lu_factor(a), b)", a=Well(3, 3), b=R(3, 2), dtypes=F64),
                          C(f"{sl}lu_solve({sl}lu_factor(a), b, trans=1)", a=R(3, 3), b=R(3), dtypes=F64)],
        "adjoint.runtime.cho_factor_grad": [
            C("rt.cho_factor_grad([c, 0.0], l, (l, False))", c=R(3, 3), l=Well(3, 3), dtypes=F64),
            C("rt.cho_factor_grad([c, 0.0], l, (l, True), True)", c=R(3, 3), l=Well(3, 3), dtypes=F64)],
        "adjoint.runtime.cho_solve_grad": [
            C("rt.cho_solve_grad(c, (l, False), b, x)[0]", c=R(3, 2), l=Well(3, 3), b=R(3, 2), x=R(3, 2),
              dtypes=F64),
            C("rt.cho_solve_grad(c, (l, True), b, x)[0]", c=R(3), l=Well(3, 3), b=R(3), x=R(3), dtypes=F64)],
        "adjoint.runtime.lu_factor_grad": [
            C("rt.lu_factor_grad([c, 0.0], l, (l, np.array([1, 1, 2])))", c=R(3, 3), l=Well(3, 3),
              dtypes=F64)],
        "adjoint.runtime.lu_solve_grad": [
            C("rt.lu_solve_grad(c, (l, np.array([2, 1, 2])), b, x)[0]", c=R(3, 2), l=Well(3, 3), b=R(3, 2),
              x=R(3, 2), dtypes=F64),
            C("rt.lu_solve_grad(c, (l, np.array([1, 1, 2])), b, x, 1)[0]", c=R(3), l=Well(3, 3), b=R(3),
              x=R(3), dtypes=F64)],
        f"{sl}eigh": [C(f"{sl}eigh(a)[1] ** 2", a=R(3, 3), dtypes=F64),
                      C(f"{sl}eigh(a, lower=False)[1] ** 2", a=R(3, 3), dtypes=F64),
                      C(f"{sl}eigh(a, eigvals_only=True)", a=R(3, 3), dtypes=F64)],
        "adjoint.runtime.triangle_grad": [
            C("rt.triangle_grad(c, x, 0, True)", c=R(3, 2), x=R(3, 2), dtypes=F64),
            C("rt.triangle_grad(c, x, 1, False, True)", c=R(3), x=R(3), dtypes=F64),
            C("rt.triangle_grad(c, x, 'C', True)", c=R(3, 2), x=R(3, 2), dtypes=F64)],
        f"{sl}expm": [C(f"{sl}expm(a)", a=R(3, 3), dtypes=F64), C(f"{sl}expm(a)", a=R(2, 2), dtypes=("complex128",))],
        "adjoint.runtime.frechet_expm": [C("rt.frechet_expm(a, e)", a=R(3, 3), e=R(3, 3), dtypes=F64)],
        f"{sl}sqrtm": [C(f"{sl}sqrtm(a)", a=Spd(3, 3), dtypes=F64)],
        f"{sl}solve_sylvester": [C(f"{sl}solve_sylvester(a, b, q)", a=Well(3, 3), b=Well(2, 2), q=R(3, 2),
                                   dtypes=F64)],
    }


def signal_cases():
    from .test_rules import CPLX, F64, C, R
    out = {}
    for fn in ("convolve", "correlate"):
        name = f"scipy.signal.{fn}"
        out[name] = [C(f"{name}(a, b)", a=R(5), b=R(3), dtypes=F64),
                     C(f"{name}(a, b, mode='same')", a=R(4), b=R(3), dtypes=F64),
                     C(f"{name}(a, b, 'valid')", a=R(6), b=R(3), dtypes=F64),
                     C(f"{name}(a, b, mode='same')", a=R(3, 4), b=R(2, 3), dtypes=F64),
                     C(f"{name}(a, b, mode='valid')", a=R(4, 3, 3), b=R(2, 2, 3), dtypes=F64),
                     C(f"{name}(a, b)", a=R(4), b=R(2), dtypes=CPLX)]
    out["adjoint.runtime.embed_full"] = [C("rt.embed_full(c, a, b, 'same')", c=R(4), a=R(4), b=R(3), dtypes=F64),
                                         C("rt.embed_full(c, a, b, 'valid')", c=R(2, 2), a=R(3, 4), b=R(2, 3),
                                           dtypes=F64)]
    out["adjoint.runtime.crop_mode"] = [C("rt.crop_mode(c, a, b, 'same')", c=R(6), a=R(4), b=R(3), dtypes=F64)]
    return out


def integrate_cases():
    from .test_rules import F64, C, R, S

    def times(n):
        return lambda rng, dtype: np.sort(rng.uniform(0.0, 1.5, n)).astype(dtype)
    odeint = "scipy.integrate.odeint(ode_rhs, y, ts, args=(k,), rtol=1e-12, atol=1e-12)"
    return {"scipy.integrate.odeint": [C(odeint, y=R(2), ts=times(4), k=S(0.5, 1.0), dtypes=F64, rtol=1e-4),
                                       C(odeint.replace("ode_rhs, y", "ode_rhs, y * 2.0"), y=R(2), ts=times(3),
                                         k=S(0.5, 1.0), dtypes=F64, rtol=1e-4)],
            # the gradient's own rule (second order): along the cotangent, the times, args and the
            # stored solution x, each an argument of its own
            "adjoint.runtime.odeint_grad": [
                C("rt.odeint_grad(c, ode_rhs, y, ts, (k,), x, 1e-10, 1e-10)[0]", c=R(2, 2), y=R(2), ts=times(2),
                  k=S(0.5, 1.0), x=R(2, 2), dtypes=F64, rtol=1e-4),
                C("rt.odeint_grad(c, ode_rhs, y, ts, (k,), x, 1e-10, 1e-10)[1] * "
                  "rt.odeint_grad(c, ode_rhs, y, ts, (k,), x, 1e-10, 1e-10)[2][0]", c=R(3, 2), y=R(2), ts=times(3),
                  k=S(0.5, 1.0), x=R(3, 2), dtypes=F64, rtol=1e-4)]}
