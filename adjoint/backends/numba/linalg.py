"""Numba twins of ``adjoint/runtime/linalg.py``, for real matrices (rank 2; a batched stack of
them gets no implementation and runs on NumPy)."""
from __future__ import annotations

import numba
import numpy as np
from numba import types
from numba.extending import overload

from ... import runtime
from .kinds import (array, complex_number, integer, left_out, none, number, numeric, real_array,
                    tuple_of, twin)


def matrix(t):
    return real_array(t) and t.ndim == 2


@twin(runtime.det_grad)
def _det_grad(g, a, ans):
    """``g det(a) inv(a)^T`` for one real matrix."""
    if number(g) and matrix(a) and number(ans):
        return lambda g, a, ans: (g * ans) * np.linalg.inv(a).T


@twin(runtime.solve_grad)
def _solve_grad(g, a, b, ans, wrt="b"):
    """``b`` gets ``solve(a^T, g)``, ``a`` gets ``-b_bar x^T``, for a vector or a matrix ``b``.
    ``wrt`` must be known when Numba types the call (the generated code names it)."""
    which = getattr(wrt, "literal_value", None)
    if not (matrix(a) and real_array(b) and b.ndim <= 2 and array(g) and g.ndim == b.ndim):
        return None
    if which == "b":
        return lambda g, a, b, ans, wrt="b": np.linalg.solve(np.ascontiguousarray(a.T), g)
    if which == "a" and b.ndim == 1:
        return lambda g, a, b, ans, wrt="b": -np.outer(np.linalg.solve(np.ascontiguousarray(a.T), g), ans)
    if which == "a":
        return lambda g, a, b, ans, wrt="b": -np.dot(np.linalg.solve(np.ascontiguousarray(a.T), g),
                                                     np.ascontiguousarray(ans.T))


# -- the adjoints of the decompositions (real matrices; a batched stack gets None) -----------
def present(g, like):
    """One output's adjoint as an array shaped like ``like``: ``0.0`` or None (an unused
    output) is zeros, a number is spread, an array broadcast (``runtime.linalg._entry``)."""
    if g is None:
        return np.zeros(np.shape(like))
    return np.array(np.broadcast_to(g, np.shape(like)), float)


def used(g):
    """Whether an output's adjoint is nonzero somewhere (None: an unused output)."""
    return g is not None and bool(np.any(g))


@overload(present)
def _present(g, like):
    if none(g) and array(like):
        return lambda g, like: np.zeros(like.shape)
    if number(g) and array(like):
        return lambda g, like: np.full(like.shape, g)
    if real_array(g) and array(like):
        return lambda g, like: np.ascontiguousarray(np.broadcast_to(g, like.shape))


@overload(used)
def _used(g):
    if none(g):
        return lambda g: False
    if number(g):
        return lambda g: g != 0
    if real_array(g):
        return lambda g: np.any(g)


def part(t):
    """A cotangent's item the twins take: an array, a number or None."""
    return none(t) or number(t) or real_array(t)


@numba.njit(cache=True, error_model="numpy")
def gaps(w):
    """``F[i, j] = 1 / (w[j] - w[i])`` off the diagonal, 0 on it (inf at a tie, as NumPy)."""
    n = w.size
    out = np.zeros((n, n))
    for i in range(n):
        for j in range(n):
            if i != j:
                out[i, j] = 1.0 / (w[j] - w[i])
    return out


@numba.njit(cache=True)
def lower_read(full, upper):
    """A symmetric matrix's adjoint on the triangle LAPACK reads (the lower one unless ``upper``):
    the diagonal, and each strict entry plus its mirror."""
    n = full.shape[0]
    out = np.zeros((n, n))
    for i in range(n):
        out[i, i] = full[i, i]
        for j in range(i):
            if upper:
                out[j, i] = full[j, i] + full[i, j]
            else:
                out[i, j] = full[i, j] + full[j, i]
    return out


@numba.njit(cache=True)
def phi(x):
    """The lower triangle of ``x`` with the diagonal halved."""
    out = np.tril(x)
    for i in range(x.shape[0]):
        out[i, i] = x[i, i] - x[i, i] / 2
    return out


