"""Every construct of the core language, checked against central finite differences."""
import numpy as np
import pytest

import adjoint
from adjoint.testing import check_grad

from . import constructs as c

rng = np.random.default_rng(42)


def pos(*shape):
    return rng.uniform(0.5, 1.5, size=shape)


def sym(*shape):
    return rng.uniform(-1.0, 1.0, size=shape)


CASES = [
    (c.arith, (pos(3), pos(3)), (0, 1)),
    (c.powers, (pos(3), pos(3)), (0, 1)),
    (c.augmented, (pos(3), pos(3)), (0, 1)),
    (c.overwrite, (sym(4),), 0),
    (c.tuples, (sym(3), sym(3)), (0, 1)),
    (c.conditional_expr, (pos(3),), 0),
    (c.conditional_expr, (-pos(3),), 0),
    (c.matmul_chain, (sym(2, 3), sym(3, 3), sym(3)), (0, 1, 2)),
    (c.constants_only, (sym(3),), 0),
    (c.essentials, (sym(5), pos(5)), (0, 1)),
    (c.reductions, (sym(3, 4, 2),), 0),
    (c.linalg_shapes, (sym(3, 3), sym(3)), (0, 1)),
    (c.broadcasting, (sym(3, 4), sym(4), pos(3, 1), 0.7), (0, 1, 2, 3)),
    (c.methods, (sym(2, 3),), 0),
    (c.math_scalar, (0.7, 0.4), (0, 1)),
    (c.uses_helpers, (sym(3), sym(3)), (0, 1)),
    (c.calls_recursive, (1.3,), 0),
    (c.branches, (sym(3), 2.0), 0),
    (c.branches, (sym(3), 0.5), 0),
    (c.branches, (sym(3), -1.0), 0),
    (c.for_range, (sym(3), 4), 0),
    (c.for_rows, (sym(4, 3), sym(3)), (0, 1)),
    (c.for_enumerate_zip, (sym(4), sym(4)), (0, 1)),
    (c.with_break, (0.7,), 0),
    (c.with_break, (0.2,), 0),
    (c.with_continue, (sym(6),), 0),
    (c.return_in_branch, (2.0,), 0),
    (c.return_in_branch, (0.3,), 0),
    (c.return_in_loop, (0.5,), 0),
    (c.return_in_loop, (1e-4,), 0),
    (c.nested_loops, (sym(3, 3), sym(3)), (0, 1)),
    (c.while_counter, (0.8,), 0),
    (c.reads, (sym(5),), 0),
    (c.reads_2d, (sym(3, 4),), 0),
    (c.writes, (sym(4),), 0),
    (c.writes_2d, (sym(3),), 0),
    (c.writes_copy, (sym(3),), 0),
    (c.writes_param, (sym(3),), 0),
    (c.writes_slice, (sym(3),), 0),
    (c.appends, (sym(3),), 0),
    (c.scalar_loop, (0.9, 0.3, 0.5), (0, 1, 2)),
    (c.logsumexp_loop, (sym(6),), 0),
]


@pytest.mark.parametrize("fun,args,wrt", CASES, ids=[f"{f.__name__}-{i}" for i, (f, _, _) in enumerate(CASES)])
def test_matches_finite_differences(fun, args, wrt):
    assert check_grad(fun, *args, wrt=wrt, rtol=1e-5, atol=1e-7)


@pytest.mark.parametrize("fun,args,wrt", CASES, ids=[f"{f.__name__}-{i}" for i, (f, _, _) in enumerate(CASES)])
def test_inputs_not_mutated(fun, args, wrt):
    before = [np.copy(a) for a in args]
    adjoint.grad(fun, wrt)(*args)
    adjoint.value_and_grad(fun, wrt)(*args)
    for a, b in zip(args, before):
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("fun,args,wrt", CASES, ids=[f"{f.__name__}-{i}" for i, (f, _, _) in enumerate(CASES)])
def test_value_and_grad_agrees(fun, args, wrt):
    value, grads = adjoint.value_and_grad(fun, wrt)(*args)
    np.testing.assert_allclose(value, fun(*[np.copy(a) for a in args]))
    expected = adjoint.grad(fun, wrt)(*args)
    for g, e in zip(grads if isinstance(wrt, tuple) else [grads],
                    expected if isinstance(wrt, tuple) else [expected]):
        np.testing.assert_allclose(g, e)


def test_vector_output_vjp_through_while():
    x = np.array([0.1, 1.0, 0.0001])
    out, pullback = adjoint.vjp(c.while_doubling)(x)
    k = 0
    y = 2 * x
    while np.linalg.norm(y) < 1000:
        y = 2 * y
        k += 1
    np.testing.assert_allclose(out, y)
    seed = np.array([0.1, 1.0, 0.0001])
    np.testing.assert_allclose(pullback(seed), seed * 2.0 ** (k + 1))
    np.testing.assert_allclose(pullback(seed), seed * 2.0 ** (k + 1))  # callable twice
    check_grad(c.while_doubling, x, seed=seed)
