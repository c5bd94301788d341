"""Helpers of the ``scipy.linalg`` rules (``rules/matrices.py``: matrix solves, factorisations
and functions).

SciPy is imported by the helpers that call it, when they run: importing adjoint
never imports it. Matrices are 2-D (SciPy's factorisations do not batch).
"""
from __future__ import annotations

import numpy as np

from .core import AdjointList, conj
from .linalg import _entry, cholesky_grad, cholesky_grad_dot, cholesky_jvp
from .ufuncs import mH

__all__ = ["adjoint_trans", "triangle_grad", "triangle_op", "cho_factor_grad", "cho_factor_jvp",
           "cho_solve_grad", "cho_solve_jvp", "lu_factor_grad", "lu_factor_jvp", "lu_solve_grad",
           "lu_solve_jvp", "frechet_expm", "frechet_expm2"]

_TRANS = {0: 0, 1: 1, 2: 2, "N": 0, "T": 1, "C": 2}


def _linalg():
    import scipy.linalg
    return scipy.linalg


def adjoint_trans(trans, a):
    """The ``trans`` of the solve with op(A)^H, the adjoint of a solve with op(A):
    op(A)^-H is A^-H (2) for op = N and A^-1 (0) for T or C; a real A^H is A^T (1)."""
    code = _TRANS[trans]
    if np.iscomplexobj(a):
        if code == 1:
            raise NotImplementedError("the adjoint of a transposed solve of a complex matrix")
        return 2 - code
    return 1 if code == 0 else 0


def _op(m, trans):
    """op(m): m, its transpose or its conjugate transpose."""
    code = _TRANS[trans]
    return m if code == 0 else m.T if code == 1 else conj(m.T)


def _triangle(m, lower, unit_diagonal=False):
    """The triangle of ``m`` a triangular solve reads (without the diagonal if it is unit)."""
    k = 1 if unit_diagonal else 0
    return np.tril(m, -k) if lower else np.triu(m, k)


def _outer(u, x):
    """``u x^H`` for vectors or matrices of right-hand sides."""
    return np.outer(u, conj(x)) if np.ndim(u) == 1 else u @ mH(x)


def triangle_grad(gb, x, trans=0, lower=False, unit_diagonal=False):
    """The adjoint of A in ``x = solve_triangular(A, b)``, given ``gb``, the adjoint of b:
    op(A) gets ``-gb x^H``, and A the part of it on the triangle read."""
    return _triangle(_op(-_outer(gb, x), trans), lower, unit_diagonal)


def triangle_op(t, trans=0, lower=False, unit_diagonal=False):
    """op of the triangle of ``t`` a triangular solve reads: the matrix it applies."""
    return _op(_triangle(t, lower, unit_diagonal), trans)


def _factor(c, lower):
    return np.tril(c) if lower else np.triu(c)


def cho_factor_grad(g, a, ans, lower=False):
    """Adjoint of ``cho_factor``: its factor is the Cholesky factor on one triangle; the
    other triangle keeps ``a``'s entries, which pass their adjoint on unchanged."""
    c = ans[0]
    gc = _entry(g[0], c)
    rest = np.triu(gc, 1) if lower else np.tril(gc, -1)
    return cholesky_grad(_factor(gc, lower), _factor(c, lower), not lower) + rest


def cho_factor_jvp(t, a, ans, lower=False):
    """Tangent of ``cho_factor``: the factor's on its triangle, ``t``'s own on the other."""
    c = ans[0]
    rest = np.triu(t, 1) if lower else np.tril(t, -1)
    return AdjointList([cholesky_jvp(t, _factor(c, lower), not lower) + rest, 0.0])


def _gram(f, df, lower):
    """The tangent of A = F F^H (lower) or F^H F (upper) along ``df``."""
    return df @ mH(f) + f @ mH(df) if lower else mH(df) @ f + mH(f) @ df


def cho_solve_grad(g, c_and_lower, b, ans):
    """Adjoint of the factor in ``cho_solve((c, lower), b)``: A = L L^H gets ``-gb x^H``,
    and ``L`` gets ``(A_bar + A_bar^H) L`` (``U (A_bar + A_bar^H)`` for A = U^H U)."""
    c, lower = c_and_lower
    f = _factor(c, lower)
    ga = -_outer(_linalg().cho_solve(c_and_lower, g), ans)
    sym = ga + mH(ga)
    return AdjointList([_factor(sym @ f if lower else f @ sym, lower), 0.0])


