"""Rules for products and ``numpy.linalg``.

Products are linear in each argument (``jvp="linear"``); their adjoints
contract ``g`` with the other argument, conjugated for complex input.
``dot`` and ``matmul`` are in ``core.py``. Decompositions follow the standard
references (Giles 2008; Murray 2016 for Cholesky; Townsend 2016 for the SVD;
Liao et al. 2019 for QR). ``eigh`` and ``cholesky`` read one triangle of
their argument, so their adjoint lives on that triangle: it is the derivative
of what NumPy computes. Functions that return several arrays receive ``g`` as
a list with one adjoint per output (0.0 for an unused output).
"""
import numpy as np

from .registry import structural

# -- products -----------------------------------------------------------------------------
structural(np.vdot, "a, b", a="np.reshape(conj(g) * np.ravel(b), np.shape(a))",
           b="np.reshape(g * np.ravel(a), np.shape(b))", jvp="linear", notes="conjugates a")
structural(np.inner, "a, b", a="inner_grad(g, 0, a, b)", b="inner_grad(g, 1, a, b)", jvp="linear")
structural(np.outer, "a, b", a="np.reshape(g @ conj(np.ravel(b)), np.shape(a))",
           b="np.reshape(conj(np.ravel(a)) @ g, np.shape(b))", jvp="linear")
structural(np.tensordot, "a, b, axes=2", a="tensordot_grad(g, 0, a, b, axes)",
           b="tensordot_grad(g, 1, a, b, axes)", jvp="linear")
structural(np.einsum, "subscripts, a, b=None, c=None, d=None, e=None, out=None, optimize=False",
           a="einsum_grad(g, 0, subscripts, a, b, c, d, e)",
           b="einsum_grad(g, 1, subscripts, a, b, c, d, e)",
           c="einsum_grad(g, 2, subscripts, a, b, c, d, e)",
           d="einsum_grad(g, 3, subscripts, a, b, c, d, e)",
           e="einsum_grad(g, 4, subscripts, a, b, c, d, e)",
           jvp="linear", notes="any subscripts; up to 5 operands")
structural(np.kron, "a, b", a="kron_grad(g, 0, a, b)", b="kron_grad(g, 1, a, b)", jvp="linear")
structural([np.linalg.matrix_transpose, np.matrix_transpose], "x", x="mT(g)", jvp="linear")

# -- inverses and solves --------------------------------------------------------------------
structural(np.linalg.inv, "a", a="-mH(ans) @ g @ mH(ans)", jvp={"a": "-ans @ t @ ans"})
structural(np.linalg.solve, "a, b", a="solve_grad(g, a, b, ans, 'a')",
           b="solve_grad(g, a, b, ans, 'b')",
           jvp={"a": "-np.linalg.solve(a, t @ ans)", "b": "np.linalg.solve(a, t)"},
           notes="a 1-D b is a vector")
structural(np.linalg.pinv, "a, rcond=None", a="pinv_grad(g, a, ans)",
           jvp={"a": "pinv_jvp(t, a, ans)"}, notes="constant rank")
structural(np.linalg.lstsq, "a, b, rcond=None", a="lstsq_grad(g, a, b, ans, 'a')",
           b="lstsq_grad(g, a, b, ans, 'b')",
           jvp={"a": "lstsq_jvp(t, None, a, b, ans)", "b": "lstsq_jvp(None, t, a, b, ans)"},
           notes="solution, residuals and singular values of real input")
structural(np.linalg.matrix_power, "a, n", a="matrix_power_grad(g, a, n)",
           jvp={"a": "matrix_power_jvp(t, a, n)"})

# -- determinants -------------------------------------------------------------------------------
structural(np.linalg.det, "a", a="det_grad(g, a, ans)",
           jvp={"a": "ans * np.trace(np.linalg.solve(a, t), axis1=-2, axis2=-1)"},
           notes="invertible a")
structural(np.linalg.slogdet, "a",
           a="np.expand_dims(np.real(g[1]), (-2, -1)) * mH(np.linalg.inv(a))",
           jvp={"a": "(0 * ans[0], np.real(np.trace(np.linalg.solve(a, t), axis1=-2, axis2=-1)))"},
           notes="through logabsdet; the sign is constant")

# -- decompositions -------------------------------------------------------------------------------
structural(np.linalg.cholesky, "a, upper=False", a="cholesky_grad(g, ans, upper)",
           jvp={"a": "cholesky_jvp(t, ans, upper)"}, notes="on the triangle NumPy reads")
structural([np.linalg.eigh, np.linalg.eigvalsh], "a, UPLO='L'", a="eigh_grad(g, a, ans, UPLO)",
           jvp={"a": "eigh_jvp(t, a, ans, UPLO)"},
           notes="eigenvectors need distinct eigenvalues; on the triangle NumPy reads")
structural(np.linalg.qr, "a, mode='reduced'", a="qr_grad(g, a, ans, mode)",
           jvp={"a": "qr_jvp(t, a, ans, mode)"}, notes="modes reduced and r")
structural(np.linalg.svd, "a, full_matrices=True, compute_uv=True",
           a="svd_grad(g, a, ans, full_matrices, compute_uv)",
           jvp={"a": "svd_jvp(t, a, ans, full_matrices, compute_uv)"},
           notes="singular values; vectors of real input with full_matrices=False")
structural(np.linalg.svdvals, "x", x="svd_grad(g, x, ans)", jvp={"x": "svd_jvp(t, x, ans)"})
