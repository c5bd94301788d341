"""Rules for ``numpy.fft``.

Every transform is linear (the real ones real-linear), so forward mode applies
it to the tangent. The adjoint of a linear map is its conjugate transpose, and
for the DFT matrix ``F`` that is ``n`` times the inverse: ``fft``'s adjoint is
``ifft`` with the dual normalisation (``backward`` <-> ``forward``, ``ortho``
stays), then ``fit_like`` undoes the padding or cutting of ``n=``/``s=``.

The real transforms keep half the spectrum. ``rfft``'s adjoint is
``Re(F^H R^T g)`` (``R^T`` fills the dropped bins with zeros); written with
``irfft``, which rebuilds the dropped bins as conjugates of the kept ones, each
kept bin that stands for a pair is halved (``g / pair_weights``). ``irfft``'s
adjoint is the other way round: ``rfft`` of ``g`` with those bins doubled, and
the imaginary parts of the constant and Nyquist bins, which ``irfft`` ignores,
get nothing. ``hfft(a) = irfft(conj(a))`` and ``ihfft(a) = conj(rfft(a))``
(each with the dual normalisation), so theirs follow.
"""
import numpy as np

from .registry import structural

ONE = "a, n=None, axis=-1, norm=None"
TWO = "a, s=None, axes=(-2, -1), norm=None"
ANY = "a, s=None, axes=None, norm=None"
DUAL = "dual_norm(norm)"

# -- complex transforms: the adjoint is the inverse transform with the dual normalisation -------
for forward, inverse in [(np.fft.fft, np.fft.ifft), (np.fft.ifft, np.fft.fft)]:
    structural(forward, ONE, jvp="linear",
               a=f"fit_like(np.fft.{inverse.__name__}(g, n, axis, {DUAL}), a)")
for forward, inverse in [(np.fft.fft2, np.fft.ifft2), (np.fft.ifft2, np.fft.fft2)]:
    structural(forward, TWO, jvp="linear",
               a=f"fit_like(np.fft.{inverse.__name__}(g, s, axes, {DUAL}), a)")
for forward, inverse in [(np.fft.fftn, np.fft.ifftn), (np.fft.ifftn, np.fft.fftn)]:
    structural(forward, ANY, jvp="linear",
               a=f"fit_like(np.fft.{inverse.__name__}(g, None, fft_axes(a, s, axes), {DUAL}), a)")

# -- real transforms: a kept bin that stands for a conjugate pair counts twice ------------------
N_IN, N_OUT = "fft_shape(a, n, axis)", "fft_shape(ans, n, axis)"
AXES = "fft_axes(a, s, axes)"
S_IN, S_OUT = f"fft_shape(a, s, {AXES})", f"fft_shape(ans, s, {AXES})"
structural(np.fft.rfft, ONE, jvp="linear", notes="real input",
           a=f"fit_like(np.fft.irfft(g / pair_weights(g, {N_IN}, axis), {N_IN}, axis, {DUAL}), a)")
structural(np.fft.irfft, ONE, jvp="linear",
           a=f"fit_like(np.fft.rfft(np.real(g), {N_OUT}, axis, {DUAL})"
             f" * pair_weights(g, {N_OUT}, axis), a)")
for forward, inverse, params in [(np.fft.rfft2, np.fft.irfft2, TWO), (np.fft.rfftn, np.fft.irfftn, ANY)]:
    structural(forward, params, jvp="linear", notes="real input",
               a=f"fit_like(np.fft.{inverse.__name__}(g / pair_weights(g, {S_IN}, {AXES}), {S_IN},"
                 f" {AXES}, {DUAL}), a)")
for forward, inverse, params in [(np.fft.irfft2, np.fft.rfft2, TWO), (np.fft.irfftn, np.fft.rfftn, ANY)]:
    structural(forward, params, jvp="linear",
               a=f"fit_like(np.fft.{inverse.__name__}(np.real(g), {S_OUT}, {AXES}, {DUAL})"
                 f" * pair_weights(g, {S_OUT}, {AXES}), a)")
# hfft(a, n, axis, norm) = irfft(conj(a), n, axis, dual(norm)); ihfft = conj(rfft(a, .., dual(norm)))
structural(np.fft.hfft, ONE, jvp="linear",
           a=f"conj(fit_like(np.fft.rfft(np.real(g), {N_OUT}, axis, norm)"
             f" * pair_weights(g, {N_OUT}, axis), a))")
structural(np.fft.ihfft, ONE, jvp="linear", notes="real input",
           a=f"fit_like(np.fft.irfft(conj(g) / pair_weights(g, {N_IN}, axis), {N_IN}, axis, norm), a)")

# -- shifts: permutations, undone by the other shift ------------------------------------------------
structural(np.fft.fftshift, "x, axes=None", x="np.fft.ifftshift(g, axes)", jvp="linear")
structural(np.fft.ifftshift, "x, axes=None", x="np.fft.fftshift(g, axes)", jvp="linear")

# -- the helpers' own rules, for second derivatives -------------------------------------------------
from .. import runtime as rt  # noqa: E402
from .registry import inactive  # noqa: E402

structural(rt.fit_like, "x, like", static="like", x="fit_like(g, x)", jvp="linear",
           notes="cuts or zero-pads; its own adjoint")
inactive([rt.dual_norm, rt.fft_axes, rt.fft_shape, rt.pair_weights])
