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
    (bad.uses_try, adjoint.UnsupportedSyntaxError, "in the finally of a try in a loop"),
    (bad.uses_generator, adjoint.UnsupportedSyntaxError, "generator"),
    (bad.uses_global, adjoint.UnsupportedSyntaxError, "assigning the global"),
    (bad.nested_def, adjoint.UnsupportedSyntaxError, "nested def"),
    (bad.uses_with, adjoint.UnsupportedSyntaxError, "inside a with-block"),
    (bad.no_rule, adjoint.NotDifferentiableError, "unwrap"),
    (bad.writes_view, adjoint.UnsupportedSyntaxError, "view"),
    (bad.writes_element, adjoint.UnsupportedSyntaxError, "NumPy scalar"),
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


def notes(exc):
    """The notes adjoint added to ``exc`` (in its message on Python 3.10, which has no notes)."""
    return "\n".join(getattr(exc, "__notes__", [])) or str(exc)


def _frames(tb):
    import traceback
    return [frame.f_code.co_filename for frame, _ in traceback.walk_tb(tb)]


@pytest.mark.parametrize("transform", ["grad", "value_and_grad", "vjp"])
def test_error_in_generated_code_names_the_users_line(transform):
    """The user's own exception, noting their line, with adjoint's frames hidden."""
    with pytest.raises(ValueError, match="broadcast") as info:
        getattr(adjoint, transform)(bad.shape_mismatch)(np.ones(3))
    exc = info.value
    note = "\n".join(getattr(exc, "__notes__", [])) or str(exc)
    assert f"bad_functions.py:{marked_line(bad.shape_mismatch)}" in note
    assert "# error here" in note
    package = os.path.dirname(adjoint.__file__) + os.sep
    ours = [f for f in _frames(info.tb) if f.startswith(package)]
    assert ours == [os.path.join(package, "api.py")]  # only the call that re-raises it
    assert any(f.startswith("<adjoint:") for f in _frames(info.tb))  # the generated line stays


def test_error_in_jvp_names_the_users_line():
    with pytest.raises(ValueError) as info:
        adjoint.jvp(bad.shape_mismatch)((np.ones(3),), (np.ones(3),))
    assert f"bad_functions.py:{marked_line(bad.shape_mismatch)}" in notes(info.value)


def test_users_own_exception_keeps_its_type_and_cause():
    with pytest.raises(NameError, match="not_defined_anywhere") as info:
        adjoint.grad(bad.undefined_name)(np.ones(3))
    assert "bad_functions.py:" in notes(info.value)


def test_internal_failure_in_a_pass_is_an_internal_error(monkeypatch):
    from adjoint.passes import simplify

    def broken(*args, **kwargs):
        raise RuntimeError("a pass broke")

    monkeypatch.setattr(simplify, "dead_restores", broken)
    monkeypatch.setattr(adjoint.api, "_CACHE", {})
    with pytest.raises(adjoint.InternalError, match="a pass broke") as info:
        adjoint.grad(bad.scalar, backend="numpy")(1.0, 2.0)
    exc = info.value
    assert isinstance(exc, adjoint.AdjointError)
    assert os.path.basename(exc.filename) == "bad_functions.py"
    assert exc.generated_source is None  # it failed before the text was written
    assert isinstance(exc.__cause__, RuntimeError)
    assert "bug in adjoint" in str(exc)


def test_internal_failure_in_generated_text_names_both_lines(monkeypatch):
    """Generated text that does not compile: the user's line, the generated line, the source."""
    from adjoint import compile as comp
    real = comp._module

    def corrupt(program, title):
        source, chunks, header = real(program, title)
        lines = source.splitlines()
        at = next(k for k, text in enumerate(lines) if text.strip() == "y = x * n") + 1
        lines[at - 1] = lines[at - 1].replace("y = x * n", "y = x * (n")
        return "\n".join(lines) + "\n", chunks, header

    monkeypatch.setattr(comp, "_module", corrupt)
    monkeypatch.setattr(adjoint.api, "_CACHE", {})
    with pytest.raises(adjoint.InternalError) as info:
        adjoint.grad(two_lines, backend="numpy")(1.0, 2.0)
    exc = info.value
    assert exc.lineno == marked_line(two_lines)
    assert exc.generated_source.splitlines()[exc.generated_line - 1].strip() == "y = x * (n"
    assert f"generated line {exc.generated_line}" in str(exc)


