"""dtypes: float32 stays float32, float64 stays float64, float16 works, complex follows PyTorch.

The complex convention: for a real-valued loss L of z = x + iy, adjoint returns
dL/dx + i dL/dy (what PyTorch returns, the direction of steepest ascent), so
``z -= lr * grad`` descends. JAX returns the conjugate of this. A real input
always gets a real gradient, even when complex values appear in between.
tests/test_rules.py checks every rule with float32 and the complex-capable
rules with complex64/complex128; this file checks whole losses.
"""
import importlib.util
import itertools
import warnings

import numpy as np
import pytest

import adjoint

SOURCE = '''
import numpy as np


def mlp_loss(W1, b1, W2, x, y):
    h = np.tanh(x @ W1 + b1)
    logits = h @ W2
    m = np.max(logits, axis=1, keepdims=True)
    logp = logits - m - np.log(np.sum(np.exp(logits - m), axis=1, keepdims=True))
    return -np.mean(np.sum(logp * y, axis=1)) + 1e-3 * np.sum(W1 ** 2)


def elementwise_mix(x):
    return np.sum(np.sin(x) * np.exp(-x ** 2) + np.sqrt(np.abs(x) + 1.0) - np.log1p(x ** 2))


def power_two(z):
    return np.sum(np.abs(z) ** 2)


def real_square(z):
    return np.sum(np.real(z ** 2))


def holomorphic_chain(z):
    return np.sum(np.abs(np.exp(z) * np.sin(z) + z / (z + 2.0)) ** 2)


def complex_linalg(A, v):
    u = np.linalg.solve(A, v)
    return np.real(np.vdot(u, u)) + np.linalg.slogdet(A)[1] + np.abs(np.trace(A @ A))


def real_through_complex(x):
    z = x * (1.0 + 2.0j)
    phase = np.exp(1j * x)
    return np.sum(np.abs(z * phase + 1.0) ** 2) + np.sum(np.real(z)) + np.sum(np.angle(z + 1j))


def real_scalar_through_complex(s):
    z = s * 1j
    return np.abs(z + 1.0)


def eigenvalues_times_complex(a):
    w = np.linalg.eigh(a)[0]
    return np.sum(np.real(w * (1.0 + 1.0j)))
'''
_counter = itertools.count()


@pytest.fixture(scope="module")
def m(tmp_path_factory):
    path = tmp_path_factory.mktemp("dtypes") / f"dtype_cases_{next(_counter)}.py"
    path.write_text(SOURCE)
    spec = importlib.util.spec_from_file_location(path.stem, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def numeric(fun, args, k, eps=1e-6):
    """dL/dx (+ i dL/dy for complex arguments) by central differences in double precision."""
    x = np.array(args[k], dtype=np.result_type(args[k], np.float64))
    out = np.zeros_like(x)
    for i in np.ndindex(x.shape):
        for unit in ([1.0, 1j] if np.iscomplexobj(x) else [1.0]):
            vals = []
            for sign in (1, -1):
                moved = x.copy()
                moved[i] += sign * eps * unit
                new = list(args)
                new[k] = moved if np.ndim(args[k]) else moved[()]
                vals.append(fun(*new))
            out[i] += unit * (vals[0] - vals[1]) / (2 * eps)
    return out


def mlp_args(dtype):
    rng = np.random.default_rng(0)
    y = np.eye(3)[rng.integers(0, 3, 5)].astype(dtype)
    return [rng.normal(size=s).astype(dtype) for s in [(4, 6), (6,), (6, 3), (5, 4)]] + [y]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_gradients_keep_the_float_dtype(m, dtype):
    args = mlp_args(dtype)
    value, grads = adjoint.value_and_grad(m.mlp_loss, (0, 1, 2))(*args)
    assert np.asarray(value).dtype == dtype
    for g, a in zip(grads, args):
        assert g.dtype == dtype and g.shape == a.shape
    wide = [a.astype(np.float64) for a in args]
    exact = adjoint.grad(m.mlp_loss, (0, 1, 2))(*wide)
    tol = 1e-4 if dtype == np.float32 else 1e-12
    for g, e in zip(grads, exact):
        np.testing.assert_allclose(g, e, rtol=tol, atol=tol)


def test_float64_reference_matches_finite_differences(m):
    args = mlp_args(np.float64)
    grads = adjoint.grad(m.mlp_loss, (0, 1, 2))(*args)
    for k, g in enumerate(grads):
        np.testing.assert_allclose(g, numeric(m.mlp_loss, args, k), rtol=1e-6, atol=1e-8)


def test_float16_works_where_numpy_does(m):
    x = np.linspace(-1.5, 1.5, 7).astype(np.float16)
    g = adjoint.grad(m.elementwise_mix)(x)
    assert g.dtype == np.float16
    np.testing.assert_allclose(g, adjoint.grad(m.elementwise_mix)(x.astype(np.float64)),
                               rtol=2e-2, atol=2e-2)


def test_complex_convention_is_pytorchs(m):
    z = np.array([3.0 + 4.0j, -1.0 + 0.5j])
    np.testing.assert_allclose(adjoint.grad(m.power_two)(z), 2 * z)  # |z|^2 -> 2z
    np.testing.assert_allclose(adjoint.grad(m.real_square)(z), 2 * np.conj(z))  # Re z^2 -> 2 conj z


@pytest.mark.parametrize("dtype", [np.complex64, np.complex128])
def test_complex_gradients_match_finite_differences(m, dtype):
    rng = np.random.default_rng(1)
    z = (rng.normal(size=4) + 1j * rng.normal(size=4)).astype(dtype)
    g = adjoint.grad(m.holomorphic_chain)(z)
    assert g.dtype == dtype
    tol = 1e-3 if dtype == np.complex64 else 1e-6
    want = numeric(m.holomorphic_chain, [z.astype(np.complex128)], 0)
    np.testing.assert_allclose(g, want, rtol=tol, atol=tol * np.abs(want).max())


def test_complex_linear_algebra(m):
    rng = np.random.default_rng(2)
    A = rng.normal(size=(3, 3)) + 1j * rng.normal(size=(3, 3)) + 3 * np.eye(3)
    v = rng.normal(size=3) + 1j * rng.normal(size=3)
    gA, gv = adjoint.grad(m.complex_linalg, (0, 1))(A, v)
    np.testing.assert_allclose(gA, numeric(m.complex_linalg, [A, v], 0), rtol=1e-6, atol=1e-8)
    np.testing.assert_allclose(gv, numeric(m.complex_linalg, [A, v], 1), rtol=1e-6, atol=1e-8)


def test_real_input_through_complex_values_gets_a_real_gradient(m):
    x = np.array([0.3, -0.7, 1.1])
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no ComplexWarning from discarding imaginary parts
        g = adjoint.grad(m.real_through_complex)(x)
        gs = adjoint.grad(m.real_scalar_through_complex)(0.4)
        ge = adjoint.grad(m.eigenvalues_times_complex)(np.diag([1.0, 2.0, 3.0]))
    assert g.dtype == np.float64 and type(gs) is float and ge.dtype == np.float64
    np.testing.assert_allclose(g, numeric(m.real_through_complex, [x], 0), rtol=1e-6)
    np.testing.assert_allclose(gs, 0.4 / np.hypot(1.0, 0.4))
    np.testing.assert_allclose(ge, np.eye(3))
