"""Cases of ``tests/test_rules.py``'s table for ``numpy.fft`` and the NumPy functions beyond
the core set (joined into ``CASES`` and ``NO_DERIVATIVE`` there)."""
from __future__ import annotations

from .test_rules import CPLX, F64, REAL, C, Distinct, P, R, S, Well  # noqa: F401

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
}

NO_DERIVATIVE = {
    "adjoint.runtime.dual_norm": "rt.dual_norm('backward') == 'forward'",
    "adjoint.runtime.fft_axes": "rt.fft_axes(a, [3], None)[0]",
    "adjoint.runtime.fft_shape": "rt.fft_shape(a, None, (1, 0))[0]",
    "adjoint.runtime.pair_weights": "rt.pair_weights(a, 6, 1)",
}
