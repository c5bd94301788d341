"""Test configuration.

The suite checks derivatives on the NumPy backend unless a test asks for
another: with numba installed, backend="auto" would compile every looping
function with Numba, which tests/test_numba.py covers on its own.
"""
import atexit
import os
import shutil
import tempfile

os.environ.setdefault("ADJOINT_BACKEND", "numpy")

# Every generated backward sweep asserts that it emptied each of its tapes.
os.environ.setdefault("ADJOINT_CHECK_TAPES", "1")

# Compiled code goes to a cache of the test run's own, never a user's (not even one that
# $ADJOINT_CACHE names), removed when the run ends.
os.environ["ADJOINT_CACHE"] = tempfile.mkdtemp(prefix="adjoint-test-cache-")
atexit.register(shutil.rmtree, os.environ["ADJOINT_CACHE"], ignore_errors=True)