def cho_solve_jvp(t, c_and_lower, ans):
    """Tangent of ``cho_solve`` along a tangent ``t = (dc, 0)`` of its factor: ``-A^-1 dA x``."""
    c, lower = c_and_lower
    da = _gram(_factor(c, lower), _factor(t[0], lower), lower)
    return -_linalg().cho_solve(c_and_lower, da @ ans)


def _perm(piv):
    """The rows of A that LAPACK's interchanges ``piv`` bring to the top: ``A[perm] = L U``."""
    perm = np.arange(len(piv))
    for i, p in enumerate(piv):
        perm[i], perm[p] = perm[p], perm[i]
    return perm


def _lu_parts(lu):
    n = lu.shape[-1]
    return np.tril(lu, -1) + np.eye(n, dtype=lu.dtype), np.triu(lu)


def lu_factor_grad(g, a, ans):
    """Adjoint of ``lu_factor`` (A[perm] = L U, L unit lower, both held in ``lu``):
    ``A[perm]_bar = L^-H (tril(L^H L_bar, -1) + triu(U_bar U^H)) U^-H``."""
    lu, piv = ans
    glu = _entry(g[0], lu)
    low, up = _lu_parts(lu)
    mid = np.tril(mH(low) @ np.tril(glu, -1), -1) + np.triu(np.triu(glu) @ mH(up))
    out = np.empty_like(mid)
    out[_perm(piv)] = np.linalg.solve(mH(low), mH(np.linalg.solve(up, mH(mid))))
    return out


def lu_factor_jvp(t, a, ans):
    """Tangent of ``lu_factor``: with ``F = L^-1 dA[perm] U^-1``, ``d lu = L tril(F, -1) + triu(F) U``."""
    lu, piv = ans
    low, up = _lu_parts(lu)
    f = np.linalg.solve(low, t[_perm(piv)]) @ np.linalg.inv(up)
    return AdjointList([low @ np.tril(f, -1) + np.triu(f) @ up, np.zeros(np.shape(piv))])


def lu_solve_grad(g, lu_and_piv, b, ans, trans=0):
    """Adjoint of the factors in ``lu_solve((lu, piv), b)``: A gets the adjoint of a solve,
    and, through A[perm] = L U, ``L_bar = A_bar[perm] U^H`` and ``U_bar = L^H A_bar[perm]``."""
    lu, piv = lu_and_piv
    gb = _linalg().lu_solve(lu_and_piv, g, adjoint_trans(trans, lu))
    ga = _op(-_outer(gb, ans), trans)[_perm(piv)]
    low, up = _lu_parts(lu)
    return AdjointList([np.tril(ga @ mH(up), -1) + np.triu(mH(low) @ ga), 0.0])


def lu_solve_jvp(t, lu_and_piv, ans, trans=0):
    """Tangent of ``lu_solve`` along a tangent ``t = (dlu, 0)``: ``-op(A)^-1 op(dA) x``."""
    lu, piv = lu_and_piv
    low, up = _lu_parts(lu)
    da = np.empty_like(t[0])
    da[_perm(piv)] = np.tril(t[0], -1) @ up + low @ np.triu(t[0])
    return -_linalg().lu_solve(lu_and_piv, _op(da, trans) @ ans, trans)


def frechet_expm(a, e):
    """The Frechet derivative of ``expm`` at ``a`` along ``e``: the tangent of ``expm``, and at
    ``a^H`` applied to ``g`` its adjoint."""
    return _linalg().expm_frechet(a, e, compute_expm=False)


def frechet_expm2(a, e, t):
    """The derivative of ``frechet_expm(a, e)`` in ``a`` along ``t``: since f([[X, Y], [0, X]])
    holds the derivative of f at X along Y top right, with X = [[a, e], [0, a]] and Y = t on
    the block diagonal the top-right block of that derivative is it."""
    n = np.shape(a)[-1]
    zero = np.zeros_like(a)
    block = np.block([[a, e], [zero, a]])
    along = np.block([[t, zero], [zero, t]])
    return frechet_expm(block, along)[:n, n:]


# -- tangents of the factorisations' adjoints (second order: forward mode over the gradient) ------
__all__ += ["cho_factor_grad_dot", "cho_solve_grad_dot", "lu_factor_grad_dot", "lu_solve_grad_dot"]


def _first_tangent(t, like):
    """The tangent of the array in a pair ``(factor, flag)``: ``t[0]``, zeros for ``0.0``."""
    if isinstance(t, (list, tuple)):
        return np.broadcast_to(t[0], np.shape(like))
    return np.zeros(np.shape(like), dtype=np.result_type(like, float))


