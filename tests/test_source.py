"""The generated source: valid, deterministic, self-contained and free of dead statements."""
import ast
import re
import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest

import adjoint

from . import constructs as c
from .test_constructs import CASES

FUNCTIONS = sorted({f for f, _, _ in CASES}, key=lambda f: f.__name__)


def _wrt(fun):
    return next(w for f, _, w in CASES if f is fun)


@pytest.mark.parametrize("fun", FUNCTIONS, ids=[f.__name__ for f in FUNCTIONS])
def test_source_is_valid_python_and_deterministic(fun):
    text = adjoint.grad(fun, _wrt(fun)).source
    ast.parse(text)
    adjoint.api._CACHE.clear()
    adjoint.frontend._PARSED.clear()
    assert adjoint.grad(fun, _wrt(fun)).source == text


@pytest.mark.parametrize("fun", FUNCTIONS, ids=[f.__name__ for f in FUNCTIONS])
def test_every_assigned_name_is_read(fun):
    """No statement computes a value nobody reads (dead code would show up here)."""
    for mode in ("grad", "vjp"):
        tree = ast.parse(adjoint.source(fun, _wrt(fun), mode=mode))
        for func in [n for n in tree.body if isinstance(n, ast.FunctionDef)]:
            stored = {n.id for n in ast.walk(func) if isinstance(n, ast.Name)
                      and isinstance(n.ctx, ast.Store)}
            loaded = {n.id for n in ast.walk(func) if isinstance(n, ast.Name)
                      and isinstance(n.ctx, ast.Load)}
            dead = stored - loaded - {"_"}
            assert not dead, f"{func.name} assigns {dead} and never reads them"


def test_source_comments_point_to_user_lines():
    text = adjoint.grad(c.overwrite).source
    assert "# constructs.py:" in text
    assert "y = np.sin(y) + y" in text  # the user's line, quoted


def test_generated_module_runs_when_pasted(tmp_path):
    text = adjoint.grad(c.scalar_loop, wrt=(0, 1)).source
    script = tmp_path / "pasted.py"
    script.write_text(text + textwrap.dedent("""
        print(scalar_loop_grad(0.9, 0.3, 0.5))
    """))
    root = os.path.dirname(os.path.dirname(adjoint.__file__))
    env = dict(os.environ, PYTHONPATH=root)
    out = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, check=True,
                         env=env)
    expected = adjoint.grad(c.scalar_loop, wrt=(0, 1))(0.9, 0.3, 0.5)
    assert out.stdout.strip() == str(expected)


def test_tape_is_visible():
    text = adjoint.grad(c.scalar_loop).source
    assert "x_tape.append(x)" in text and "x = x_tape.pop()" in text


def test_transform_is_cached():
    g1 = adjoint.grad(c.arith, (0, 1))
    g1(np.ones(2), np.ones(2))
    built = adjoint.api._CACHE.copy()
    g2 = adjoint.grad(c.arith, (0, 1))
    g2(np.ones(2), np.ones(2))
    assert adjoint.api._CACHE == built
    assert g1._build() is g2._build()


def test_traceback_shows_generated_line():
    import traceback
    try:
        adjoint.grad(c.reads)(np.ones(1))  # index 2 is out of range
    except IndexError:
        text = traceback.format_exc()
    assert "<adjoint: grad of reads" in text
    assert "constructs.py" in text


def test_wrapper_keeps_signature():
    import inspect
    g = adjoint.grad(c.affine, wrt="w")
    assert inspect.signature(g) == inspect.signature(c.affine)
    assert g.__wrapped__ is c.affine
    assert g(1.0, 2.0) == 1.0
    assert g(1.0, w=2.0, b=3.0) == 1.0


def test_real_arguments_need_no_conjugates():
    g = adjoint.grad(c.essentials, wrt=(0, 1))
    x, y = np.array([0.5, -0.2]), np.array([1.0, 2.0])
    g(x, y)
    assert "conj(" not in g.source
    g(x + 0j, y)  # complex arguments get code that conjugates
    assert "conj(" in g.source


def test_scalar_code_has_no_broadcasting():
    g = adjoint.grad(c.scalar_loop, wrt=(0, 1))
    g(0.9, 0.3, 0.5)
    assert "unbroadcast" not in g.source


def shared_adjoints(a, b):
    z = a + b  # the adjoints of a and b start as z's adjoint: one object, three names
    y = z * a
    w = np.sin(z) + b * y
    return np.sum(w * z) + np.sum(a * a)


