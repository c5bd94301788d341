"""Helpers of the contraction and linear-algebra rules (``rules/linalg.py``).
"""
from __future__ import annotations

import string as _string

import numpy as np

from .core import AdjointList, conj, unbroadcast
from .ufuncs import mH, mT

__all__ = [
    "solve_grad_dot", "matrix_power_grad_dot", "cholesky_grad_dot", "eigh_grad_dot", "pinv_grad_dot",
    "svd_grad_dot", "qr_grad_dot", "lstsq_grad_dot",
    "einsum_grad", "tensordot_grad", "inner_grad", "kron_grad", "solve_grad", "det_grad",
    "cholesky_grad", "cholesky_jvp", "eigh_grad", "eigh_jvp", "qr_grad", "qr_jvp", "svd_grad",
    "svd_jvp", "pinv_grad", "pinv_jvp", "lstsq_grad", "lstsq_jvp", "matrix_power_grad",
    "matrix_power_jvp",
]


# -- contractions ---------------------------------------------------------------------
def _einsum_spec(subscripts, shapes):
    """Explicit form of ``subscripts``: one letter string per operand (ellipses spelled
    out) and the output's letters."""
    spec = subscripts.replace(" ", "")
    ins, out = spec.split("->") if "->" in spec else (spec, None)
    ins = ins.split(",")
    spare = [c for c in _string.ascii_letters if c not in spec]
    n_ell = max([len(shape) - len(s.replace("...", "")) for s, shape in zip(ins, shapes)
                 if "..." in s] or [0])
    ell = "".join(spare[:n_ell])
    full = []
    for s, shape in zip(ins, shapes):
        if "..." in s:
            k = len(shape) - len(s.replace("...", ""))
            s = s.replace("...", ell[n_ell - k:])
        full.append(s)
    if out is None:
        letters = "".join(ins).replace(".", "")
        out = ell + "".join(sorted(c for c in set(letters) if letters.count(c) == 1))
    else:
        out = out.replace("...", ell)
    return full, out


