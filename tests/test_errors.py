"""Every error class names the user's file and line."""
import os

import numpy as np
import pytest

import adjoint

from . import bad_functions as bad


def marked_line(fun):
    """The line of ``fun`` carrying the '# error here' marker."""
    import inspect
    lines, first = inspect.getsourcelines(fun)
    for k, text in enumerate(lines):
        if "# error here" in text:
            return first + k
    raise AssertionError("no marker")


CASES = [
    (bad.uses_try, adjoint.UnsupportedSyntaxError, "try"),
    (bad.uses_generator, adjoint.UnsupportedSyntaxError, "generator"),
    (bad.uses_global, adjoint.UnsupportedSyntaxError, "global"),
    (bad.nested_def, adjoint.UnsupportedSyntaxError, "nested def"),
    (bad.uses_with, adjoint.UnsupportedSyntaxError, "with-block"),
    (bad.no_rule, adjoint.NotDifferentiableError, "fft"),
    (bad.writes_view, adjoint.UnsupportedSyntaxError, "view"),
    (bad.comprehension, adjoint.UnsupportedSyntaxError, "comprehension"),
]


@pytest.mark.parametrize("fun,error,word", CASES, ids=[f.__name__ for f, _, _ in CASES])
def test_error_names_file_and_line(fun, error, word):
    with pytest.raises(error) as info:
        adjoint.grad(fun)(np.ones(3))
    exc = info.value
    assert isinstance(exc, adjoint.AdjointError)
    assert os.path.basename(exc.filename) == "bad_functions.py"
    assert exc.lineno == marked_line(fun)
    text = str(exc)
    assert f"bad_functions.py:{exc.lineno}" in text
    assert word in text
    assert "# error here" in text  # the offending line is quoted


def test_non_scalar_output_suggests_vjp():
    with pytest.raises(adjoint.NonScalarOutputError) as info:
        adjoint.grad(bad.vector_output)(np.ones(3))
    assert info.value.lineno == marked_line(bad.vector_output)
    assert "vjp" in str(info.value)


def test_undefined_global_fails_like_python():
    # Globals are read at call time, as by the original function.
    with pytest.raises(NameError, match="not_defined_anywhere"):
        adjoint.grad(bad.undefined_name)(np.ones(3))


def test_integer_argument_is_refused():
    with pytest.raises(adjoint.WrtError, match="integer"):
        adjoint.grad(bad.scalar)(3, 2.0)
    with pytest.raises(adjoint.WrtError, match="dtype"):
        adjoint.grad(bad.scalar)(np.arange(3), 2.0)
    with pytest.raises(adjoint.WrtError, match="None"):
        adjoint.grad(bad.scalar)(None, 2.0)


def test_integer_argument_is_refused_after_a_float_call():
    """The compiled derivative is cached per call key; an int of the same rank is still refused."""
    g = adjoint.grad(bad.scalar)
    assert g(3.0, 2.0) == pytest.approx(adjoint.grad(bad.scalar, backend="numpy")(3.0, 2.0))
    with pytest.raises(adjoint.WrtError, match="integer"):
        g(3, 2.0)
    assert g(np.array(1.5), 2.0) == 2.0
    with pytest.raises(adjoint.WrtError, match="dtype"):
        g(np.array(3), 2.0)
    with pytest.raises(adjoint.WrtError, match="None"):
        g(None, 2.0)


def test_wrt_must_name_a_parameter():
    with pytest.raises(adjoint.WrtError, match="no parameter"):
        adjoint.grad(bad.scalar, wrt="y")
    with pytest.raises(adjoint.WrtError, match="out of range"):
        adjoint.grad(bad.scalar, wrt=5)


def test_source_unavailable_has_hint():
    namespace = {}
    exec("def f(x):\n    return x * 2.0\n", namespace)
    with pytest.raises(adjoint.SourceUnavailableError, match="source"):
        adjoint.grad(namespace["f"])(1.0)


def test_errors_share_a_base_class():
    for cls in (adjoint.UnsupportedSyntaxError, adjoint.NotDifferentiableError,
                adjoint.NonScalarOutputError, adjoint.SourceUnavailableError, adjoint.WrtError):
        assert issubclass(cls, adjoint.AdjointError)
