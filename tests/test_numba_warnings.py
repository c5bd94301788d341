"""The Numba fallback warning: Numba's own reason, the user's function and line, the user's call."""
import importlib.util
import os
import warnings

import numpy as np
import pytest

pytest.importorskip("numba")

import adjoint  # noqa: E402


def row_maxima(A):
    s = 0.0
    for i in range(2):
        s = s + np.sum(np.max(A * (s + 1.0), axis=(0, 1)))  # Numba's np.max takes no tuple of axes
    return s


MAX_LINE = row_maxima.__code__.co_firstlineno + 3


def test_warning_quotes_numba_and_names_the_line_and_the_call():
    g = adjoint.grad(row_maxima, backend="numba")
    A = np.arange(6.0).reshape(2, 3)
    with pytest.warns(adjoint.BackendWarning) as record:
        got = g(A)  # the warning points here
    call_line = test_warning_quotes_numba_and_names_the_line_and_the_call.__code__.co_firstlineno + 4
    (w,) = record.list
    message = str(w.message)
    assert "row_maxima" in message
    assert f"test_numba_warnings.py:{MAX_LINE}" in message and "np.max(A * (s + 1.0), axis=(0, 1))" in message
    assert "Numba said: No implementation of function" in message and "max(array(float64, 2d" in message
    assert "Failed in nopython mode pipeline" not in message and " at 0x" not in message
    assert os.path.abspath(w.filename) == os.path.abspath(__file__) and w.lineno == call_line
    np.testing.assert_allclose(got, adjoint.grad(row_maxima, backend="numpy")(A))


def test_untyped_global_is_quoted():
    from adjoint.backends.numba import numba_reason

    class Refusal(Exception):
        pass
    text = ("Failed in nopython mode pipeline (step: nopython frontend)\n"
            "Untyped global name 'helper': Cannot determine Numba type of <class 'function'>\n"
            'File "x.py", line 3:')
    assert numba_reason(Refusal(text)) == \
        "Untyped global name 'helper': Cannot determine Numba type of <class 'function'>"


def column_maxima(A):
    s = 0.0
    for i in range(2):
        s = s + np.sum(np.max(A * (s + 1.0), axis=(0, 1)))
    return s


def test_no_warning_before_the_users_own_error():
    """Numba refuses a tuple of axes, and the NumPy twin raises the user's AxisError: no warning."""
    g = adjoint.grad(column_maxima, backend="numba")
    with warnings.catch_warnings():
        warnings.simplefilter("error", adjoint.BackendWarning)
        with pytest.raises(np.exceptions.AxisError):
            g(np.arange(3.0))  # a vector has no axis 1
    with pytest.warns(adjoint.BackendWarning):
        g(np.ones((2, 2)))  # a call that works says it once


def spectra(x):
    s = 0.0
    for i in range(2):
        s = s + np.sum(np.abs(np.fft.fft(x * (s + 1.0))))
    return s


def test_fft_refusal_names_np_fft_not_a_helper():
    """The adjoint's own helpers compile (``dual_norm``), so the reason quoted is ``np.fft``."""
    if importlib.util.find_spec("rocket_fft") is not None:
        pytest.skip("rocket-fft compiles np.fft")
    with pytest.warns(adjoint.BackendWarning) as record:
        got = adjoint.grad(spectra, backend="numba")(np.arange(4.0))
    message = str(record.list[0].message)
    assert "Unknown attribute 'fft'" in message and "dual_norm" not in message
    np.testing.assert_allclose(got, adjoint.grad(spectra, backend="numpy")(np.arange(4.0)))


def leading_mask(A):
    s = 0.0
    for i in range(2):
        B = A * (s + 1.0)
        s = s + np.sum(B[B[:, :, 0] > 0.0])  # a mask of two axes on three: Numba's lowering asserts
    return s


def test_numbas_own_assertion_names_the_line_and_numbas():
    A = np.random.default_rng(0).normal(size=(2, 2, 3))
    with pytest.warns(adjoint.BackendWarning) as record:
        got = adjoint.grad(leading_mask, backend="numba")(A)
    message = str(record.list[0].message)
    line = leading_mask.__code__.co_firstlineno + 4
    assert f"test_numba_warnings.py:{line}" in message and "B[B[:, :, 0] > 0.0]" in message
    assert "Numba said: AssertionError in Numba's" in message
    np.testing.assert_allclose(got, adjoint.grad(leading_mask, backend="numpy")(A))


def test_cannot_unify_names_the_users_variable():
    from adjoint.backends.numba import numba_reason
    text = ("Failed in nopython mode pipeline (step: nopython frontend)\n"
            "Cannot unify array(float64, 1d, C) and float64 for 'k1.5', defined at "
            "/c/adjoint_generated_5d29.py (58)\n")
    assert numba_reason(Exception(text)) == "Cannot unify array(float64, 1d, C) and float64 for 'k1'"


def strided_products(W, x):
    s = 0.0
    for i in range(2):
        s = s + np.sum(np.tanh(W[:, ::2] @ x[::2]) * (s + 1.0))  # '@' of strided views
    return s


def test_no_performance_hint_about_generated_code(tmp_path, monkeypatch):
    """Numba's hint that '@' is faster on contiguous arrays is about the generated module,
    which the user cannot change: compiled fresh, the gradient says nothing."""
    monkeypatch.setenv("ADJOINT_CACHE", str(tmp_path))
    numba = pytest.importorskip("numba")
    pytest.importorskip("scipy", reason="Numba's '@' needs SciPy")
    W, x = np.arange(12.0).reshape(3, 4) / 10, np.array([0.3, -0.2, 0.5, 0.1])
    with warnings.catch_warnings(record=True) as record:
        warnings.simplefilter("always")
        got = adjoint.grad(strided_products, (0, 1), backend="numba")(W, x)
    assert not [w for w in record if issubclass(w.category, (numba.core.errors.NumbaPerformanceWarning,
                                                              adjoint.BackendWarning))], record
    want = adjoint.grad(strided_products, (0, 1), backend="numpy")(W, x)
    for a, b in zip(got, want):
        np.testing.assert_allclose(a, b, rtol=1e-12)