@numba.njit(cache=True)
def copyltu(m):
    """The symmetric matrix of ``m``'s lower triangle."""
    low = np.tril(m, -1)
    out = low + low.T
    for i in range(m.shape[0]):
        out[i, i] += m[i, i]
    return out


@numba.njit(cache=True)
def pinv_adjoint(g, a, x):
    """``-X^T G X^T + (I - A X) G^T X X^T + X^T X G^T (I - X A)`` for ``X = pinv(A)``."""
    eye_m, eye_n = np.eye(a.shape[0]), np.eye(a.shape[1])
    return (-x.T @ g @ x.T + (eye_m - a @ x) @ g.T @ x @ x.T
            + x.T @ x @ g.T @ (eye_n - x @ a))


@numba.njit(cache=True)
def values_adjoint(u, gs, vh):
    """``U diag(g_s) V^T``: the singular values' part of the SVD's adjoint."""
    k = gs.size
    return np.ascontiguousarray(u[:, :k]) * gs.reshape((1, k)) @ np.ascontiguousarray(vh[:k, :])


@numba.njit(cache=True)
def qr_tall(q, r, gq, gr):
    """The QR adjoint of a matrix with at least as many rows as columns (Liao et al. 2019)."""
    m = r @ gr.T - gq.T @ q
    rhs = gq + q @ copyltu(m)
    return np.linalg.solve(r, np.ascontiguousarray(rhs.T)).T


@twin(runtime.cholesky_grad)
def _cholesky_grad(g, ans, upper=False):
    """Murray's ``L^-T phi(L^T G) L^-1``, symmetrized, on the triangle NumPy reads."""
    if matrix(g) and matrix(ans) and (isinstance(upper, types.Boolean) or left_out(upper, False)):
        def impl(g, ans, upper=False):
            if upper:
                L, gL = np.ascontiguousarray(ans.T), np.ascontiguousarray(g.T)
            else:
                L, gL = np.ascontiguousarray(ans), np.ascontiguousarray(g)
            inv_l = np.linalg.inv(L)
            s = inv_l.T @ phi(L.T @ gL) @ inv_l
            return lower_read((s + s.T) / 2, upper)
        return impl


@twin(runtime.eigh_grad)
def _eigh_grad(g, a, ans, UPLO="L"):
    """``V (diag(g_w) + F o (V^T g_V)) V^T`` on the triangle ``UPLO`` (a literal) of ``a``; the
    eigenvector term only where their adjoint is nonzero. ``ans`` is ``(w, v)`` for ``eigh``
    (``g`` the pair of adjoints), the eigenvalues for ``eigvalsh`` (recomputed with vectors)."""
    uplo = "L" if left_out(UPLO, "L") else getattr(UPLO, "literal_value", None)
    if uplo not in ("L", "U") or not matrix(a):
        return None
    upper = uplo == "U"
    if real_array(ans) and ans.ndim == 1 and (number(g) or real_array(g) and g.ndim <= 1):
        def impl(g, a, ans, UPLO="L"):
            w, v = np.linalg.eigh(np.ascontiguousarray(a.T) if upper else a)
            mid = np.diag(present(g, w))
            return lower_read(v @ mid @ v.T, upper)
        return impl
    if tuple_of(ans) and len(ans) == 2 and tuple_of(g) and len(g) == 2 and all(map(part, g)):
        def impl(g, a, ans, UPLO="L"):
            w, v = ans
            mid = np.diag(present(g[0], w))
            if used(g[1]):
                mid = mid + gaps(w) * (v.T @ present(g[1], v))
            return lower_read(v @ mid @ v.T, upper)
        return impl


