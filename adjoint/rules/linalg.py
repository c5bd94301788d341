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
           subscripts="einsum_grad(g, -1, subscripts, a, b, c, d, e)",
           a="einsum_grad(g, 0, subscripts, a, b, c, d, e)",
           b="einsum_grad(g, 1, subscripts, a, b, c, d, e)",
           c="einsum_grad(g, 2, subscripts, a, b, c, d, e)",
           d="einsum_grad(g, 3, subscripts, a, b, c, d, e)",
           e="einsum_grad(g, 4, subscripts, a, b, c, d, e)",
           jvp="linear", notes="any subscripts; up to 5 operands (3 in the interleaved form)")
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

# -- numpy functions beyond the core set (issue 12) -----------------------------------------------
# eig (Giles 2008, "An extended collection of matrix derivative results", sec. 3.1), with the
# term that keeps NumPy's unit-norm eigenvectors:
#   A_bar = V^-H (diag(w_bar) + (V^H V_bar - V^H V diag(Re diag(V^H V_bar))) / conj(E)) V^H,
# E[i, j] = w[j] - w[i] off the diagonal. Real input takes the real part.
W, V = "ans[0]", "ans[1]"
VH = f"conj(mT({V}))"
EYE = f"np.eye(np.shape({W})[-1], dtype=bool)"
VHGV = f"phase_free({VH} @ eig_vector_cotangent(np.broadcast_to(g[1], np.shape({V})), a, {W}))"
NORMED = f"({VHGV} - {VH} @ ({V} * np.expand_dims(np.real(np.diagonal({VHGV}, 0, -2, -1)), -2)))"
GAPS = f"conj(np.expand_dims({W}, -2) - np.expand_dims({W}, -1))"
MID = (f"({EYE} * np.expand_dims(np.broadcast_to(g[0], np.shape({W})), -2)"
       f" + np.where({EYE}, 0, {NORMED} / np.where({EYE}, 1, {GAPS})))")
structural(np.linalg.eig, "a", a=f"unbroadcast(np.linalg.solve({VH}, {MID} @ {VH}), a)",
           jvp={"a": "eig_jvp(t, a, ans)"},
           notes="distinct eigenvalues; losses that do not depend on the eigenvectors' phases")
EIG_VH = "conj(mT(np.linalg.eig(a)[1]))"
structural(np.linalg.eigvals, "a",
           a=f"unbroadcast(np.linalg.solve({EIG_VH}, (np.eye(np.shape(ans)[-1], dtype=bool)"
             f" * np.expand_dims(g, -2)) @ {EIG_VH}), a)",
           jvp={"a": "eig_jvp(t, a, ans)"}, notes="distinct eigenvalues")

structural(np.linalg.multi_dot, "arrays", arrays="multi_dot_grad(g, arrays)",
           jvp={"arrays": "multi_dot_jvp(t, arrays)"}, notes="a 1-D first or last operand is a vector")
# tensorsolve: x = A^-1 b with A = a as a (b.size, x.size) matrix (axes=None)
TENSOR_B = ("np.reshape(np.linalg.solve(conj(mT(np.reshape(a, (np.size(b), -1)))), np.ravel(g)),"
            " np.shape(b))")
structural(np.linalg.tensorsolve, "a, b", b=TENSOR_B,
           a=f"-np.reshape(np.outer(np.ravel({TENSOR_B}), conj(np.ravel(ans))), np.shape(a))",
           jvp={"a": "-np.linalg.tensorsolve(a, np.tensordot(t, ans, np.ndim(ans)))",
                "b": "np.linalg.tensorsolve(a, t)"}, notes="axes=None")
# tensorinv: the inverse X of a as a matrix; A_bar = -X^H G X^H, dX = -X dA X
INV = "np.reshape(ans, tensor_matrix_shape(a, ind)[::-1])"
INV_H = f"conj(mT({INV}))"
structural(np.linalg.tensorinv, "a, ind=2",
           a=f"-np.reshape({INV_H} @ np.reshape(g, np.shape({INV})) @ {INV_H}, np.shape(a))",
           jvp={"a": f"-np.reshape({INV} @ np.reshape(t, tensor_matrix_shape(a, ind)) @ {INV},"
                     " np.shape(ans))"})
