"""Cases of ``tests/test_rules.py``'s table for ``numpy.fft`` and the NumPy functions beyond
the core set (joined into ``CASES`` and ``NO_DERIVATIVE`` there)."""
from __future__ import annotations

import numpy as np


from .test_rules import CPLX, F64, REAL, C, Distinct, P, R, S, Well  # noqa: F401


def Spread(*shape):
    """Matrices with real eigenvalues far apart (1.5, 3, 4.5, ...), complex for complex dtypes."""
    def make(rng, dtype):
        n = shape[-1]
        q = R(*shape)(rng, dtype) + 2 * np.eye(n)
        return (q @ (1.5 * np.arange(1, n + 1) * np.eye(n)) @ np.linalg.inv(q)).astype(dtype)
    return make



def Turning(*shape):
    """Real matrices with eigenvalues 2 and 1 +- 1.5i: eig's output is complex, its vectors
    real in the real eigenvalue's column."""
    def make(rng, dtype):
        q = R(*shape)(rng, dtype) + 2 * np.eye(3)
        block = np.array([[1.0, 1.5, 0.0], [-1.5, 1.0, 0.0], [0.0, 0.0, 2.0]])
        return (q @ block @ np.linalg.inv(q)).astype(dtype)
    return make


def WellTensor(*shape):
    """Random plus 3 times the identity, seen as a tensor (well-conditioned for tensorsolve/inv)."""
    n = shape[-1]
    return lambda rng, dtype: (R(*shape)(rng, dtype) + 3 * np.eye(n).reshape(shape)).astype(dtype)