@twin(runtime.svd_grad)
def _svd_grad(g, a, ans, full_matrices=True, compute_uv=True):
    """Singular values: ``U diag(g_s) V^T``, ``ans`` their array (``compute_uv=False``, the SVD
    recomputed). With vectors, ``ans`` and ``g`` the triples ``(u, s, vh)``: Townsend's terms
    where the vectors' adjoints are nonzero, an error where they reach the extra vectors
    ``full_matrices`` adds."""
    if not (matrix(a) and _flag(full_matrices, True) and _flag(compute_uv, True)):
        return None
    if real_array(ans) and ans.ndim == 1 and (number(g) or real_array(g) and g.ndim <= 1):
        def impl(g, a, ans, full_matrices=True, compute_uv=True):
            u, s, vh = np.linalg.svd(a, full_matrices=False)
            return values_adjoint(u, present(g, s), vh)
        return impl
    if tuple_of(ans) and len(ans) == 3 and tuple_of(g) and len(g) == 3 and all(map(part, g)) \
            and not left_out(compute_uv, False):
        def impl(g, a, ans, full_matrices=True, compute_uv=True):
            u_all, s, vh_all = ans
            k = s.size
            m, n = a.shape
            gu_all, gvh_all = present(g[0], u_all), present(g[2], vh_all)
            vectors = used(g[0]) or used(g[2])
            if vectors and (np.any(gu_all[:, k:]) or np.any(gvh_all[k:, :])):
                raise ValueError("adjoint: the singular vectors beyond min(m, n) that "
                                 "np.linalg.svd(a, full_matrices=True) adds are not unique: "
                                 "no derivative")
            out = values_adjoint(u_all, present(g[1], s), vh_all)
            if not vectors:
                return out
            u, vh = np.ascontiguousarray(u_all[:, :k]), np.ascontiguousarray(vh_all[:k, :])
            gu, gv = np.ascontiguousarray(gu_all[:, :k]), np.ascontiguousarray(gvh_all[:k, :].T)
            v = vh.T
            f = gaps(s ** 2)
            utgu, vtgv = u.T @ gu, v.T @ gv
            row, col = np.ascontiguousarray(s).reshape((1, k)), np.ascontiguousarray(s).reshape((k, 1))
            mid = (f * (utgu - utgu.T)) * row + col * (f * (vtgv - vtgv.T))
            out = out + u @ mid @ vh
            if m > k:
                out = out + ((gu - u @ utgu) / row) @ vh
            if n > k:
                out = out + u @ ((gv.T - gv.T @ v @ vh) / col)
            return out
        return impl


def _flag(t, default):
    """A boolean argument, given or left out."""
    return isinstance(t, types.Boolean) or left_out(t, default)


@twin(runtime.qr_grad)
def _qr_grad(g, a, ans, mode="reduced"):
    """Liao et al.'s QR adjoint for a literal ``mode``: ``'reduced'`` (or ``'complete'`` of a
    wide matrix) with ``ans`` and ``g`` the pairs ``(q, r)``, ``'r'`` with ``q`` recomputed. A
    wide matrix ``[X | Y]`` takes the square block's adjoint with ``Y``'s term."""
    which = "reduced" if left_out(mode, "reduced") else getattr(mode, "literal_value", None)
    if not matrix(a):
        return None
    if which == "r" and matrix(ans) and matrix(g):
        def impl(g, a, ans, mode="reduced"):
            q, r = np.linalg.qr(a)
            return _qr_adjoint(a, q, r, np.zeros(q.shape), present(g, r))
        return impl
    if which in ("reduced", "complete") and tuple_of(ans) and len(ans) == 2 and tuple_of(g) \
            and len(g) == 2 and all(map(part, g)):
        complete = which == "complete"
        def impl(g, a, ans, mode="reduced"):
            q, r = ans
            if complete and a.shape[0] > a.shape[1]:
                raise ValueError("adjoint: no derivative for np.linalg.qr with mode='complete'")
            return _qr_adjoint(a, q, r, present(g[0], q), present(g[1], r))
        return impl


@numba.njit(cache=True)
def _qr_adjoint(a, q, r, gq, gr):
    m, n = a.shape
    if m >= n:
        return qr_tall(q, r, gq, gr)
    y, u = np.ascontiguousarray(a[:, m:]), np.ascontiguousarray(r[:, :m])
    gu, gv = np.ascontiguousarray(gr[:, :m]), np.ascontiguousarray(gr[:, m:])
    gx = qr_tall(q, u, gq + y @ gv.T, gu)
    return np.concatenate((gx, q @ gv), axis=1)


