"""Functions with misspelt names, for tests/test_error_frames.py (each marked line is the typo)."""
import numpy as np


def tahn_typo(x):
    return np.sum(np.tahn(x))  # typo


def nrom_typo(x):
    return np.linalg.nrom(x)  # typo


def name_typo(x):
    return np.sum(helpr(x))  # typo


def no_match(x):
    return np.sum(np.xyzzy(x))  # typo


def helper(x):
    return x * 2.0


def fine(x):
    return np.sum(np.tanh(x))
