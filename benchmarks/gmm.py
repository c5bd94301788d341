"""Gaussian mixture objective, as the published AD benchmark suites define it.

Parameters: ``alphas`` (K,) unnormalised log weights, ``means`` (K, d) and
``icf`` (K, d(d+1)/2), the unconstrained inverse-covariance factor of each
component: its first d entries are the logarithms of the diagonal of the
lower-triangular ``Q_k`` (so that ``Q_k^T Q_k`` is the precision matrix), the
rest its strictly lower triangle column by column. Data: ``x`` (n, d) and the
Wishart prior's ``gamma`` and ``m``. The objective is the negative
log-likelihood's sign-flipped form the suites minimise,

    n d log(2 pi) / -2 + sum_i logsumexp_k(alpha_k + sum_r q_kr - |Q_k (x_i - mu_k)|^2 / 2)
        - n logsumexp(alpha) + sum_k (gamma^2 / 2 (|exp(q_k)|^2 + |L_k|^2) - m sum_r q_kr)

(the Wishart prior's constant normaliser, which has no derivative, is left out).
``gmm_vec`` is written with whole-array NumPy, ``gmm_loop`` with scalar loops
over points, components and dimensions, as a Numba user writes it; both
compute the same number from the same arguments.
"""
from __future__ import annotations

import math

import numpy as np