@twin(runtime.pinv_grad)
def _pinv_grad(g, a, ans):
    """Golub and Pereyra's adjoint of the pseudo-inverse (constant rank)."""
    if matrix(g) and matrix(a) and matrix(ans):
        return lambda g, a, ans: pinv_adjoint(np.ascontiguousarray(g), np.ascontiguousarray(a),
                                              np.ascontiguousarray(ans))


def times_t(x, y):
    """``x y^T``: the outer product of two vectors, or the product of two matrices."""
    return np.outer(x, y) if np.ndim(x) == 1 else x @ np.transpose(y)


@overload(times_t)
def _times_t(x, y):
    if real_array(x) and real_array(y) and x.ndim == y.ndim == 1:
        return lambda x, y: np.outer(x, y)
    if real_array(x) and real_array(y) and x.ndim == y.ndim == 2:
        return lambda x, y: np.ascontiguousarray(x) @ np.ascontiguousarray(y).T


@twin(runtime.lstsq_grad)
def _lstsq_grad(g, a, b, ans, wrt="a"):
    """``ans`` and ``g`` the quadruples ``(x, residuals, rank, s)``: ``b`` gets
    ``pinv(a)^T g_x + 2 r g_res``, ``a`` the pseudo-inverse's adjoint of ``g_x b^T``, less
    ``2 (r g_res) x^T``, plus the singular values' (``r = b - a x``; a literal ``wrt``)."""
    which = getattr(wrt, "literal_value", None)
    if not (matrix(a) and real_array(b) and b.ndim <= 2 and tuple_of(ans) and len(ans) == 4
            and tuple_of(g) and len(g) == 4 and part(g[0]) and part(g[3])
            and (none(g[1]) or real_array(g[1]))):
        return None
    if which == "b":
        def impl(g, a, b, ans, wrt="a"):
            x, res, _, s = ans
            out = np.linalg.pinv(a).T @ present(g[0], x)
            gres = present(g[1], res)
            if used(gres):
                return out + 2 * (b - a @ x) * gres
            return out
        return impl
    if which == "a":
        def impl(g, a, b, ans, wrt="a"):
            x, res, _, s = ans
            gx, gres = present(g[0], x), present(g[1], res)
            out = pinv_adjoint(times_t(gx, b), np.ascontiguousarray(a), np.linalg.pinv(a))
            if used(gres):
                out = out - 2 * times_t((b - a @ x) * gres, x)
            if used(g[3]):
                u, _, vh = np.linalg.svd(a, full_matrices=False)
                out = out + values_adjoint(u, present(g[3], s), vh)
            return out
        return impl


@twin(runtime.matrix_power_grad)
def _matrix_power_grad(g, a, n):
    """``sum_k (a^T)^k g (a^T)^(n-1-k)``; for ``n < 0`` that of ``inv(a)`` and ``-n``, turned by
    ``-inv(a)^T ... inv(a)^T``."""
    if matrix(g) and matrix(a) and integer(n):
        def impl(g, a, n):
            base = np.ascontiguousarray(np.linalg.inv(a)) if n < 0 else np.ascontiguousarray(a)
            out = _power_sum(np.ascontiguousarray(g), base, abs(n))
            return -base.T @ out @ base.T if n < 0 else out
        return impl


@numba.njit(cache=True)
def _power_sum(g, a, n):
    size = a.shape[0]
    powers = np.empty((max(n, 1), size, size))
    powers[0] = np.eye(size)
    for k in range(1, n):
        powers[k] = powers[k - 1] @ a.T
    out = np.zeros((size, size))
    for k in range(n):
        out = out + powers[k] @ g @ powers[n - 1 - k]
    return out


