"""Functions calling SciPy, for tests/test_scipy_rules.py (adjoint reads their source)."""
import numpy as np
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
