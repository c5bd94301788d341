"""numba-jitted helpers called from differentiated code (tests/test_closures.py)."""
import numba
import numpy as np


@numba.njit
def jit_square(x):
    return x * x


@numba.njit
def jit_count(n):
    total = 0
    for k in range(n):
        total += k
    return total


def calls_jitted(w, x):
    return np.sum(jit_square(x * w))


def calls_jitted_inactive(w, n):
    k = jit_count(n)
    return w * k + np.sum(jit_square(w))