@twin(runtime.kron_grad)
def _kron_grad(g, k, a, b):
    """``g`` read as blocks ``G[i, c, j, d]`` (row ``i c``, column ``j d``) contracted with the
    other operand, for vectors and matrices (a vector is a row); ``k`` a literal 0 or 1."""
    which = getattr(k, "literal_value", None)
    if not (real_array(g) and real_array(a) and real_array(b) and 1 <= a.ndim <= 2
            and 1 <= b.ndim <= 2 and which in (0, 1)):
        return None
    if which == 0:
        return lambda g, k, a, b: _kron_part(_blocks(g, a, b), _as_row(b), True).reshape(a.shape)
    return lambda g, k, a, b: _kron_part(_blocks(g, a, b), _as_row(a), False).reshape(b.shape)


@numba.njit(cache=True)
def _blocks(g, a, b):
    x, y = _as_row(a), _as_row(b)
    return np.ascontiguousarray(g).reshape((x.shape[0], y.shape[0], x.shape[1], y.shape[1]))


@numba.njit(cache=True)
def _as_row(x):
    """A vector as a matrix of one row; a matrix as itself."""
    return np.ascontiguousarray(x).reshape((1, x.size) if x.ndim == 1 else (x.shape[0], x.shape[-1]))


@numba.njit(cache=True)
def _kron_part(blocks, other, first):
    """``sum G[i, c, j, d] other[c, d]`` over ``c, d`` (``first``), else ``other[i, j]`` over ``i, j``."""
    p, q, r, s = blocks.shape
    out = np.zeros((p, r) if first else (q, s))
    for i in range(p):
        for c in range(q):
            for j in range(r):
                for d in range(s):
                    if first:
                        out[i, j] += blocks[i, c, j, d] * other[c, d]
                    else:
                        out[c, d] += blocks[i, c, j, d] * other[i, j]
    return out


@twin(runtime.conv_margins)
def _conv_margins(a, v, mode="full", correlate=False):
    """The zeros before and after the ``mode`` output of ``np.convolve``/``np.correlate`` in
    the full one."""
    if array(a) and array(v) and (isinstance(mode, (types.UnicodeType, types.StringLiteral))
                                  or left_out(mode, "full")) \
            and _flag(correlate, False):
        def impl(a, v, mode="full", correlate=False):
            n, m = a.size, v.size
            if mode == "full":
                size, start = n + m - 1, 0
            elif mode == "same":
                size = max(n, m)
                start = n // 2 if correlate and n < m else (min(n, m) - 1) // 2
            elif mode == "valid":
                size, start = max(n, m) - min(n, m) + 1, min(n, m) - 1
            else:
                raise ValueError("mode must be 'full', 'same' or 'valid'")
            return start, n + m - 1 - start - size
        return impl


@twin(runtime.eig_vector_cotangent)
def _eig_vector_cotangent(v_bar, a, w):
    """The real part of ``v_bar``'s columns at real eigenvalues of a real ``a`` (all of them:
    Numba's ``eig`` of a real matrix gives real ones or an error); a complex ``a``'s ``v_bar``
    unchanged."""
    if array(a) and complex_number(a.dtype) and numeric(v_bar):
        return lambda v_bar, a, w: v_bar
    if matrix(a) and array(v_bar) and v_bar.ndim == 2 and array(w) and w.ndim == 1:
        def impl(v_bar, a, w):
            out = v_bar.copy()
            for j in range(w.size):
                if w[j].imag == 0:
                    out[:, j] = v_bar[:, j].real
            return out
        return impl


@twin(runtime.phase_free)
def _phase_free(m):
    """``m`` itself, once its diagonal is checked real (always for a real ``m``)."""
    if real_array(m):
        return lambda m: m
    if array(m) and m.ndim == 2:
        def impl(m):
            if np.any(np.abs(np.diag(m).imag) > 1e-6 * max(1.0, np.max(np.abs(m)))):
                raise ValueError("adjoint: the loss depends on the phases of np.linalg.eig's "
                                 "eigenvectors, which NumPy chooses arbitrarily: its gradient "
                                 "does not exist (use, e.g., their absolute values)")
            return m
        return impl
