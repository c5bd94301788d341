"""Test configuration.

The suite checks derivatives on the NumPy backend unless a test asks for
another: with numba installed, backend="auto" would compile every looping
function with Numba, which tests/test_numba.py covers on its own.
"""
import os

os.environ.setdefault("ADJOINT_BACKEND", "numpy")