def cho_factor_grad_dot(g, a, ans, lower=False, ans_dot=0.0):
    """Tangent of ``cho_factor_grad`` along the factor's tangent: only the Cholesky part moves."""
    c = ans[0]
    gc = _entry(g[0], c)
    dc = _first_tangent(ans_dot, c)
    return cholesky_grad_dot(_factor(gc, lower), _factor(c, lower), not lower, _factor(dc, lower))


def _cho_solve_parts(g, c_and_lower, ans, t_c, t_x):
    """``(f, df, sym, dsym)``: the factor, the part of ``A_bar + A_bar^H`` it is multiplied by,
    and their tangents, ``A = F F^H`` moving by ``_gram(F, dF)``."""
    c, lower = c_and_lower
    f, df = _factor(c, lower), _factor(_first_tangent(t_c, c), lower)
    dx = np.broadcast_to(t_x, np.shape(ans))
    gb = _linalg().cho_solve(c_and_lower, g)
    dgb = -_linalg().cho_solve(c_and_lower, _gram(f, df, lower) @ gb)
    ga, dga = -_outer(gb, ans), -_outer(dgb, ans) - _outer(gb, dx)
    return f, df, ga + mH(ga), dga + mH(dga)


def cho_solve_grad_dot(g, c_and_lower, b, ans, c_dot=0.0, ans_dot=0.0):
    """Tangent of ``cho_solve_grad`` along the factor's and the solution's tangents."""
    lower = c_and_lower[1]
    f, df, sym, dsym = _cho_solve_parts(g, c_and_lower, ans, c_dot, ans_dot)
    moved = dsym @ f + sym @ df if lower else df @ sym + f @ dsym
    return AdjointList([_factor(moved, lower), 0.0])


def _lu_tangents(lu, t):
    """``(dL, dU)`` from a tangent of ``lu`` (strict lower part and upper part)."""
    dlu = _first_tangent(t, lu)
    return np.tril(dlu, -1), np.triu(dlu)


def lu_factor_grad_dot(g, a, ans, ans_dot=0.0):
    """Tangent of ``lu_factor_grad``: with ``X = L^-H M U^-H``,
    ``dX = -L^-H dL^H X + L^-H dM U^-H - X dU^H U^-H``."""
    lu, piv = ans
    glu = _entry(g[0], lu)
    low, up = _lu_parts(lu)
    d_low, d_up = _lu_tangents(lu, ans_dot)
    mid = np.tril(mH(low) @ np.tril(glu, -1), -1) + np.triu(np.triu(glu) @ mH(up))
    d_mid = np.tril(mH(d_low) @ np.tril(glu, -1), -1) + np.triu(np.triu(glu) @ mH(d_up))
    x = np.linalg.solve(mH(low), mH(np.linalg.solve(up, mH(mid))))
    inner = mH(np.linalg.solve(up, mH(d_mid))) - mH(d_low) @ x
    out = np.empty_like(x)
    out[_perm(piv)] = np.linalg.solve(mH(low), inner) - mH(np.linalg.solve(up, d_up @ mH(x)))
    return out


def lu_solve_grad_dot(g, lu_and_piv, b, ans, trans=0, lu_dot=0.0, ans_dot=0.0):
    """Tangent of ``lu_solve_grad`` along the factors' and the solution's tangents:
    ``gb`` moves by ``-op(A)^-H op(dA)^H gb``, with ``dA[perm] = dL U + L dU``."""
    lu, piv = lu_and_piv
    perm, back = _perm(piv), adjoint_trans(trans, lu)
    low, up = _lu_parts(lu)
    d_low, d_up = _lu_tangents(lu, lu_dot)
    da = np.empty_like(lu, dtype=np.result_type(lu, d_low))
    da[perm] = d_low @ up + low @ d_up
    dx = np.broadcast_to(ans_dot, np.shape(ans))
    gb = _linalg().lu_solve(lu_and_piv, g, back)
    dgb = -_linalg().lu_solve(lu_and_piv, _op(da, back) @ gb, back)
    ga = _op(-_outer(gb, ans), trans)[perm]
    dga = _op(-_outer(dgb, ans) - _outer(gb, dx), trans)[perm]
    return AdjointList([np.tril(dga @ mH(up) + ga @ mH(d_up), -1)
                        + np.triu(mH(d_low) @ ga + mH(low) @ dga), 0.0])