@pytest.mark.parametrize("n", [3, 5000])  # small arrays are filled, large ones broadcast views
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_accumulation_in_place_keeps_shared_adjoints_apart(n, dtype):
    rng = np.random.default_rng(3)
    a, b = rng.normal(size=n).astype(dtype), rng.normal(size=n).astype(dtype)
    g = adjoint.grad(shared_adjoints, (0, 1), backend="numpy")
    ga, gb = g(a, b)
    assert "+=" in g.source
    z = a.astype(float) + b
    y = z * a
    w = np.sin(z) + b * y
    # closed form: d/da and d/db of sum(w * z) + sum(a * a)
    dw_dz = np.cos(z) + b * a
    want_a = (dw_dz * z + w) + (b * z) * z + 2 * a
    want_b = (dw_dz * z + w) + y * z
    tol = 1e-4 if dtype == np.float32 else 1e-10
    np.testing.assert_allclose(ga, want_a, rtol=tol, atol=tol)
    np.testing.assert_allclose(gb, want_b, rtol=tol, atol=tol)
    assert ga.dtype == gb.dtype == dtype


def two_layers(W1, W2, x, y):
    h = np.tanh(W1 @ x)
    return np.sum((h @ W2 - y) ** 2) + np.dot(x, x) * 0.1


def test_matrix_product_adjoints_are_spelled_out_for_known_ranks():
    """Real operands of rank 1 or 2: ``g @ b.T``, ``a.T @ g``, ``np.outer``, not the helpers."""
    rng = np.random.default_rng(2)
    args = (rng.normal(size=(4, 3)), rng.normal(size=(4, 2)), rng.normal(size=3),
            rng.normal(size=2))
    g = adjoint.grad(two_layers, (0, 1, 2), backend="numpy")
    got = g(*args)
    assert "matmul_grad" not in g.source and "dot_grad" not in g.source
    assert "np.outer(" in g.source and ".T @ " in g.source
    numeric = adjoint.testing.numerical_grad(two_layers, args, [0, 1, 2])
    for a, b in zip(got, numeric):
        np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-8)


def complex_layers(W1, W2, x, y):
    h = W1 @ x
    return np.sum(np.abs(h @ W2 - y) ** 2)


def test_complex_matrix_products_keep_the_conjugating_helpers():
    rng = np.random.default_rng(2)
    W1 = rng.normal(size=(4, 3)) + 0.5j * rng.normal(size=(4, 3))
    args = (W1, rng.normal(size=(4, 2)), rng.normal(size=3), rng.normal(size=2))
    g = adjoint.grad(complex_layers, 1, backend="numpy")
    got = g(*args)
    assert "matmul_grad" in g.source
    np.testing.assert_allclose(got, adjoint.testing.numerical_grad(complex_layers, args, [1])[0],
                               rtol=1e-6, atol=1e-8)


def real_input_complex_path(x, W):
    h = W @ x  # complex: x's adjoint gets a complex contribution here
    return np.sum(np.abs(h) ** 2) + np.sum(x ** 2)


def test_no_accumulation_in_place_when_a_value_is_complex():
    rng = np.random.default_rng(0)
    x, W = rng.normal(size=3), rng.normal(size=(2, 3)) + 1j * rng.normal(size=(2, 3))
    g = adjoint.grad(real_input_complex_path, backend="numpy")
    got = g(x, W)
    assert "+=" not in g.source
    np.testing.assert_allclose(got, adjoint.testing.numerical_grad(
        real_input_complex_path, (x, W), [0])[0], rtol=1e-6, atol=1e-8)


def early_exit(x, n):
    s = x
    for i in range(n):
        s = np.sin(s) * x + 0.5
        if s > 1.2:
            return s * 2.0
    return s


def test_no_empty_branches_or_zero_offsets_in_source():
    """``if c: pass / else: B`` reads ``if not c: B``; a reversed ``range`` has no ``0 + ...``."""
    g = adjoint.grad(early_exit, backend="numpy")
    for x in (0.3, 1.5):
        np.testing.assert_allclose(g(x, 5), adjoint.testing.numerical_grad(
            early_exit, (x, 5), [0])[0], rtol=1e-6)
    lines = [line.strip() for line in g.source.splitlines()]
    assert not any(a == "pass" and b == "else:" for a, b in zip(lines, lines[1:]))
    assert "0 + " not in g.source and "if not " in g.source