# (a q given as a list or float64 array makes NumPy's quantiles float64)
CASES = {
    # numpy.fft: n= pads and cuts, every normalisation, axes, real and complex input
    "numpy.fft.fft": [C("np.fft.fft(a)", a=R(5)), C("np.fft.fft(a, 7, norm='ortho')", a=R(2, 5)),
                      C("np.fft.fft(a, 3, axis=0, norm='forward')", a=R(4, 3), dtypes=CPLX),
                      C("np.fft.fft(a, axis=1)", a=R(2, 3, 4), dtypes=CPLX)],
    "numpy.fft.ifft": [C("np.fft.ifft(a)", a=R(4), dtypes=CPLX), C("np.fft.ifft(a, 6, 0, 'ortho')", a=R(4, 2)),
                       C("np.fft.ifft(a, 3, norm='forward')", a=R(2, 5), dtypes=CPLX)],
    "numpy.fft.fft2": [C("np.fft.fft2(a)", a=R(3, 4)), C("np.fft.fft2(a, (4, 2), norm='ortho')", a=R(2, 3, 3)),
                       C("np.fft.fft2(a, axes=(0, 2), norm='forward')", a=R(2, 3, 3), dtypes=CPLX)],
    "numpy.fft.ifft2": [C("np.fft.ifft2(a)", a=R(3, 4), dtypes=CPLX),
                        C("np.fft.ifft2(a, (2, 5), norm='ortho')", a=R(3, 4))],
    "numpy.fft.fftn": [C("np.fft.fftn(a)", a=R(2, 3, 2)), C("np.fft.fftn(a, (3, 3), (1, 2))", a=R(2, 2, 4), dtypes=CPLX),
                       C("np.fft.fftn(a, axes=(0,), norm='forward')", a=R(3, 2))],
    "numpy.fft.ifftn": [C("np.fft.ifftn(a)", a=R(2, 3, 2), dtypes=CPLX),
                        C("np.fft.ifftn(a, (3, 2), (1, 0), 'ortho')", a=R(4, 2))],
    "numpy.fft.rfft": [C("np.fft.rfft(a)", a=R(6)), C("np.fft.rfft(a)", a=R(2, 5)),
                       C("np.fft.rfft(a, 7, axis=0, norm='ortho')", a=R(4, 3)),
                       C("np.fft.rfft(a, 4, norm='forward')", a=R(3, 6))],
    "numpy.fft.irfft": [C("np.fft.irfft(a)", a=R(4), dtypes=CPLX), C("np.fft.irfft(a, 7)", a=R(2, 4), dtypes=CPLX),
                        C("np.fft.irfft(a, 4, 0, 'ortho')", a=R(4, 2), dtypes=CPLX),
                        C("np.fft.irfft(a, 9, norm='forward')", a=R(3)), C("np.fft.irfft(a, 3)", a=R(5), dtypes=CPLX)],
    "numpy.fft.rfft2": [C("np.fft.rfft2(a)", a=R(3, 4)), C("np.fft.rfft2(a, (4, 5), norm='ortho')", a=R(2, 3, 3))],
    "numpy.fft.irfft2": [C("np.fft.irfft2(a)", a=R(3, 3), dtypes=CPLX),
                         C("np.fft.irfft2(a, (2, 5), norm='forward')", a=R(2, 3, 2), dtypes=CPLX)],
    "numpy.fft.rfftn": [C("np.fft.rfftn(a)", a=R(2, 3, 4)), C("np.fft.rfftn(a, (3, 3), (1, 2))", a=R(2, 4, 2)),
                        C("np.fft.rfftn(a, axes=(1, 0), norm='ortho')", a=R(3, 5))],
    "numpy.fft.irfftn": [C("np.fft.irfftn(a)", a=R(2, 3, 3), dtypes=CPLX),
                         C("np.fft.irfftn(a, (4, 3), (0, 1), 'ortho')", a=R(3, 2), dtypes=CPLX),
                         C("np.fft.irfftn(a, (3, 6), (0, 2))", a=R(2, 3, 4))],
    "numpy.fft.hfft": [C("np.fft.hfft(a)", a=R(4), dtypes=CPLX), C("np.fft.hfft(a, 5, 0, 'ortho')", a=R(3, 2), dtypes=CPLX),
                       C("np.fft.hfft(a, 6, norm='forward')", a=R(2, 3))],
    "numpy.fft.ihfft": [C("np.fft.ihfft(a)", a=R(5)), C("np.fft.ihfft(a, 4, 0, 'ortho')", a=R(5, 2)),
                        C("np.fft.ihfft(a, 7, norm='forward')", a=R(2, 6))],
    "numpy.fft.fftshift": [C("np.fft.fftshift(a)", a=R(3, 4)), C("np.fft.fftshift(a, axes=1)", a=R(3, 5), dtypes=CPLX)],
    "numpy.fft.ifftshift": [C("np.fft.ifftshift(a)", a=R(5)), C("np.fft.ifftshift(a, (0,))", a=R(3, 2))],
    "adjoint.runtime.fit_like": [C("rt.fit_like(a, b)", a=R(3, 4), b=R(2, 6), dtypes=F64),
                                 C("rt.fit_like(a, b)", a=R(3), b=R(3), dtypes=CPLX),
                                 C("rt.fit_like(a, np.ones(5))", a=R(4), dtypes=CPLX)],
    # joining, moving and copying entries
    "numpy.column_stack": [C("np.column_stack([a, b])", a=R(3), b=R(3, 2)),
                           C("np.column_stack((a, b))", a=R(4), b=R(4), dtypes=CPLX)],
    "numpy.rot90": [C("np.rot90(a)", a=R(3, 4)), C("np.rot90(a, 3, (1, 2))", a=R(2, 3, 4)),
                    C("np.rot90(a, -2)", a=R(2, 3), dtypes=CPLX)],
    "numpy.rollaxis": [C("np.rollaxis(a, 2)", a=R(2, 3, 4)), C("np.rollaxis(a, 0, 3)", a=R(2, 3, 4)),
                       C("np.rollaxis(a, -1, -2)", a=R(2, 3, 4))],
    "numpy.insert": [C("np.insert(a, 1, b)", a=R(4), b=S(), dtypes=F64),
                     C("np.insert(a, [0, 2, 2], b, axis=1)", a=R(2, 3), b=R(2, 3)),
                     C("np.insert(a, 1, b, axis=0)", a=R(3, 2), b=R(2)),
                     C("np.insert(a, 2, b)", a=R(2, 2), b=R(3), dtypes=CPLX)],
    "numpy.delete": [C("np.delete(a, 1)", a=R(4)), C("np.delete(a, [0, 2], axis=1)", a=R(2, 4)),
                     C("np.delete(a, slice(1, 3), 0)", a=R(4, 2), dtypes=CPLX)],
    "numpy.partition": [C("np.partition(a, 2)", a=Distinct(5)), C("np.partition(a, (0, 2), axis=0)", a=Distinct(4, 3)),
                        C("np.partition(a, 3, axis=None)", a=Distinct(2, 3))],
    "numpy.diff": [C("np.diff(a)", a=R(5)), C("np.diff(a, 2, axis=0)", a=R(4, 3)),
                   C("np.diff(a, prepend=np.float32(0.5), append=np.ones((2, 1), a.dtype))", a=R(2, 3)),
                   C("np.diff(a, 3)", a=R(2, 5), dtypes=CPLX)],
    "numpy.ediff1d": [C("np.ediff1d(a)", a=R(2, 3)), C("np.ediff1d(a, to_end=[1.0, 2.0], to_begin=3.0)", a=R(4))],
    "numpy.gradient": [C("np.gradient(a)", a=R(5)), C("np.gradient(a, 0.5, edge_order=2)", a=R(6)),
                       C("np.gradient(a, axis=1)", a=R(3, 4)),
                       C("np.gradient(a)[0] * np.gradient(a)[1]", a=R(3, 4)),
                       C("np.gradient(a, np.array([0.0, 0.5, 1.5, 2.0]))", a=R(4), dtypes=CPLX)],
    "numpy.nan_to_num": [C("np.nan_to_num(np.log(a))", a=R(3, 4)),
                         C("np.nan_to_num(np.log(a), nan=1.0, neginf=-5.0) * a", a=R(4), dtypes=F64),
                         C("np.nan_to_num(a)", a=R(3), dtypes=CPLX)],
    "numpy.real_if_close": [C("np.real_if_close(a + 0j)", a=R(3)), C("np.real_if_close(a)", a=R(3), dtypes=CPLX)],
    "numpy.piecewise": [C("np.piecewise(a, [a < 0, a > 0.5], [np.sin, np.square, np.exp])", a=R(3, 4)),
                        C("np.piecewise(a, a > 0, [np.tanh, 0.5])", a=R(5)),
                        C("np.piecewise(a * s, [a < 0.2, a > -0.2], [np.tanh, np.cos])", a=R(4), s=S(0.5, 1.5),
                          dtypes=F64),
                        C("np.piecewise(a, [np.real(a) < 0], [np.sin, np.exp])", a=R(3), dtypes=CPLX)],
    "numpy.select": [C("np.select([a > 0.5, a < 0], [a, b ** 2], b)", a=R(3, 4), b=R(4)),
                     C("np.select([a > 0], [a * 2.0])", a=R(5))],
    # np.interp computes in float64 whatever its input
    "numpy.interp": [C("np.interp(x, np.array([0.0, 0.5, 1.5, 2.0]), fp)", x=R(3, 2, lo=-0.5, hi=2.5), fp=R(4),
                       dtypes=F64),
                     C("np.interp(x, np.array([0.0, 1.0, 3.0]), fp, left=-1.0, right=2.0)", x=R(5, lo=-1, hi=4), fp=R(3),
                       dtypes=F64),
                     C("np.interp(s, np.array([0.0, 1.0]), fp)", s=S(0.1, 0.9), fp=R(2), dtypes=F64),
                     C("np.interp(np.real(x), np.array([0.0, 1.0, 2.0]), fp)", x=R(4, lo=-0.5, hi=2.5), fp=R(3),
                       dtypes=("complex128",))],
    "adjoint.runtime.routed": [C("rt.routed(c, np.array([2, 0, 2, 1]), a)", c=R(4), a=R(3), dtypes=F64),
                               C("rt.routed(c, np.array([[3, 4], [0, 5]]), a, 3)", c=R(2, 2), a=R(3), dtypes=F64)],
    "adjoint.runtime.unrouted": [C("rt.unrouted(c, np.array([2, 0, 2, 1]), a)", c=R(3), a=R(3), dtypes=F64)],
    "adjoint.runtime.apply_along": [C("rt.apply_along(np.arange(6.0).reshape(2, 3), x, 0)", x=R(3, 4), dtypes=F64)],
    "adjoint.runtime.gradient_grad": [C("rt.gradient_grad(c, a, 0.5)", c=R(4), a=R(4), dtypes=F64),
                                      C("rt.gradient_grad([c, d], a)", c=R(3, 4), d=R(3, 4), a=R(3, 4), dtypes=F64)],
    "adjoint.runtime.finite_parts": [C("rt.finite_parts(c, np.array([1.0, np.inf, 2.0]))", c=R(3), dtypes=F64)],
    "adjoint.runtime.select_grad": [C("np.array(rt.select_grad(c, [a > 0, a < 0.5], [a, b]))", c=R(4), a=R(4), b=R(4),
                                      dtypes=F64)],
    "adjoint.runtime.interp_matrix": [C("rt.interp_matrix(x, np.array([0.0, 0.5, 2.0]))", x=R(3, lo=-0.5, hi=2.5),
                                        dtypes=F64)],
    "adjoint.runtime.sort_grad": [C("rt.sort_grad(c, a, 0)", c=R(3, 2), a=Distinct(3, 2), dtypes=F64)],
    "adjoint.runtime.sort_jvp": [C("rt.sort_jvp(c, a, None)", c=R(2, 3), a=Distinct(2, 3), dtypes=F64)],
    "numpy.meshgrid": [C("np.meshgrid(a, b)[0] * np.meshgrid(a, b)[1]", a=R(3), b=R(2)),
                       C("np.meshgrid(a, b, c, indexing='ij')[2] + np.meshgrid(a, b, c, indexing='ij')[0]",
                         a=R(2), b=R(3), c=R(2)),
                       C("np.meshgrid(a, b, sparse=True)[1] * 2.0", a=R(2, 2), b=R(3)),
                       C("np.meshgrid(a)[0]", a=R(3), dtypes=CPLX)],
    # reductions
    "numpy.nanmean": [C("np.nanmean(np.where(a > 0.5, np.nan, a))", a=R(3, 4)),
                      C("np.nanmean(np.where(a > 0.5, np.nan, a), axis=1, keepdims=True)", a=R(3, 4)),
                      C("np.nanmean(a, axis=0)", a=R(3, 2), dtypes=CPLX)],
    "numpy.nanmax": [C("np.nanmax(np.where(a > 1.0, np.nan, a), axis=0)", a=Distinct(3, 4)),
                     C("np.nanmin(np.where(a < -1.0, np.nan, a))", a=Distinct(3, 4)),
                     C("np.nanmax(a, axis=1, keepdims=True)", a=Distinct(2, 3))],
    "numpy.nanvar": [C("np.nanvar(np.where(a > 0.5, np.nan, a))", a=R(3, 4)),
                     C("np.nanvar(np.where(a > 0.6, np.nan, a), axis=1, ddof=1, keepdims=True)", a=R(3, 4)),
                     C("np.nanvar(a)", a=R(4), dtypes=CPLX)],
    "numpy.nanstd": [C("np.nanstd(np.where(a > 0.5, np.nan, a), axis=0)", a=R(4, 3)),
                     C("np.nanstd(a, ddof=1)", a=R(5))],
    "numpy.nanprod": [C("np.nanprod(np.where(a > 1.3, np.nan, a))", a=P(3, 2)),
                      C("np.nanprod(np.where(a > 0.5, np.nan, a), axis=1)", a=R(3, 4))],
    "numpy.ptp": [C("np.ptp(a)", a=Distinct(3, 4)), C("np.ptp(a, axis=1, keepdims=True)", a=Distinct(3, 4))],
    "numpy.quantile": [C("np.quantile(a, 0.3)", a=Distinct(7)),
                       C("np.quantile(a, [0.2, 0.9], axis=1)", a=Distinct(3, 5), dtypes=F64),
                       C("np.quantile(a, 0.4, axis=(0, 2), keepdims=True)", a=Distinct(2, 3, 2)),
                       C("np.quantile(a, np.array([[0.1], [0.5]]), axis=0, method='midpoint')", a=Distinct(4, 3), dtypes=F64),
                       C("np.quantile(a, 0.35, method='lower') + np.quantile(a, 0.35, method='higher')"
                         " + np.quantile(a, 0.35, method='nearest')", a=Distinct(6))],
    "numpy.percentile": [C("np.percentile(a, 30)", a=Distinct(3, 4)),
                         C("np.percentile(a, [10, 50], axis=0, keepdims=True)", a=Distinct(4, 3), dtypes=F64)],
    "numpy.median": [C("np.median(a)", a=Distinct(5)), C("np.median(a)", a=Distinct(2, 3)),
                     C("np.median(a, axis=1, keepdims=True)", a=Distinct(3, 4))],
    "numpy.trapezoid": [C("np.trapezoid(a)", a=R(5)), C("np.trapezoid(a, dx=0.5, axis=0)", a=R(4, 3)),
                        C("np.trapezoid(a, np.array([0.0, 0.5, 1.5, 2.0]))", a=R(2, 4), dtypes=F64),
                        C("np.trapezoid(a, np.array([[0.0, 1.0], [0.5, 3.0]]), axis=0)", a=R(2, 2), dtypes=F64),
                        C("np.trapezoid(a)", a=R(4), dtypes=CPLX)],
    "numpy.cumulative_sum": [C("np.cumulative_sum(a)", a=R(4)), C("np.cumulative_sum(a, axis=1, include_initial=True)", a=R(3, 4)),
                             C("np.cumulative_sum(a, axis=0)", a=R(3, 2), dtypes=CPLX)],
    "numpy.cumulative_prod": [C("np.cumulative_prod(a)", a=P(4)),
                              C("np.cumulative_prod(a, axis=0, include_initial=True)", a=R(3, 4))],
    "adjoint.runtime.quantile_grad": [C("rt.quantile_grad(c, a, [0.3, 0.6], 0)", c=R(2, 3), a=Distinct(4, 3), dtypes=F64)],
    "adjoint.runtime.quantile_jvp": [C("rt.quantile_jvp(c, a, 0.3, None, True)", c=R(4, 3), a=Distinct(4, 3), dtypes=F64)],
    # products and numpy.linalg
    "numpy.linalg.eig": [C("np.linalg.eig(a)[0]", a=Spread(3, 3)), C("np.linalg.eig(a)[1] ** 2", a=Spread(3, 3)),
                         C("np.linalg.eig(a)[0] * np.sum(np.linalg.eig(a)[1], axis=-2)", a=Spread(2, 3, 3)),
                         C("np.abs(np.linalg.eig(a)[1]) ** 2 + np.linalg.eig(a)[0]", a=Spread(3, 3), dtypes=CPLX),
                         C("(np.imag(np.linalg.eig(a)[0]) == 0) * np.linalg.eig(a)[1] ** 2", a=Turning(3, 3))],
    "adjoint.runtime.multi_dot_grad": [
        C("rt.multi_dot_grad(c, [np.ones(3), np.eye(3) + 0.5, np.ones((3, 2))])[1]", c=R(2), dtypes=F64),
        C("rt.multi_dot_grad(c, [np.ones((2, 3)), np.ones(3)])[0]", c=R(2), dtypes=F64)],
    "adjoint.runtime.phase_free": [C("rt.phase_free(a)", a=R(2, 2), dtypes=F64)],
    "adjoint.runtime.eig_vector_cotangent": [
        C("rt.eig_vector_cotangent(c, np.eye(2), np.array([1.0, 2.0 + 1.0j]))", c=R(2, 2), dtypes=CPLX)],
    "numpy.linalg.eigvals": [C("np.linalg.eigvals(a)", a=R(3, 3)), C("np.linalg.eigvals(a)", a=Spread(2, 3, 3)),
                             C("np.linalg.eigvals(a)", a=R(3, 3), dtypes=CPLX)],
    "numpy.linalg.multi_dot": [C("np.linalg.multi_dot([a, b, c])", a=R(2, 3), b=R(3, 4), c=R(4, 2)),
                               C("np.linalg.multi_dot([a, b, c, d])", a=R(3), b=R(3, 2), c=R(2, 4), d=R(4)),
                               C("np.linalg.multi_dot([a, b])", a=R(2, 3), b=R(3), dtypes=CPLX)],
    "numpy.linalg.tensorsolve": [C("np.linalg.tensorsolve(a, b)", a=WellTensor(2, 3, 6), b=R(2, 3)),
                                 C("np.linalg.tensorsolve(a, b)", a=Well(3, 3), b=R(3), dtypes=CPLX)],
    "numpy.linalg.tensorinv": [C("np.linalg.tensorinv(a)", a=WellTensor(2, 2, 4)),
                               C("np.linalg.tensorinv(a, 1)", a=Well(3, 3), dtypes=CPLX)],
    "numpy.linalg.outer": [C("np.linalg.outer(a, b)", a=R(3), b=R(2)), C("np.linalg.outer(a, b)", a=R(2), b=R(3), dtypes=CPLX)],
    "numpy.linalg.vecdot": [C("np.linalg.vecdot(a, b)", a=R(2, 3), b=R(3)), C("np.vecdot(a, b, axis=0)", a=R(3, 2), b=R(3, 1)),
                            C("np.linalg.vecdot(a, b)", a=R(2, 3), b=R(2, 3), dtypes=CPLX)],
    "numpy.cross": [C("np.cross(a, b)", a=R(3), b=R(2, 3)), C("np.cross(a, b, axisa=0, axisb=1, axisc=0)", a=R(3, 2), b=R(2, 3)),
                    C("np.cross(a, b, axis=0)", a=R(3, 2), b=R(3, 2), dtypes=CPLX)],
    "numpy.linalg.cross": [C("np.linalg.cross(a, b)", a=R(2, 3), b=R(3)), C("np.linalg.cross(a, b, axis=0)", a=R(3, 2), b=R(3, 2), dtypes=CPLX)],
    "numpy.convolve": [C("np.convolve(a, v)", a=R(5), v=R(3)), C("np.convolve(a, v, 'same')", a=R(3), v=R(6)),
                       C("np.convolve(a, v, 'same')", a=R(6), v=R(4)), C("np.convolve(a, v, mode='valid')", a=R(2), v=R(5)),
                       C("np.convolve(a, v, 'same')", a=R(4), v=R(3), dtypes=CPLX)],
    "numpy.correlate": [C("np.correlate(a, v)", a=R(5), v=R(3)), C("np.correlate(a, v, 'full')", a=R(3), v=R(4)),
                        C("np.correlate(a, v, 'same')", a=R(4), v=R(7)), C("np.correlate(a, v, 'same')", a=R(5), v=R(2)),
                        C("np.correlate(a, v, 'full')", a=R(4), v=R(3), dtypes=CPLX),
                        C("np.correlate(a, v, 'same')", a=R(2), v=R(5), dtypes=CPLX)],
    "numpy.polyval": [C("np.polyval(p, x)", p=R(4), x=R(3, 2)), C("np.polyval(p, s)", p=R(3), s=S(), dtypes=F64),
                      C("np.polyval(p, x)", p=R(1), x=R(3)), C("np.polyval(p, x)", p=R(3), x=R(2), dtypes=CPLX)],
    "numpy.einsum": [C("np.einsum(a, [0, 1], b, [1, 2], [0, 2])", a=R(2, 3), b=R(3, 4)),
                     C("np.einsum(a, [Ellipsis, 0], b, [0])", a=R(2, 3), b=R(3), dtypes=CPLX),
                     C("np.einsum(a, [0, 1], b, [1], c, [0])", a=R(2, 3), b=R(3), c=R(2))],
    "operator.matmul": [C("a @ b", a=R(2, 3, 4), b=R(2, 4, 5)), C("a @ b", a=R(3), b=R(2, 3, 4)),
                        C("a @ b", a=R(2, 3, 2, 4), b=R(4)), C("a @ b", a=R(2, 1, 2, 3), b=R(1, 4, 3, 2), dtypes=CPLX)],
}

