"""User programs for ``test_numpy_rules.py``: NumPy functions inside ordinary code."""
import numpy as np

rng = np.random.default_rng(12)


def spectrum_power(x, h):
    """A circular convolution through the FFT, and the power of a padded spectrum."""
    y = np.fft.irfft(np.fft.rfft(x) * np.fft.rfft(h), len(x))
    z = np.fft.fftshift(np.fft.fft2(np.outer(x, h), (6, 5), norm="ortho"))
    return np.sum(y ** 2) + np.sum(np.abs(z) ** 2)


def negative(v):
    return -v


def square(v):
    return v ** 2


def piecewise_with_functions(x):
    """Each piece through its own function (a lambda, a function of the whole piece, a constant)."""
    y = np.piecewise(x, [x < 0, x >= 0], [negative, square])
    z = np.piecewise(x * 2.0, [x < -0.5, x > 0.5], [lambda v: np.sin(v) * v, np.tanh,
                                                     lambda v: v - np.mean(v) ** 2])
    return np.sum(y * z) + np.sum(np.piecewise(x, x > 0, [np.exp, 0.25]) ** 2)


def piecewise_reading_a_local(x):  # the function reads k, which adjoint cannot pass to it
    k = np.sum(x)
    return np.sum(np.piecewise(x, [x < 0], [lambda v: k * v, 0.0]))


def several_at_least(a, b):
    """atleast_2d/3d of several arrays: a tuple of views."""
    u, v = np.atleast_2d(a, b[0])
    p, q = np.atleast_3d(b, a * 2.0)
    return np.sum(u * v) + np.sum(p * q[..., :1]) + np.sum(np.concatenate(np.atleast_1d(b[1], a)) ** 2)


def atleast_of_nine(a):  # the rule takes up to 8 arrays
    return np.sum(np.atleast_2d(a, a, a, a, a, a, a, a, a)[0])


def writes_through_atleast(a):  # v is b itself: the write changes b
    b = a * 2.0
    u, v = np.atleast_1d(a, b)
    v[0] = 3.0
    return np.sum(b * b)


def fft_into_out(x):  # out= is lowered to a write of the result
    out = np.zeros(4, dtype=complex)
    return np.sum(np.abs(np.fft.fft(x, out=out)))


def robust_spread(x):
    """Quantiles, a median and nan-functions over a signal with its spikes masked out."""
    clean = np.where(np.abs(x) > 1.5, np.nan, x)
    return np.percentile(x, 75) - np.quantile(x, 0.25) + np.nanstd(clean) + np.median(x) * np.nanmax(clean)


def resampled(x, fp):
    """A curve resampled, differenced and integrated."""
    grid = np.linspace(0.0, 3.0, 7)
    y = np.interp(x, grid[::2], fp)
    return np.trapezoid(np.diff(y) ** 2) + np.sum(np.gradient(y) * np.polyval(fp, x))


def blocks_and_grids(a, b):
    gx, gy = np.meshgrid(a, b)
    m = np.block([[gx, gy], [gy, gx]])
    e = np.linalg.eigvals(m @ m.T + 4.0 * np.eye(len(m)))
    return np.sum(np.real(e)) + np.sum(np.r_[a, b] * np.c_[a, a][:, 1].sum()) + np.sum(np.select([m > 0], [m ** 2], m))


def products(a, b):
    return np.sum(np.cross(a, b) ** 2) + np.sum(np.convolve(a, b, "same")) * np.vecdot(a, b)


CASES = [
    (spectrum_power, (rng.normal(size=5), rng.normal(size=5))),
    (robust_spread, (rng.normal(size=9),)),
    (resampled, (rng.uniform(0.0, 3.0, size=5), rng.normal(size=4))),
    (blocks_and_grids, (rng.normal(size=3), rng.normal(size=2))),
    (products, (rng.normal(size=3), rng.normal(size=3))),
    (fft_into_out, (rng.normal(size=4),)),
    (piecewise_with_functions, (rng.normal(size=6),)),
    (several_at_least, (rng.normal(size=3), rng.normal(size=3))),
]
REFUSED = [  # (function, argument, the line named)
    (piecewise_reading_a_local, rng.normal(size=4), "reads the enclosing 'k'"),
]


def writes_through_rollaxis(x):
    y = np.rollaxis(x, 1)
    y[0] = 0.0
    return np.sum(x ** 2)


def writes_through_real_if_close(x):
    y = np.real_if_close(x)
    y[0] = 0.0
    return np.sum(x ** 2)


def median_in_place(x):
    return np.median(x, overwrite_input=True)


def eigenvector_phase(a):
    return np.sum(np.real(np.linalg.eig(a)[1]))


REFUSED += [
    (writes_through_rollaxis, rng.normal(size=(2, 3)), "y[0] = 0.0"),
    (writes_through_real_if_close, rng.normal(size=3), "y[0] = 0.0"),
    (median_in_place, rng.normal(size=5), "np.median(x, overwrite_input=True)"),
    (writes_through_atleast, rng.normal(size=3), "v[0] = 3.0"),
    (atleast_of_nine, rng.normal(size=3), "numpy.atleast_2d: too many positional arguments"),
]