def two_lines(x, n):
    y = x * n  # error here
    return y * y


GENERATED = """\
def f_grad(x, c):
    t_tape = []
    # model.py:3: if c:
    if c:
        # model.py:4: y = 1.0
        y = 1.0
    z = 2.0
    if c:
        # model.py:7: w = 1.0
        w = 1.0
    else:
        v = 2.0
    return z
"""


@pytest.mark.parametrize("line,origin", [(2, None), (4, 3), (6, 4), (7, 3), (10, 7), (12, 3),
                                         (13, 3)])
def test_generated_lines_map_back_through_nested_blocks(line, origin):
    """A line's comment is the nearest above at its depth or shallower, never a nested block's."""
    import linecache
    from adjoint.errors import generated_origin, register_origins
    name = "<adjoint: grad of f, model.py:1>"
    linecache.cache[name] = (len(GENERATED), None, GENERATED.splitlines(True), name)
    register_origins(name, ["/somewhere/model.py"])
    want = None if origin is None else ("/somewhere/model.py", origin)
    assert generated_origin(name, line) == want


def loop_mismatch(x):
    s = 0.0
    for i in range(3):
        if s < 1.0:
            s = s + np.sum(x * np.ones(4))  # error here
    return s


def test_error_inside_a_loop_names_its_line():
    with pytest.raises(ValueError) as info:
        adjoint.grad(loop_mismatch, backend="numpy")(np.ones(3))
    assert f"test_errors.py:{marked_line(loop_mismatch)}" in notes(info.value)


# -- functions that are not plain Python functions -------------------------------------
def test_partial_binds_its_arguments():
    import functools
    f = functools.partial(bad.scalar, n=3.0)
    assert adjoint.grad(f)(2.0) == 3.0
    g = functools.partial(two_lines, 2.0)  # x bound: wrt=0 is n
    np.testing.assert_allclose(adjoint.grad(g)(1.5), 2 * (2.0 * 1.5) * 2.0)
    assert adjoint.value_and_grad(g)(1.5) == (9.0, 12.0)
    out, pullback = adjoint.vjp(g)(1.5)
    assert out == 9.0 and pullback(1.0) == 12.0
    assert adjoint.jvp(g)((1.5,), (1.0,)) == (9.0, 12.0)
    assert adjoint.jvp(g, wrt=0)((1.5,), (2.0,)) == (9.0, 24.0)
    d = adjoint.grad(g)
    d(1.5)
    assert "def two_lines_grad(x, n):" in d.source


class Model:
    def loss(self, x):
        return x * x * 3.0


def test_bound_method_binds_self():
    assert adjoint.grad(Model().loss)(2.0) == 12.0


def test_unknown_backend_is_an_adjoint_error():
    with pytest.raises(adjoint.AdjointError, match="backend must be"):
        adjoint.grad(bad.scalar, backend="gpu")(1.0, 2.0)


def test_ufunc_and_builtin_are_refused_clearly():
    with pytest.raises(adjoint.SourceUnavailableError, match=r"ufunc.*def f\(x\): return np.sin"):
        adjoint.grad(np.sin)(1.0)
    with pytest.raises(adjoint.SourceUnavailableError, match="no Python source"):
        adjoint.grad(max)(1.0, 2.0)


SCALE = 3.0


def default_helper(x, s=SCALE, *, p=-2.0):
    return s * x ** p


def calls_default_helper(x):
    return default_helper(x) + default_helper(x, 1.0, p=2.0)


def make_enclosed():
    k = 2.0

    def helper(x, s=k):
        return s * x * x

    def loss(x):
        return np.sum(helper(x))
    return loss


def test_helper_defaults_are_the_values_python_bound():
    """Defaults are the values Python bound where the helper was defined, not re-evaluated."""
    global SCALE
    x = 1.3
    want = 3.0 * -2.0 * x ** -3.0 + 2.0 * x
    SCALE = 10.0  # rebinding the name does not change the default Python bound
    try:
        assert adjoint.grad(calls_default_helper)(x) == pytest.approx(want)
    finally:
        SCALE = 3.0
    x = np.array([0.5, -1.0])
    np.testing.assert_allclose(adjoint.grad(make_enclosed())(x), 4.0 * x)