def _interleaved(args):
    """``np.einsum(x, [0, 1], y, [1, 2], [0, 2])`` as ``['ab,bc->ac', x, y]``."""
    args = list(args)
    while args and args[-1] is None:
        args.pop()
    def letters(sub):
        return "".join("..." if i is Ellipsis else _string.ascii_letters[i] for i in sub)
    spec = ",".join(letters(sub) for sub in args[1::2][:len(args) // 2])
    if len(args) % 2:
        spec += "->" + letters(args[-1])
    return [spec, *args[0::2][:(len(args) + 1) // 2 - len(args) % 2]]


def einsum_grad(g, k, subscripts, *operands):
    """Adjoint of ``np.einsum(subscripts, *operands)`` for operand ``k``.

    The adjoint contracts ``g`` with the other operands (conjugated), then
    spreads it over letters only operand k had, sums broadcast axes, and puts
    repeated letters (``'ii->i'``) back on their diagonal.
    """
    if isinstance(subscripts, str):
        ops = [o for o in operands if o is not None]
    else:  # the interleaved form: k + 1 is the argument's position
        (subscripts, *ops), k = _interleaved([subscripts, *operands]), (k + 1) // 2
    ins, out = _einsum_spec(subscripts, [np.shape(o) for o in ops])
    x, sub = ops[k], ins[k]
    sizes = {}
    for s, o in zip(ins, ops):
        for c, n in zip(s, np.shape(o)):
            sizes[c] = max(sizes.get(c, 1), n)
    unique = "".join(dict.fromkeys(sub))
    others = [(s, conj(o)) for i, (s, o) in enumerate(zip(ins, ops)) if i != k]
    known = set(out).union(*[set(s) for s, _ in others])
    target = "".join(c for c in unique if c in known)
    g = np.broadcast_to(g, [sizes[c] for c in out])
    spec = ",".join([out] + [s for s, _ in others]) + "->" + target
    r = np.einsum(spec, g, *[o for _, o in others], optimize=len(ops) > 2)
    r = np.reshape(r, [sizes[c] if c in target else 1 for c in unique])
    dims = [np.shape(x)[sub.index(c)] for c in unique]
    summed = tuple(i for i, (n, d) in enumerate(zip(r.shape, dims)) if d == 1 and n != 1)
    if summed:
        r = np.sum(r, axis=summed, keepdims=True)
    r = np.broadcast_to(r, dims)
    if len(unique) == len(sub):
        return np.transpose(r, [unique.index(c) for c in sub]) if unique != sub else r
    full = np.zeros(np.shape(x), dtype=r.dtype)
    np.einsum(f"{sub}->{unique}", full)[...] = r  # a writeable view of the diagonal
    return full


def _tensordot_subscripts(na, nb, axes):
    if np.ndim(axes) == 0:
        axes = (list(range(na - axes, na)), list(range(axes)))
    a_ax, b_ax = ([axes[0]] if np.ndim(axes[0]) == 0 else list(axes[0]),
                  [axes[1]] if np.ndim(axes[1]) == 0 else list(axes[1]))
    a_ax, b_ax = [i % na for i in a_ax], [i % nb for i in b_ax]
    letters = iter(_string.ascii_letters)
    sa = [next(letters) for _ in range(na)]
    sb = [next(letters) for _ in range(nb)]
    for i, j in zip(a_ax, b_ax):
        sb[j] = sa[i]
    out = [c for i, c in enumerate(sa) if i not in a_ax] + [c for j, c in enumerate(sb) if j not in b_ax]
    return f"{''.join(sa)},{''.join(sb)}->{''.join(out)}"


def tensordot_grad(g, k, a, b, axes=2):
    """Adjoint of ``np.tensordot(a, b, axes)`` for operand ``k`` (0 or 1), as an einsum."""
    return einsum_grad(g, k, _tensordot_subscripts(np.ndim(a), np.ndim(b), axes), a, b)


def inner_grad(g, k, a, b):
    """Adjoint of ``np.inner(a, b)``: a contraction over both last axes."""
    na, nb = np.ndim(a), np.ndim(b)
    if na == 0 or nb == 0:
        return tensordot_grad(g, k, a, b, 0)
    return tensordot_grad(g, k, a, b, ([na - 1], [nb - 1]))


def kron_grad(g, k, a, b):
    """Adjoint of ``np.kron(a, b)`` for operand ``k``: ``g`` viewed as blocks, contracted."""
    nd = max(np.ndim(a), np.ndim(b))
    sa = (1,) * (nd - np.ndim(a)) + np.shape(a)
    sb = (1,) * (nd - np.ndim(b)) + np.shape(b)
    blocks = np.reshape(g, [n for pair in zip(sa, sb) for n in pair])
    la, lb = _string.ascii_letters[:nd], _string.ascii_letters[nd:2 * nd]
    spec = "".join(x + y for x, y in zip(la, lb))
    if k == 0:
        r = np.einsum(f"{spec},{lb}->{la}", blocks, conj(np.reshape(b, sb)))
        return np.reshape(r, np.shape(a))
    r = np.einsum(f"{spec},{la}->{lb}", blocks, conj(np.reshape(a, sa)))
    return np.reshape(r, np.shape(b))


# -- linear algebra -------------------------------------------------------------------
def _column(v):
    return v[..., :, None]


def solve_grad(g, a, b, ans, wrt="b"):
    """Adjoint of ``x = np.linalg.solve(a, b)``: ``b`` gets ``solve(a^H, g)``, ``a`` gets
    ``-b_bar x^H``. A 1-D ``b`` is a vector (NumPy 2 semantics)."""
    vector = np.ndim(b) == 1
    gb = np.linalg.solve(mH(a), g)
    if wrt == "b":
        return unbroadcast(gb, b)
    if vector:
        return unbroadcast(-_column(gb) * conj(ans)[..., None, :], a)
    return unbroadcast(-gb @ mH(ans), a)


def det_grad(g, a, ans):
    """Adjoint of ``np.linalg.det``: ``g conj(det a) inv(a)^H`` (needs an invertible ``a``)."""
    return np.expand_dims(g * conj(ans), (-2, -1)) * mH(np.linalg.inv(a))


def _lower_read(full, UPLO="L"):
    """The adjoint of a Hermitian matrix mapped onto the triangle LAPACK reads.

    NumPy's ``eigh``/``cholesky`` read one triangle of their argument (the other
    is implied), so the derivative of what they compute is this one.
    """
    n = full.shape[-1]
    strict = np.tril(np.ones((n, n), dtype=bool), -1) if UPLO == "L" else \
        np.triu(np.ones((n, n), dtype=bool), 1)
    diag = np.eye(n, dtype=bool)
    return np.where(diag, np.real(full), 0) + np.where(strict, full + mH(full), 0)


def _hermitian_from(t, UPLO="L"):
    """The Hermitian matrix LAPACK sees when it reads triangle ``UPLO`` of ``t``."""
    low = np.tril(t, -1) if UPLO == "L" else np.triu(t, 1)
    diag = np.real(np.diagonal(t, 0, -2, -1))
    return low + mH(low) + diag[..., None] * np.eye(t.shape[-1], dtype=diag.dtype)


def _phi(x):
    """Lower triangle with the diagonal halved."""
    n = x.shape[-1]
    return np.tril(x) - np.eye(n, dtype=bool) * (np.diagonal(x, 0, -2, -1)[..., None, :] / 2)


def cholesky_grad(g, ans, upper=False):
    """Adjoint of ``np.linalg.cholesky`` (Murray 2016), mapped onto the triangle NumPy reads."""
    L, gL = (mH(ans), mH(g)) if upper else (ans, g)
    inv_l = np.linalg.inv(L)
    s = mH(inv_l) @ _phi(mH(L) @ gL) @ inv_l
    return _lower_read((s + mH(s)) / 2, "U" if upper else "L")


def cholesky_jvp(t, ans, upper=False):
    """Tangent of ``np.linalg.cholesky``: ``L phi(L^-1 T L^-H)``."""
    L = mH(ans) if upper else ans
    inv_l = np.linalg.inv(L)
    dl = L @ _phi(inv_l @ _hermitian_from(t, "U" if upper else "L") @ mH(inv_l))
    return mH(dl) if upper else dl


def _eig_gaps(w):
    """``F[i, j] = 1 / (w[j] - w[i])`` off the diagonal, 0 on it."""
    gap = w[..., None, :] - w[..., :, None]
    eye = np.eye(w.shape[-1], dtype=bool)
    return np.where(eye, 0, 1 / np.where(eye, 1, gap))


def eigh_grad(g, a, ans, UPLO="L"):
    """Adjoint of ``np.linalg.eigh`` (or ``eigvalsh`` when ``ans`` is the eigenvalues).

    ``V (diag(g_w) + F o (V^H g_V)) V^H`` with ``F`` the inverse eigenvalue gaps;
    the eigenvector term is skipped when the eigenvectors' adjoint is zero, so
    repeated eigenvalues are fine for losses of eigenvalues only.
    """
    if isinstance(ans, np.ndarray):  # eigvalsh
        (w, v), (gw, gv) = np.linalg.eigh(a, UPLO), (g, 0.0)
    else:
        (w, v), (gw, gv) = ans, g
    gw = np.broadcast_to(np.real(gw), w.shape)
    mid = np.eye(w.shape[-1], dtype=bool) * np.expand_dims(gw, -2)
    if np.any(gv):
        mid = mid + _eig_gaps(w) * (mH(v) @ gv)
    return _lower_read(v @ mid @ mH(v), UPLO)


def eigh_jvp(t, a, ans, UPLO="L"):
    """Tangent of ``np.linalg.eigh``: ``(diag(V^H T V), V (F o V^H T V))``."""
    w, v = ans if not isinstance(ans, np.ndarray) else np.linalg.eigh(a, UPLO)
    m = mH(v) @ _hermitian_from(t, UPLO) @ v
    dw = np.real(np.diagonal(m, 0, -2, -1))
    if isinstance(ans, np.ndarray):
        return dw
    return dw, v @ (_eig_gaps(w) * m)


def _entry(g, like):
    """One output's adjoint as an array (``0.0`` for an unused output)."""
    if np.ndim(g) == 0 and g == 0:
        return np.zeros(np.shape(like), dtype=np.result_type(like))
    return np.broadcast_to(g, np.shape(like))


def _copyltu(m):
    low = np.tril(m, -1)
    return low + mH(low) + np.real(np.diagonal(m, 0, -2, -1))[..., None] * np.eye(m.shape[-1],
                                                                                  dtype=bool)


def _qr_tall_grad(q, r, gq, gr):
    m = r @ mH(gr) - mH(gq) @ q
    rhs = gq + q @ _copyltu(m)
    return mH(np.linalg.solve(r, mH(rhs)))


def qr_grad(g, a, ans, mode="reduced"):
    """Adjoint of ``np.linalg.qr`` (reduced, or ``'r'``) for real and complex inputs with a
    full-rank leading block (Liao et al. 2019)."""
    if mode == "r":
        q, r = np.linalg.qr(a)
        gq, gr = 0.0, g
    elif mode == "reduced" or (mode == "complete" and a.shape[-2] <= a.shape[-1]):
        (q, r), (gq, gr) = ans, g
    else:
        raise ValueError(f"adjoint: no derivative for np.linalg.qr with mode={mode!r}")
    gq, gr = _entry(gq, q), _entry(gr, r)
    m, n = a.shape[-2:]
    if m >= n:
        return _qr_tall_grad(q, r, gq, gr)
    y, u, gu, gv = a[..., m:], r[..., :m], gr[..., :m], gr[..., m:]
    gx = _qr_tall_grad(q, u, gq + y @ mH(gv), gu)
    return np.concatenate([gx, q @ gv], axis=-1)


def qr_jvp(t, a, ans, mode="reduced"):
    """Tangent of ``np.linalg.qr``: for a tall block ``dR = (X - C) R``, ``dQ = dA R^-1 - Q (X - C)``
    with ``X = Q^H dA R^-1`` and ``C`` its antisymmetric (anti-Hermitian) lower part."""
    q, r = ans if mode != "r" else np.linalg.qr(a)
    m, n = np.shape(a)[-2:]
    if m < n:
        dq, du = qr_jvp(t[..., :m], a[..., :m], (q, r[..., :m]))
        dv = mH(dq) @ a[..., m:] + mH(q) @ t[..., m:]
        dr = np.concatenate([du, dv], axis=-1)
        return dr if mode == "r" else (dq, dr)
    x = mH(np.linalg.solve(mH(r), mH(mH(q) @ t)))  # Q^H dA R^-1
    low = np.tril(x, -1)
    c = low - mH(low)
    if np.iscomplexobj(x):
        c = c + 1j * np.imag(np.diagonal(x, 0, -2, -1))[..., None] * np.eye(n, dtype=bool)
    dr = (x - c) @ r
    dq = mH(np.linalg.solve(mH(r), mH(t))) - q @ (x - c)
    return dr if mode == "r" else (dq, dr)


def svd_grad(g, a, ans, full_matrices=True, compute_uv=True):
    """Adjoint of ``np.linalg.svd`` (and ``svdvals``).

    Singular values: ``U diag(g_s) V^H`` (any input). Singular vectors (real
    input, distinct nonzero singular values): Townsend's formula, with the
    extra terms for a non-square matrix.
    """
    if not compute_uv or isinstance(ans, np.ndarray):
        (u, s, vh), (gu, gs, gvh) = np.linalg.svd(a, full_matrices=False), (0.0, g, 0.0)
    else:
        (u, s, vh), (gu, gs, gvh) = ans, g
    k = s.shape[-1]
    m, n = np.shape(a)[-2:]
    vectors = np.any(gu) or np.any(gvh)
    gu, gvh = _entry(gu, u), _entry(gvh, vh)  # shaped like full_matrices' u and vh
    if vectors and (np.any(gu[..., :, k:]) or np.any(gvh[..., k:, :])):
        raise ValueError("adjoint: the singular vectors beyond min(m, n) that "
                         "np.linalg.svd(a, full_matrices=True) adds are not unique: no derivative")
    u, vh = u[..., :, :k], vh[..., :k, :]
    out = (u * np.broadcast_to(np.real(gs), s.shape)[..., None, :]) @ vh
    if not vectors:
        return out
    if np.iscomplexobj(a):
        raise ValueError("adjoint: singular vectors of a complex matrix are not differentiated")
    gu, gv = gu[..., :, :k], mT(gvh[..., :k, :])
    v = mT(vh)
    f = _eig_gaps(s ** 2)
    utgu, vtgv = mT(u) @ gu, mT(v) @ gv
    mid = (f * (utgu - mT(utgu))) * s[..., None, :] + s[..., :, None] * (f * (vtgv - mT(vtgv)))
    out = out + u @ mid @ vh
    if m > k:
        out = out + ((gu - u @ utgu) / s[..., None, :]) @ vh
    if n > k:
        out = out + u @ ((mT(gv) - mT(gv) @ v @ vh) / s[..., :, None])
    return out


def svd_jvp(t, a, ans, full_matrices=True, compute_uv=True):
    """Tangent of ``np.linalg.svd`` (singular values; vectors for real input, reduced or square).

    Tangents that do not exist are NaN: the vectors of a complex matrix (each
    pair has a free phase) and the extra ones ``full_matrices`` adds.
    """
    values_only = not compute_uv or isinstance(ans, np.ndarray)
    u_all, s, vh_all = np.linalg.svd(a, full_matrices=False) if values_only else ans
    k = s.shape[-1]
    m, n = np.shape(a)[-2:]
    u, vh = u_all[..., :, :k], vh_all[..., :k, :]
    dp = mH(u) @ t @ mH(vh)
    ds = np.real(np.diagonal(dp, 0, -2, -1))
    if values_only:
        return ds
    if np.iscomplexobj(a):  # each pair of vectors has a free phase: their tangents do not exist
        return np.full(np.shape(u_all), np.nan), ds, np.full(np.shape(vh_all), np.nan)
    f = _eig_gaps(s ** 2)
    ps, sp = dp * s[..., None, :], s[..., :, None] * dp
    v = mT(vh)
    du = u @ (f * (ps + mT(ps)))
    dv = v @ (f * (sp + mT(sp)))
    if m > k:
        du = du + (t @ v - u @ dp) / s[..., None, :]
    if n > k:
        dv = dv + (mT(t) @ u - v @ mT(dp)) / s[..., None, :]
    if full_matrices and m != n:  # the extra vectors are not unique: NaN where they are used
        du = np.concatenate([du, np.full(du.shape[:-1] + (m - k,), np.nan)], axis=-1)
        dv = np.concatenate([dv, np.full(dv.shape[:-1] + (n - k,), np.nan)], axis=-1)
    return du, ds, mT(dv)


def pinv_grad(g, a, ans):
    """Adjoint of ``np.linalg.pinv`` (Golub & Pereyra; constant rank)."""
    x = ans
    eye_m = np.eye(np.shape(a)[-2], dtype=x.dtype)
    eye_n = np.eye(np.shape(a)[-1], dtype=x.dtype)
    return (-mH(x) @ g @ mH(x) + (eye_m - a @ x) @ mH(g) @ x @ mH(x)
            + mH(x) @ x @ mH(g) @ (eye_n - x @ a))


def pinv_jvp(t, a, ans):
    """Tangent of ``np.linalg.pinv`` along ``t``."""
    x = ans
    eye_m = np.eye(np.shape(a)[-2], dtype=x.dtype)
    eye_n = np.eye(np.shape(a)[-1], dtype=x.dtype)
    return (-x @ t @ x + x @ mH(x) @ mH(t) @ (eye_m - a @ x)
            + (eye_n - x @ a) @ mH(t) @ mH(x) @ x)


def lstsq_grad(g, a, b, ans, wrt="a"):
    """Adjoint of ``np.linalg.lstsq`` (real input): the solution ``x = pinv(a) b``, the
    residuals ``|b - a x|^2`` and the singular values of ``a``."""
    x, res, _, s = ans
    gx, gres, gs = _entry(g[0], x), g[1], g[3]
    r = b - a @ x
    if wrt == "b":
        out = mH(np.linalg.pinv(a)) @ gx
        return out + 2 * r * gres if np.any(gres) else out
    vector = np.ndim(b) == 1
    gp = _column(gx) * conj(b)[None, :] if vector else gx @ mH(b)
    out = pinv_grad(gp, a, np.linalg.pinv(a))
    if np.any(gres):
        out = out - 2 * (_column(r * gres) * x[None, :] if vector else (r * gres) @ mT(x))
    if np.any(gs):
        out = out + svd_grad(gs, a, s)
    return out


def lstsq_jvp(ta, tb, a, b, ans):
    """Tangent of ``np.linalg.lstsq``'s solution, residuals and singular values (real input)."""
    x, res, rank, s = ans
    p = np.linalg.pinv(a)
    if ta is not None:
        dx, dr, ds = pinv_jvp(ta, a, p) @ b, -ta @ x, svd_jvp(ta, a, s)
    else:
        dx, dr, ds = p @ tb, tb, 0 * s
    r = b - a @ x
    dres = 2 * np.sum(r * dr, axis=0) * np.ones_like(res) if np.size(res) else 0 * res
    return AdjointList([dx, dres, 0, ds])  # the tangents along a and along b add item by item


def matrix_power_grad(g, a, n):
    """Adjoint of ``np.linalg.matrix_power(a, n)``: ``sum_k (a^H)^k g (a^H)^(n-1-k)``."""
    if n < 0:
        inv = np.linalg.inv(a)
        return -mH(inv) @ matrix_power_grad(g, inv, -n) @ mH(inv)
    powers = [np.broadcast_to(np.eye(np.shape(a)[-1], dtype=np.result_type(a)), np.shape(a))]
    for _ in range(n - 1):
        powers.append(powers[-1] @ mH(a))
    out = np.zeros(np.shape(a), dtype=np.result_type(g, a))
    for k in range(n):
        out = out + powers[k] @ g @ powers[n - 1 - k]
    return out


def matrix_power_jvp(t, a, n):
    """Tangent of ``np.linalg.matrix_power(a, n)`` along ``t``."""
    if n < 0:
        inv = np.linalg.inv(a)
        return matrix_power_jvp(-inv @ t @ inv, inv, -n)
    out = np.zeros(np.broadcast_shapes(np.shape(a), np.shape(t)), dtype=np.result_type(a, t))
    for k in range(n):
        out = out + np.linalg.matrix_power(a, k) @ t @ np.linalg.matrix_power(a, n - 1 - k)
    return out


# -- numpy functions beyond the core set (issue 12) -----------------------------------------
__all__ += ["eig_jvp", "multi_dot_grad", "multi_dot_jvp", "multi_dot_grad_jvp",
            "tensor_matrix_shape", "conv_margins", "poly_exponents"]


def eig_jvp(t, a, ans):
    """Tangent of ``np.linalg.eig`` (or ``eigvals`` when ``ans`` is the eigenvalues).

    With ``P = V^-1 dA V``: ``dw = diag(P)``, ``dV = V (F o P)`` (``F`` the inverse
    eigenvalue gaps, Giles 2008 sec. 3.1), less ``V Re(diag(V^H dV))`` so that the
    columns keep NumPy's unit norm, and less the turn LAPACK takes back.
    """
    w, v = np.linalg.eig(a) if isinstance(ans, np.ndarray) else ans
    p = np.linalg.solve(v, t @ v)
    dw = np.diagonal(p, 0, -2, -1)
    if isinstance(ans, np.ndarray):
        return dw if np.iscomplexobj(w) else np.real(dw)
    dv = v @ (_eig_gaps(w) * p)
    dv = dv - v * np.real(np.diagonal(mH(v) @ dv, 0, -2, -1))[..., None, :]
    return (dw, _lapack_turn(dv, v)) if np.iscomplexobj(w) else (np.real(dw), np.real(dv))


def _lapack_turn(dv, v):
    """``dv`` less the turn of each column that LAPACK takes back: it makes the largest entry
    of every eigenvector real, so that entry's tangent is real too."""
    p = np.expand_dims(np.argmax(np.abs(v), axis=-2), -2)
    turn = np.imag(np.take_along_axis(dv, p, -2) / np.take_along_axis(v, p, -2))
    return dv - 1j * v * turn


def _as_matrices(arrays):
    """``multi_dot``'s operands as matrices: a 1-D first one a row, a 1-D last one a column."""
    mats = [np.asarray(x) for x in arrays]
    mats[0] = mats[0][None, :] if mats[0].ndim == 1 else mats[0]
    mats[-1] = mats[-1][:, None] if mats[-1].ndim == 1 else mats[-1]
    return mats


def _chain(mats, size, dtype):
    out = np.eye(size, dtype=dtype)
    for m in mats:
        out = out @ m
    return out


def multi_dot_grad(g, arrays):
    """Adjoint of ``np.linalg.multi_dot(arrays)``: operand ``k`` gets ``L^H g R^H`` with ``L``
    and ``R`` the products of the operands before and after it."""
    mats = _as_matrices(arrays)
    g = np.reshape(g, (mats[0].shape[0], mats[-1].shape[1]))
    dtype = np.result_type(g, *mats)
    out = []
    for k, x in enumerate(arrays):
        left = _chain(mats[:k], mats[0].shape[0], dtype)
        right = _chain(mats[k + 1:], mats[k].shape[1], dtype)
        out.append(np.reshape(mH(left) @ g @ mH(right), np.shape(x)))
    return AdjointList(out)


def multi_dot_jvp(t, arrays):
    """Tangent of ``np.linalg.multi_dot``: the product with each operand in turn replaced by
    its tangent, summed (an operand whose tangent is the number 0 adds nothing)."""
    total = 0
    for k in range(len(arrays)):
        if np.ndim(t[k]) == 0 and t[k] == 0:
            continue
        moved = list(arrays)
        moved[k] = np.broadcast_to(t[k], np.shape(arrays[k]))
        total = total + np.linalg.multi_dot(moved)
    return total


def multi_dot_grad_jvp(cot_dot, arrays_dot, cot, arrays):
    """Tangent of ``multi_dot_grad(cot, arrays)``: linear in ``cot``, and for operand ``k`` the
    product rule through every other operand of ``L^H cot R^H``."""
    out = multi_dot_grad(cot_dot, arrays) if np.ndim(cot_dot) or cot_dot != 0 else None
    for j in range(len(arrays) if isinstance(arrays_dot, (list, tuple)) else 0):
        if np.ndim(arrays_dot[j]) == 0 and arrays_dot[j] == 0:
            continue
        moved = list(arrays)
        moved[j] = np.broadcast_to(arrays_dot[j], np.shape(arrays[j]))
        part = multi_dot_grad(cot, moved)
        part[j] = np.zeros_like(part[j])  # operand j's adjoint does not read operand j
        out = part if out is None else out + part
    return out if out is not None else multi_dot_grad(0 * cot, arrays)


def tensor_matrix_shape(a, ind=2):
    """The matrix ``np.linalg.tensorinv(a, ind)`` inverts: rows the first ``ind`` axes."""
    shape = np.shape(a)
    return int(np.prod(shape[:ind])), int(np.prod(shape[ind:]))


def conv_margins(a, v, mode="full", correlate=False):
    """``np.pad`` widths that put the output of ``np.convolve``/``np.correlate(a, v, mode)``
    back where it sits in the ``'full'`` one."""
    n, m = np.size(a), np.size(v)
    size = {"full": n + m - 1, "same": max(n, m), "valid": max(n, m) - min(n, m) + 1}[mode]
    start = {"full": 0, "same": (n // 2 if correlate and n < m else (min(n, m) - 1) // 2),
             "valid": min(n, m) - 1}[mode]
    return start, n + m - 1 - start - size


def poly_exponents(p, x):
    """The exponents ``len(p) - 1, ..., 1, 0`` of ``np.polyval(p, x)``, in ``x``'s real dtype."""
    dtype = np.finfo(np.result_type(np.asarray(x), np.float32)).dtype
    return np.arange(np.size(p) - 1, -1, -1, dtype=dtype)


__all__ += ["phase_free", "eig_vector_cotangent"]


def eig_vector_cotangent(v_bar, a, w):
    """The eigenvectors' adjoint of ``np.linalg.eig(a)``, made real in the columns of real
    ``a``'s real eigenvalues: LAPACK returns those eigenvectors real, fixed but for a sign
    (NumPy 2.5 as complex numbers), so only the real part of their adjoint reaches ``a``."""
    if np.iscomplexobj(a):
        return v_bar
    return np.where(np.expand_dims(np.imag(w) == 0, -2), np.real(v_bar), v_bar)


def phase_free(m):
    """``m = V^H V_bar`` of ``np.linalg.eig``'s adjoint, once checked that the loss does not
    depend on the eigenvectors' phases (each column of ``V`` may turn by any ``e^{i phi}``;
    NumPy's choice is arbitrary): then ``diag(m)`` is real."""
    d = np.diagonal(m, 0, -2, -1)
    if np.iscomplexobj(d) and np.any(np.abs(np.imag(d)) > 1e-6 * max(1.0, np.max(np.abs(m)))):
        raise ValueError("adjoint: the loss depends on the phases of np.linalg.eig's eigenvectors, "
                         "which NumPy chooses arbitrarily: its gradient does not exist (use, e.g., "
                         "their absolute values)")
    return m


# -- second order: tangents of the adjoints above -----------------------------------------
# Each ``*_grad_dot`` is the tangent of its ``*_grad`` along the tangents of its arguments
# other than the cotangent (in which every adjoint is linear), for real input; the rules in
# rules/generated.py add the cotangent's term.
def _tangent(t, like):
    """A tangent as an array shaped like ``like`` (``0.0`` stands for zeros)."""
    return np.broadcast_to(t, np.shape(like))


def solve_grad_dot(g, a, b, ans, wrt="b", a_dot=0.0, ans_dot=0.0):
    """Tangent of ``solve_grad``: ``gb = solve(a^H, g)`` moves by ``-solve(a^H, da^H gb)``."""
    a_dot, ans_dot = _tangent(a_dot, a), _tangent(ans_dot, ans)
    gb = np.linalg.solve(mH(a), g)
    dgb = -np.linalg.solve(mH(a), mH(a_dot) @ gb)
    if wrt == "b":
        return unbroadcast(dgb, b)
    if np.ndim(b) == 1:
        return unbroadcast(-_column(dgb) * conj(ans)[..., None, :]
                           - _column(gb) * conj(ans_dot)[..., None, :], a)
    return unbroadcast(-dgb @ mH(ans) - gb @ mH(ans_dot), a)


def matrix_power_grad_dot(g, a, n, a_dot=0.0):
    """Tangent of ``matrix_power_grad``: the product rule over the powers of ``a^H``."""
    a_dot = _tangent(a_dot, a)
    if n < 0:
        inv = np.linalg.inv(a)
        d_inv = -inv @ a_dot @ inv
        m = matrix_power_grad(g, inv, -n)
        dm = matrix_power_grad_dot(g, inv, -n, d_inv)
        return -(mH(d_inv) @ m @ mH(inv) + mH(inv) @ dm @ mH(inv) + mH(inv) @ m @ mH(d_inv))
    eye = np.broadcast_to(np.eye(np.shape(a)[-1], dtype=np.result_type(a)), np.shape(a))
    powers, d_powers = [eye], [np.zeros_like(eye)]
    for _ in range(n - 1):
        d_powers.append(d_powers[-1] @ mH(a) + powers[-1] @ mH(a_dot))
        powers.append(powers[-1] @ mH(a))
    out = np.zeros(np.shape(a), dtype=np.result_type(g, a))
    for k in range(n):
        out = out + d_powers[k] @ g @ powers[n - 1 - k] + powers[k] @ g @ d_powers[n - 1 - k]
    return out


def cholesky_grad_dot(g, ans, upper=False, ans_dot=0.0):
    """Tangent of ``cholesky_grad`` along the factor's tangent (``d L^-1 = -L^-1 dL L^-1``)."""
    ans_dot = _tangent(ans_dot, ans)
    L, dL, gL = (mH(ans), mH(ans_dot), mH(g)) if upper else (ans, ans_dot, g)
    inv_l = np.linalg.inv(L)
    d_inv = -inv_l @ dL @ inv_l
    mid = _phi(mH(L) @ gL)
    ds = mH(d_inv) @ mid @ inv_l + mH(inv_l) @ _phi(mH(dL) @ gL) @ inv_l + mH(inv_l) @ mid @ d_inv
    return _lower_read((ds + mH(ds)) / 2, "U" if upper else "L")


def _eigh_tangents(a, a_dot, UPLO):
    """``eigh(a)`` and the tangents of its eigenvalues and eigenvectors along ``a_dot``
    (the Hermitian matrix NumPy reads from one triangle)."""
    w, v = np.linalg.eigh(a, UPLO)
    da = _copyltu(a_dot if UPLO == "L" else mH(a_dot))
    p = mH(v) @ da @ v
    return (w, v), (np.real(np.diagonal(p, 0, -2, -1)), v @ (_eig_gaps(w) * p))


def eigh_grad_dot(g, a, ans, UPLO="L", a_dot=0.0, ans_dot=0.0):
    """Tangent of ``eigh_grad`` along the eigenpairs' tangents (``eigh``) or, for
    ``eigvalsh``, along ``a``'s (through the eigenvectors it uses)."""
    if isinstance(ans, np.ndarray):  # eigvalsh
        (w, v), (dw, dv) = _eigh_tangents(a, _tangent(a_dot, a), UPLO)
        gw, gv = g, 0.0
    else:
        (w, v), (gw, gv) = ans, g
        dw, dv = [_tangent(d, x) for d, x in zip(_pair(ans_dot), ans)]
    gw = np.broadcast_to(np.real(gw), w.shape)
    mid = np.eye(w.shape[-1], dtype=bool) * np.expand_dims(gw, -2)
    d_mid = np.zeros_like(mid, dtype=np.result_type(v, float))
    if np.any(gv):
        f = _eig_gaps(w)
        mid = mid + f * (mH(v) @ gv)
        d_f = -f * f * (dw[..., None, :] - dw[..., :, None])
        d_mid = d_f * (mH(v) @ gv) + f * (mH(dv) @ gv)
    return _lower_read(dv @ mid @ mH(v) + v @ d_mid @ mH(v) + v @ mid @ mH(dv), UPLO)


def _pair(t):
    """The tangents of a pair of outputs (``0.0`` for both when the pair has none)."""
    return t if isinstance(t, (list, tuple)) else (t, t)


def pinv_grad_dot(g, a, ans, a_dot=0.0, ans_dot=0.0):
    """Tangent of ``pinv_grad``: the product rule over its three terms."""
    x, dx, da = ans, _tangent(ans_dot, ans), _tangent(a_dot, a)
    eye_m = np.eye(np.shape(a)[-2], dtype=x.dtype)
    eye_n = np.eye(np.shape(a)[-1], dtype=x.dtype)
    gh = mH(g)
    first = -(mH(dx) @ g @ mH(x) + mH(x) @ g @ mH(dx))
    second = -(da @ x + a @ dx) @ gh @ x @ mH(x) + (eye_m - a @ x) @ gh @ (dx @ mH(x) + x @ mH(dx))
    third = (mH(dx) @ x + mH(x) @ dx) @ gh @ (eye_n - x @ a) - mH(x) @ x @ gh @ (dx @ a + x @ da)
    return first + second + third


def svd_grad_dot(g, a, ans, full_matrices=True, compute_uv=True, a_dot=0.0, ans_dot=0.0):
    """Tangent of ``svd_grad`` along the factors' tangents (``svd``) or, for the singular
    values alone, along ``a``'s (through the vectors it computes); real input."""
    m, n = np.shape(a)[-2:]
    if not compute_uv or isinstance(ans, np.ndarray):
        u, s, vh = np.linalg.svd(a, full_matrices=False)
        du, ds, dvh = svd_jvp(_tangent(a_dot, a), a, (u, s, vh), full_matrices=False)
        gu, gs, gvh = 0.0, g, 0.0
    else:
        (u, s, vh), (gu, gs, gvh) = ans, g
        du, ds, dvh = [_tangent(d, x) for d, x in zip(_triple(ans_dot), ans)]
    k = s.shape[-1]
    gu, gvh = _entry(gu, u)[..., :, :k], _entry(gvh, vh)[..., :k, :]  # shaped like u and vh first
    u, du, vh, dvh = u[..., :, :k], du[..., :, :k], vh[..., :k, :], dvh[..., :k, :]
    gs = np.broadcast_to(np.real(gs), s.shape)[..., None, :]
    out = (du * gs) @ vh + (u * gs) @ dvh
    if not (np.any(gu) or np.any(gvh)):
        return out
    if np.iscomplexobj(a):
        raise ValueError("adjoint: singular vectors of a complex matrix are not differentiated")
    return out + _svd_vectors_dot(u, s, vh, du, ds, dvh, gu, mT(gvh), m, n)


def _triple(t):
    return t if isinstance(t, (list, tuple)) else (t, t, t)


def _svd_vectors_dot(u, s, vh, du, ds, dvh, gu, gv, m, n):
    """Tangent of the singular-vector terms of ``svd_grad`` (Townsend's formula)."""
    k = s.shape[-1]
    v, dv = mT(vh), mT(dvh)
    f = _eig_gaps(s ** 2)
    d_f = -f * f * (2 * (s * ds)[..., None, :] - 2 * (s * ds)[..., :, None])
    utgu, vtgv = mT(u) @ gu, mT(v) @ gv
    d_utgu, d_vtgv = mT(du) @ gu, mT(dv) @ gv
    skew_u, skew_v = utgu - mT(utgu), vtgv - mT(vtgv)
    d_skew_u, d_skew_v = d_utgu - mT(d_utgu), d_vtgv - mT(d_vtgv)
    row, col, d_row, d_col = s[..., None, :], s[..., :, None], ds[..., None, :], ds[..., :, None]
    mid = (f * skew_u) * row + col * (f * skew_v)
    d_mid = ((d_f * skew_u + f * d_skew_u) * row + (f * skew_u) * d_row
             + d_col * (f * skew_v) + col * (d_f * skew_v + f * d_skew_v))
    out = du @ mid @ vh + u @ d_mid @ vh + u @ mid @ dvh
    if m > k:
        left = gu - u @ utgu
        d_left = -du @ utgu - u @ d_utgu
        out = out + (d_left / row - left * d_row / row ** 2) @ vh + (left / row) @ dvh
    if n > k:
        right = mT(gv) - mT(gv) @ v @ vh
        d_right = -mT(gv) @ dv @ vh - mT(gv) @ v @ dvh
        out = out + du @ (right / col) + u @ (d_right / col - right * d_col / col ** 2)
    return out


def qr_grad_dot(g, a, ans, mode="reduced", a_dot=0.0, ans_dot=0.0):
    """Tangent of ``qr_grad`` along the factors' tangents (or, for ``mode='r'``, along
    ``a``'s through the ``Q`` it computes)."""
    a_dot = _tangent(a_dot, a)
    if mode == "r":
        q, r = np.linalg.qr(a)
        (dq, dr), (gq, gr) = qr_jvp(a_dot, a, (q, r)), (0.0, g)
    elif mode == "reduced" or (mode == "complete" and a.shape[-2] <= a.shape[-1]):
        (q, r), (gq, gr) = ans, g
        dq, dr = [_tangent(d, x) for d, x in zip(_pair(ans_dot), ans)]
    else:
        raise ValueError(f"adjoint: no derivative for np.linalg.qr with mode={mode!r}")
    gq, gr = _entry(gq, q), _entry(gr, r)
    m, n = a.shape[-2:]
    if m >= n:
        return _qr_tall_grad_dot(q, r, gq, gr, dq, dr, 0.0)
    y, u, gu, gv = a[..., m:], r[..., :m], gr[..., :m], gr[..., m:]
    d_gq = a_dot[..., m:] @ mH(gv)
    d_gx = _qr_tall_grad_dot(q, u, gq + y @ mH(gv), gu, dq, dr[..., :m], d_gq)
    return np.concatenate([d_gx, dq @ gv], axis=-1)


def _qr_tall_grad_dot(q, r, gq, gr, dq, dr, d_gq):
    """Tangent of ``_qr_tall_grad`` along ``dq``, ``dr`` and a tangent ``d_gq`` of ``gq``."""
    d_gq = _tangent(d_gq, gq)
    m = r @ mH(gr) - mH(gq) @ q
    d_m = dr @ mH(gr) - mH(d_gq) @ q - mH(gq) @ dq
    rhs = gq + q @ _copyltu(m)
    d_rhs = d_gq + dq @ _copyltu(m) + q @ _copyltu(d_m)
    out = mH(np.linalg.solve(r, mH(rhs)))
    return mH(np.linalg.solve(r, mH(d_rhs - out @ mH(dr))))


def lstsq_grad_dot(g, a, b, ans, wrt="a", a_dot=0.0, b_dot=0.0, ans_dot=0.0):
    """Tangent of ``lstsq_grad`` along ``a``, ``b`` and the solution's tangent (real input)."""
    x, res, _, s = ans
    gx, gres, gs = _entry(g[0], x), g[1], g[3]
    da, db = _tangent(a_dot, a), _tangent(b_dot, b)
    dx = _tangent(ans_dot[0] if isinstance(ans_dot, (list, tuple)) else ans_dot, x)
    r = b - a @ x
    dr = db - da @ x - a @ dx
    p = np.linalg.pinv(a)
    dp = pinv_jvp(da, a, p)
    if wrt == "b":
        out = mH(dp) @ gx
        return out + 2 * dr * gres if np.any(gres) else out
    vector = np.ndim(b) == 1
    gp = _column(gx) * conj(b)[None, :] if vector else gx @ mH(b)
    d_gp = _column(gx) * conj(db)[None, :] if vector else gx @ mH(db)
    out = pinv_grad(d_gp, a, p) + pinv_grad_dot(gp, a, p, da, dp)
    if np.any(gres):
        out = out - 2 * (_column(dr * gres) * x[None, :] + _column(r * gres) * dx[None, :]
                         if vector else (dr * gres) @ mT(x) + (r * gres) @ mT(dx))
    if np.any(gs):
        out = out + svd_grad_dot(gs, a, s, a_dot=da)
    return out