structural(np.linalg.outer, "x1, x2", x1="np.reshape(g @ conj(np.ravel(x2)), np.shape(x1))",
           x2="np.reshape(conj(np.ravel(x1)) @ g, np.shape(x2))", jvp="linear")
# vecdot conjugates its first argument: sum(conj(x1) * x2, axis)
structural([np.linalg.vecdot, np.vecdot], "x1, x2, *, axis=-1",
           x1="unbroadcast(np.expand_dims(conj(g), axis) * x2, x1)",
           x2="unbroadcast(np.expand_dims(g, axis) * x1, x2)", jvp="linear")
# g . (a x b) = a . (b x g) = b . (g x a)
structural(np.cross, "a, b, axisa=-1, axisb=-1, axisc=-1, axis=None",
           a="unbroadcast(np.cross(conj(b), g, axisb, axisc, axisa, axis), a)",
           b="unbroadcast(np.cross(g, conj(a), axisc, axisa, axisb, axis), b)", jvp="linear",
           notes="3-vectors")
structural(np.linalg.cross, "x1, x2, *, axis=-1",
           x1="unbroadcast(np.linalg.cross(conj(x2), g, axis=axis), x1)",
           x2="unbroadcast(np.linalg.cross(g, conj(x1), axis=axis), x2)", jvp="linear")

# convolve: c[n] = sum_m a[m] v[n - m]; in the 'full' output, a_bar[m] = sum_j g[m + j] conj(v[j]).
# correlate: c[k] = sum_n a[n + k] conj(v[n]), the convolution with conj(v[::-1]).
FULL = "np.pad(g, conv_margins(a, v, mode))"
structural(np.convolve, "a, v, mode='full'", a=f"unbroadcast(np.correlate({FULL}, v, 'valid'), a)",
           v=f"unbroadcast(np.correlate({FULL}, a, 'valid'), v)", jvp="linear")
FULL_C = "np.pad(g, conv_margins(a, v, mode, True))"
structural(np.correlate, "a, v, mode='valid'", a=f"unbroadcast(np.convolve({FULL_C}, v, 'valid'), a)",
           v=f"unbroadcast(np.flip(conj(np.correlate({FULL_C}, a, 'valid'))), v)", jvp="linear")
# polyval: sum_i p[i] x^(n-1-i); the powers of x, one per coefficient, along a first axis
POWERS = "np.moveaxis(np.expand_dims(x, -1) ** poly_exponents(p, x), -1, 0)"
structural(np.polyval, "p, x",
           p=f"unstack_like(np.tensordot(conj({POWERS}), g, np.ndim(g)), p)",
           x="g * conj(np.polyval(p[:-1] * poly_exponents(p, x)[:-1], x))",
           jvp={"p": "np.polyval(t, x)", "x": "t * np.polyval(p[:-1] * poly_exponents(p, x)[:-1], x)"})

from .. import runtime as rt  # noqa: E402
from .registry import inactive  # noqa: E402

structural(rt.multi_dot_grad, "cot, arrays", cot="multi_dot_jvp(g, arrays)",
           jvp={"*": "multi_dot_grad_jvp(cot_dot, arrays_dot, cot, arrays)"},
           notes="linear in cot and in each operand apart")
structural(rt.phase_free, "m", m="g", jvp={"m": "t"}, notes="checks that eig's loss is phase-free")
structural(rt.eig_vector_cotangent, "v_bar, a, w", v_bar="eig_vector_cotangent(g, a, w)",
           jvp={"v_bar": "eig_vector_cotangent(t, a, w)"}, static="a w",
           notes="a projection: its own adjoint")
inactive([rt.tensor_matrix_shape, rt.conv_margins, rt.poly_exponents])