def self_product(w, x):
    return np.sum(w * w) + np.sum((w * x) * (w * x))


def test_a_value_times_itself_gets_one_doubled_adjoint():
    rng = np.random.default_rng(4)
    w, x = rng.normal(size=4), rng.normal(size=4)
    g = adjoint.grad(self_product, backend="numpy")
    np.testing.assert_allclose(g(w, x), 2 * w + 2 * (w * x) * x, rtol=1e-12)
    assert "2 * " in g.source


def row_logsumexp(x):
    return np.sum(np.log(np.sum(np.exp(x), axis=-1)))


def row_logsumexp_keepdims(x):
    return np.sum(np.log(np.sum(np.exp(x), axis=1, keepdims=True)) * 2.0)


@pytest.mark.parametrize("fun,shape", [
    (row_logsumexp, (3, 4)), (row_logsumexp, (2, 3, 4)), (row_logsumexp_keepdims, (3, 4)),
])
def test_reduction_adjoint_times_its_operand_is_not_spread(fun, shape):
    """``unreduce(g, e, ...) * e`` becomes ``g`` (axes restored) broadcasting against ``e``."""
    x = np.random.default_rng(6).normal(size=shape)
    g = adjoint.grad(fun, backend="numpy")
    np.testing.assert_allclose(g(x), adjoint.testing.numerical_grad(fun, (x,), [0])[0],
                               rtol=1e-6, atol=1e-8)
    exp_result = re.search(r"(\w+) = np\.exp\(x\)", g.source).group(1)
    assert f"* {exp_result}" in g.source
    assert not re.search(rf"unreduce\([^\n]*, {exp_result}, ", g.source)


def test_c_code_that_imports_runs_under_the_generated_builtins():
    """Generated code's builtins are a ``LiveNames`` mapping, and C code called from it that
    imports (NumPy 2.5's floating-point warnings) takes ``__import__`` from there."""
    import ctypes
    import math

    c_import = ctypes.PYFUNCTYPE(ctypes.py_object, ctypes.c_char_p)(
        ("PyImport_ImportModule", ctypes.pythonapi))
    scope = {"__builtins__": adjoint.frontend.LiveNames({"c_import": c_import}, {})}
    exec("def run():\n    return c_import(b'math')", scope)
    assert scope["run"]() is math


def test_line_length_bound_holds_on_every_statement_of_the_package():
    """Inlining checks a line's length by a bound instead of printing it (slow): the bound
    is never below the printed length, on the varied expressions of adjoint's own files."""
    import gast
    from adjoint.passes.simplify import MAX_LINE, _header_source, _line_bound
    root = os.path.dirname(adjoint.__file__)
    checked = 0
    for folder, _, files in os.walk(root):
        for name in (f for f in files if f.endswith(".py")):
            with open(os.path.join(folder, name)) as handle:
                tree = gast.parse(handle.read())
            for node in gast.walk(tree):
                if isinstance(node, (gast.Assign, gast.AugAssign, gast.Expr, gast.Return, gast.If,
                                     gast.While, gast.For)):
                    printed = _header_source(node)
                    bound = _line_bound(node)
                    assert bound >= len(printed) or bound == MAX_LINE + 1, printed
                    checked += 1
    assert checked > 5000


def test_a_cleared_linecache_gives_no_module_the_lines_of_another():
    """Anyone may clear ``linecache``; a later module of the same title still gets a name of
    its own, and a transform of the first (a higher derivative) still reads the first's text."""
    import linecache

    from adjoint import compile as compile_module, frontend

    first = "def first_fn(x):\n    return x * 2.0\n"
    name = compile_module._filename("grad of a title used twice", first)
    namespace = {}
    exec(compile(first, name, "exec"), namespace)
    linecache.clearcache()
    other = compile_module._filename("grad of a title used twice", "def other(x):\n    return x\n")
    assert other != name
    text, _, filename = frontend._source_of(namespace["first_fn"])
    assert (text, filename) == (first, name)


def squashed(w, x):
    h = np.tanh(x @ w)
    h = h * h  # bound again, with no rank proven for either value: still h
    h = np.sum(h)
    return h


def test_a_name_bound_again_keeps_the_users_name():
    """Only a Numba build splits a name into versions (``passes/versions.py``); the derivative
    a person reads binds ``h`` where the function does."""
    source = adjoint.grad(squashed).source
    assert "    h = h * h" in source and "h_1 =" not in source
