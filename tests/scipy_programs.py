"""Functions calling SciPy, for tests/test_scipy_rules.py (adjoint reads their source)."""
import numpy as np
import scipy.integrate
import scipy.linalg
import scipy.special
from scipy import special
from scipy.special import gammaln
from scipy.stats import multivariate_normal, norm, poisson, t


def frozen_norm(x, loc, scale):
    return np.sum(norm(loc, scale).logpdf(x)) + np.sum(norm(loc=loc).cdf(x))


def frozen_t(x, loc):
    return np.sum(t(4.0, loc, 2.0).logpdf(x) * t(3.0, scale=1.5).sf(x))


def frozen_mvn(x, mean, cov):
    return np.sum(multivariate_normal(mean, cov).logpdf(x))


def special_loop(x):
    total = 0.0
    for i in range(3):
        total = total + np.sum(gammaln(x * (i + 1.0)) * special.expit(x))
    return total


def shadows_scipy(x):
    scipy = x * 2.0  # a local named like the module generated code calls
    return np.sum(special.erf(scipy) + scipy)


def gammainc_in_a(a, x):
    return np.sum(special.gammainc(a, x))


def polygamma_order(n, x):
    return np.sum(special.polygamma(n, x))


def generalized_eigh(a, b):
    return np.sum(scipy.linalg.eigh(a, b)[0])


def frozen_in_a_local(x, loc):
    dist = norm(loc, 1.0)
    return np.sum(dist.logpdf(x))


def mvn_logpdf(x):
    return multivariate_normal.logpdf(x, np.zeros(2), np.array([[2.0, 0.5], [0.5, 1.0]]))


def softplus_sum(x):
    return np.sum(special.log_expit(x) * special.logsumexp(x))


def t_cdf_in_df(x, df):
    return np.sum(t.cdf(x, df))


def frozen_poisson(mu):
    return np.sum(poisson(mu).logpmf(np.array([0.0, 2.0, 5.0])) + poisson(mu).cdf(3.0))


SPD = np.array([[2.0, 0.3, 0.1], [0.3, 1.5, -0.2], [0.1, -0.2, 1.8]])


def cho_solve_of_a_moving_matrix(a):
    return np.sum(scipy.linalg.cho_solve(scipy.linalg.cho_factor(SPD + np.outer(a, a)), a) ** 2)


def lu_solve_of_a_moving_matrix(a):
    lu = scipy.linalg.lu_factor(SPD + np.outer(a, a) + np.diag(a))
    return np.sum(scipy.linalg.lu_solve(lu, a, trans=1) * a) + np.sum(np.sin(lu[0]))


def decay(y, t, k):
    return -k * y + np.sin(t) * y[::-1]


def ode_energy(p):
    """odeint in y0 (p[:2]) and in an argument (p[2])."""
    ys = scipy.integrate.odeint(decay, p[:2], np.array([0.0, 0.5, 1.1]), args=(p[2],), rtol=1e-11,
                                atol=1e-11)
    return np.sum(ys ** 2)