NO_DERIVATIVE = {
    "adjoint.runtime.dual_norm": "rt.dual_norm('backward') == 'forward'",
    "adjoint.runtime.fft_axes": "rt.fft_axes(a, [3], None)[0]",
    "adjoint.runtime.fft_shape": "rt.fft_shape(a, None, (1, 0))[0]",
    "adjoint.runtime.pair_weights": "rt.pair_weights(a, 6, 1)",
    "adjoint.runtime.rollaxis_target": "rt.rollaxis_target(a, 1, 0)",
    "adjoint.runtime.entry_ids": "rt.entry_ids(a, 2)",
    "adjoint.runtime.diff_matrix": "rt.diff_matrix(a, 2, 1)",
    "adjoint.runtime.gradient_matrix": "rt.gradient_matrix(len(a))",
    "adjoint.runtime.ediff1d_core": "np.ones(12)[rt.ediff1d_core(a, 1.0, None)]",
    "adjoint.runtime.select_none": "rt.select_none([a > 0.2, a < s])",
    "adjoint.runtime.interp_segment": "rt.interp_segment(a, np.array([0.0, 0.2, 0.5]))",
    "adjoint.runtime.interp_inside": "rt.interp_inside(a, np.array([0.0, 0.2, 0.5]))",
    "adjoint.runtime.interp_slopes": "rt.interp_slopes(a, np.array([0.0, 0.2, 0.5]))",
    "adjoint.runtime.zeros_or_none": "rt.zeros_or_none(a)",
    "adjoint.runtime.trapezoid_weights": "rt.trapezoid_weights(a, None, 0.5, 0)",
    "adjoint.runtime.initial_part": "len(rt.initial_part(a, 1, True))",
    "adjoint.runtime.tensor_matrix_shape": "rt.tensor_matrix_shape(a, 1)[1]",
    "adjoint.runtime.conv_margins": "rt.conv_margins(a, a[0], 'same')[0]",
    "adjoint.runtime.poly_exponents": "rt.poly_exponents(a, s)",
    "adjoint.runtime.grid_axis": "rt.grid_axis([a, a], 0)",
    "adjoint.runtime.grid_others": "rt.grid_others([a, a], 1, 'ij')[0]",
    "adjoint.runtime.nan_count": "rt.nan_count(np.where(a > 0, np.nan, a), 1)",
    "adjoint.runtime.initial_width": "np.array(rt.initial_width(a, 0, True))",
}

CASES.update({
    "numpy.block": [C("np.block([a, b])", a=R(2), b=R(3)), C("np.block([[a, b], [c, d]])", a=R(2, 2), b=R(2, 1),
                                                                  c=R(1, 2), d=R(1, 1)),
                    C("np.block([[a], [b]])", a=R(3), b=R(3), dtypes=CPLX)],
    "adjoint.runtime.unblock": [C("np.concatenate(rt.unblock(c, [a, b]))", c=R(5), a=R(2), b=R(3), dtypes=F64)],
    "adjoint.runtime.plain_lists": [C("np.block(rt.plain_lists([a, b]))", a=R(2), b=R(3), dtypes=F64)],
})