def tri_index(d):
    """(d, d) integer array: entry [r, c] (r > c) is that entry's column of ``icf``; others d(d+1)/2,
    a column of zeros appended to the strict lower triangle (column-major, as the suites order it)."""
    index = np.full((d, d), d * (d - 1) // 2, dtype=np.int64)
    j = 0
    for c in range(d):
        for r in range(c + 1, d):
            index[r, c] = j
            j += 1
    return index


def gmm_vec(alphas, means, icf, x, gamma, m, index):
    """Vectorised objective: one (K, n, d) product of each Q_k with every centred point."""
    n, d = x.shape
    K = alphas.shape[0]
    logdiag = icf[:, :d]
    lower = np.concatenate((icf[:, d:], np.zeros((K, 1))), axis=1)[:, index]
    Q = lower + np.exp(logdiag)[:, :, None] * np.eye(d)
    diff = x[None, :, :] - means[:, None, :]
    z = np.matmul(diff, np.transpose(Q, (0, 2, 1)))
    main = alphas[:, None] + np.sum(logdiag, axis=1)[:, None] - 0.5 * np.sum(z * z, axis=2)
    top = np.max(main, axis=0)
    lse = top + np.log(np.sum(np.exp(main - top), axis=0))
    atop = np.max(alphas)
    lse_alpha = atop + np.log(np.sum(np.exp(alphas - atop)))
    prior = (0.5 * gamma * gamma * (np.sum(np.exp(2.0 * logdiag)) + np.sum(icf[:, d:] ** 2))
             - m * np.sum(logdiag))
    return -0.5 * n * d * math.log(2 * math.pi) + np.sum(lse) - n * lse_alpha + prior


def gmm_loop(alphas, means, icf, x, gamma, m, index):
    """The same objective with loops, laid out as the suites' loop versions are: first each
    component's diagonal of Q_k and the sum of its logarithms, then for each point, each
    component, each row of Q_k (x_i - mu_k)."""
    n, d = x.shape
    K = alphas.shape[0]
    qdiag = np.zeros((K, d))
    sumq = np.zeros(K)
    for k in range(K):
        for r in range(d):
            qdiag[k, r] = np.exp(icf[k, r])
            sumq[k] += icf[k, r]
    total = 0.0
    for i in range(n):
        terms = np.zeros(K)
        for k in range(K):
            sq = 0.0
            for r in range(d):
                v = qdiag[k, r] * (x[i, r] - means[k, r])
                for c in range(r):
                    v += icf[k, index[r, c] + d] * (x[i, c] - means[k, c])
                sq += v * v
            terms[k] = alphas[k] + sumq[k] - 0.5 * sq
        top = terms[0]
        for k in range(1, K):
            top = max(top, terms[k])
        s = 0.0
        for k in range(K):
            s += np.exp(terms[k] - top)
        total += top + np.log(s)
    atop = alphas[0]
    for k in range(1, K):
        atop = max(atop, alphas[k])
    sa = 0.0
    for k in range(K):
        sa += np.exp(alphas[k] - atop)
    prior = 0.0
    for k in range(K):
        for r in range(d):
            prior += 0.5 * gamma * gamma * qdiag[k, r] * qdiag[k, r]
        for j in range(d, icf.shape[1]):
            prior += 0.5 * gamma * gamma * icf[k, j] * icf[k, j]
        prior -= m * sumq[k]
    return -0.5 * n * d * math.log(2 * math.pi) + total - n * (atop + np.log(sa)) + prior


def gmm_hand(alphas, means, icf, x, gamma, m, index):
    """Hand-written NumPy gradient of ``gmm_vec`` with respect to alphas, means and icf."""
    n, d = x.shape
    K = alphas.shape[0]
    logdiag = icf[:, :d]
    lower = np.concatenate((icf[:, d:], np.zeros((K, 1))), axis=1)[:, index]
    qdiag = np.exp(logdiag)
    Q = lower + qdiag[:, :, None] * np.eye(d)
    diff = x[None, :, :] - means[:, None, :]
    z = np.matmul(diff, np.transpose(Q, (0, 2, 1)))
    main = alphas[:, None] + np.sum(logdiag, axis=1)[:, None] - 0.5 * np.sum(z * z, axis=2)
    p = np.exp(main - np.max(main, axis=0))
    p /= np.sum(p, axis=0)
    w = np.exp(alphas - np.max(alphas))
    g_alphas = np.sum(p, axis=1) - n * w / np.sum(w)
    dz = -p[:, :, None] * z
    dQ = np.matmul(np.transpose(dz, (0, 2, 1)), diff)
    g_means = -np.sum(np.matmul(dz, Q), axis=1)
    rows, cols = np.tril_indices(d, -1)
    order = np.argsort(index[rows, cols])
    g_icf = np.empty_like(icf)
    diag = np.arange(d)
    g_icf[:, :d] = (dQ[:, diag, diag] * qdiag + np.sum(p, axis=1)[:, None] - m
                    + gamma * gamma * qdiag * qdiag)
    g_icf[:, d:] = dQ[:, rows[order], cols[order]] + gamma * gamma * icf[:, d:]
    return g_alphas, g_means, g_icf


def gmm_data(size):
    """(alphas, means, icf, x, gamma, m, index) for ``size = (d, K)``, n = 1000 points."""
    d, K = size
    rng = np.random.default_rng(3)
    return (rng.normal(size=K), rng.normal(size=(K, d)), rng.normal(size=(K, d * (d + 1) // 2)) * 0.1,
            rng.normal(size=(1000, d)), 1.0, float(d + 1), tri_index(d))


def gmm_loop_initialised(alphas, means, icf, x, gamma, m, index):
    """``gmm_loop`` with the names first bound inside its loops (v, sq, top, s) bound to 0.0 before
    them: the same function; the form the Numba backend needed before names first bound in a
    loop got typed placeholders (see docs/benchmarks.md)."""
    n, d = x.shape
    K = alphas.shape[0]
    qdiag = np.zeros((K, d))
    sumq = np.zeros(K)
    for k in range(K):
        for r in range(d):
            qdiag[k, r] = np.exp(icf[k, r])
            sumq[k] += icf[k, r]
    total = 0.0
    v = sq = top = s = 0.0
    for i in range(n):
        terms = np.zeros(K)
        for k in range(K):
            sq = 0.0
            for r in range(d):
                v = qdiag[k, r] * (x[i, r] - means[k, r])
                for c in range(r):
                    v += icf[k, index[r, c] + d] * (x[i, c] - means[k, c])
                sq += v * v
            terms[k] = alphas[k] + sumq[k] - 0.5 * sq
        top = terms[0]
        for k in range(1, K):
            top = max(top, terms[k])
        s = 0.0
        for k in range(K):
            s += np.exp(terms[k] - top)
        total += top + np.log(s)
    atop = alphas[0]
    for k in range(1, K):
        atop = max(atop, alphas[k])
    sa = 0.0
    for k in range(K):
        sa += np.exp(alphas[k] - atop)
    prior = 0.0
    for k in range(K):
        for r in range(d):
            prior += 0.5 * gamma * gamma * qdiag[k, r] * qdiag[k, r]
        for j in range(d, icf.shape[1]):
            prior += 0.5 * gamma * gamma * icf[k, j] * icf[k, j]
        prior -= m * sumq[k]
    return -0.5 * n * d * math.log(2 * math.pi) + total - n * (atop + np.log(sa)) + prior


# -- peers ---------------------------------------------------------------------------------------
def _vec_with(xp, cat, matmul, transpose, eye):
    """``gmm_vec`` written against an array module ``xp`` (autograd.numpy, jax.numpy, torch)."""
    def objective(alphas, means, icf, x, gamma, m, index):
        n, d = x.shape
        K = alphas.shape[0]
        logdiag = icf[:, :d]
        lower = cat((icf[:, d:], xp.zeros((K, 1), dtype=icf.dtype)))[:, index]
        Q = lower + xp.exp(logdiag)[:, :, None] * eye(d)
        diff = x[None, :, :] - means[:, None, :]
        z = matmul(diff, transpose(Q))
        main = alphas[:, None] + xp.sum(logdiag, 1)[:, None] - 0.5 * xp.sum(z * z, 2)
        lse = _lse(xp, main, 0)
        prior = (0.5 * gamma * gamma * (xp.sum(xp.exp(2.0 * logdiag)) + xp.sum(icf[:, d:] ** 2))
                 - m * xp.sum(logdiag))
        return -0.5 * n * d * math.log(2 * math.pi) + xp.sum(lse) - n * _lse(xp, alphas, 0) + prior
    return objective


def _lse(xp, a, axis):
    top = a.max(axis) if xp.__name__ != "torch" else a.amax(axis)
    return top + xp.log(xp.sum(xp.exp(a - top), axis))


def autograd_vec():
    import autograd.numpy as anp
    return _vec_with(anp, lambda ts: anp.concatenate(ts, axis=1), anp.matmul,
                     lambda q: anp.transpose(q, (0, 2, 1)), anp.eye)


def jax_vec():
    import jax.numpy as jnp
    return _vec_with(jnp, lambda ts: jnp.concatenate(ts, axis=1), jnp.matmul,
                     lambda q: jnp.transpose(q, (0, 2, 1)), jnp.eye)


def torch_vec():
    import torch
    return _vec_with(torch, lambda ts: torch.cat(ts, 1), torch.matmul,
                     lambda q: q.transpose(1, 2), lambda d: torch.eye(d, dtype=torch.float64))


def jax_loop():
    """The loop objective with ``lax.fori_loop`` (static bounds, as reverse mode needs: the
    triangular inner loop runs over all d columns with the upper ones masked)."""
    import jax.numpy as jnp
    from jax import lax

    def objective(alphas, means, icf, x, gamma, m, index):
        n, d = x.shape
        K = alphas.shape[0]

        qdiag = jnp.exp(icf[:, :d])
        sumq = jnp.sum(icf[:, :d], 1)

        def row(i, k, r):
            def col(c, v):
                return v + jnp.where(c < r, icf[k, index[r, c] + d] * (x[i, c] - means[k, c]), 0.0)
            v = lax.fori_loop(0, d, col, qdiag[k, r] * (x[i, r] - means[k, r]))
            return v * v

        def term(i, k):
            sq = lax.fori_loop(0, d, lambda r, acc: acc + row(i, k, r), 0.0)
            return alphas[k] + sumq[k] - 0.5 * sq

        def point(i, total):
            terms = lax.fori_loop(0, K, lambda k, t: t.at[k].set(term(i, k)), jnp.zeros(K))
            return total + _lse(jnp, terms, 0)
        total = lax.fori_loop(0, n, point, 0.0)
        prior = (0.5 * gamma * gamma * (jnp.sum(jnp.exp(2.0 * icf[:, :d])) + jnp.sum(icf[:, d:] ** 2))
                 - m * jnp.sum(icf[:, :d]))
        return -0.5 * n * d * math.log(2 * math.pi) + total - n * _lse(jnp, alphas, 0) + prior
    return objective


def scalar_loop(module):
    """The loop objective for engines that trace Python (autograd, torch): lists instead of
    writes into an array, ``module``'s exp and log on the traced scalars."""
    import importlib
    xp = importlib.import_module(module)

    def objective(alphas, means, icf, x, gamma, m, index):
        n, d = x.shape
        K = alphas.shape[0]
        qdiag = xp.exp(icf[:, :d])
        sumq = xp.sum(icf[:, :d], 1)
        total = 0.0
        for i in range(n):
            terms = []
            for k in range(K):
                sq = 0.0
                for r in range(d):
                    v = qdiag[k, r] * (x[i, r] - means[k, r])
                    for c in range(r):
                        v = v + icf[k, int(index[r, c]) + d] * (x[i, c] - means[k, c])
                    sq = sq + v * v
                terms.append(alphas[k] + sumq[k] - 0.5 * sq)
            top = max(terms)
            total = total + top + xp.log(sum(xp.exp(t - top) for t in terms))
        return total
    return objective


def gmm_loop_hand(alphas, means, icf, x, gamma, m, index):
    """Hand-written loop gradient of ``gmm_loop`` (compiled with numba.njit as the ``numba``
    engine): per point, the rows of Q_k (x_i - mu_k) are kept for the point's components only."""
    n, d = x.shape
    K = alphas.shape[0]
    qdiag = np.exp(icf[:, :d])
    g_alphas = np.zeros(K)
    g_means = np.zeros((K, d))
    g_icf = np.zeros(icf.shape)
    rows = np.empty((K, d))
    terms = np.empty(K)
    for i in range(n):
        for k in range(K):
            sq = 0.0
            for r in range(d):
                v = qdiag[k, r] * (x[i, r] - means[k, r])
                for c in range(r):
                    v += icf[k, index[r, c] + d] * (x[i, c] - means[k, c])
                rows[k, r] = v
                sq += v * v
            terms[k] = alphas[k] + np.sum(icf[k, :d]) - 0.5 * sq
        p = np.exp(terms - np.max(terms))
        p /= np.sum(p)
        for k in range(K):
            g_alphas[k] += p[k]
            for r in range(d):
                dv = -p[k] * rows[k, r]
                g_icf[k, r] += p[k] + dv * qdiag[k, r] * (x[i, r] - means[k, r])
                g_means[k, r] -= dv * qdiag[k, r]
                for c in range(r):
                    j = index[r, c] + d
                    g_icf[k, j] += dv * (x[i, c] - means[k, c])
                    g_means[k, c] -= dv * icf[k, j]
    w = np.exp(alphas - np.max(alphas))
    g_alphas -= n * w / np.sum(w)
    g_icf[:, :d] += gamma * gamma * qdiag * qdiag - m
    g_icf[:, d:] += gamma * gamma * icf[:, d:]
    return g_alphas, g_means, g_icf
