"""User programs for ``test_numpy_rules.py``: NumPy functions inside ordinary code."""
import numpy as np

rng = np.random.default_rng(12)


def spectrum_power(x, h):
    """A circular convolution through the FFT, and the power of a padded spectrum."""
    y = np.fft.irfft(np.fft.rfft(x) * np.fft.rfft(h), len(x))
    z = np.fft.fftshift(np.fft.fft2(np.outer(x, h), (6, 5), norm="ortho"))
    return np.sum(y ** 2) + np.sum(np.abs(z) ** 2)


def piecewise_with_functions(x):
    return np.sum(np.piecewise(x, [x < 0, x >= 0], [lambda v: -v, lambda v: v ** 2]))


def fft_into_out(x):  # out= is lowered to a write of the result
    out = np.zeros(4, dtype=complex)
    return np.sum(np.abs(np.fft.fft(x, out=out)))


CASES = [
    (spectrum_power, (rng.normal(size=5), rng.normal(size=5))),
    (fft_into_out, (rng.normal(size=4),)),
]
REFUSED = [  # (function, argument, the line named)
    (piecewise_with_functions, rng.normal(size=4), "np.piecewise(x, [x < 0, x >= 0]"),
]
