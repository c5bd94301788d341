"""Each Numba twin (``adjoint/backends/numba/``) returns what its NumPy helper returns.

The corpus in test_numba_compiles.py checks whole gradients; this checks the
twins one by one, on the shapes and index kinds where a generic kernel could
go wrong (reductions over an axis, broadcasting both ways, repeated indices).
"""
import numpy as np
import pytest

numba = pytest.importorskip("numba")

from adjoint import runtime as rt  # noqa: E402
from adjoint.backends import numba as nb  # noqa: E402

nb._register()
rng = np.random.default_rng(3)
A = rng.normal(size=(3, 4))
R = np.round(A)  # ties for the extremum cases
V = rng.normal(size=4)


def call(helper, *fixed):
    """``helper(*args, *fixed)`` compiled by Numba, and run by NumPy."""
    return numba.njit(lambda *args: helper(*args, *fixed)), lambda *args: helper(*args, *fixed)


def in_place(helper):
    """``helper`` on a copy of its first argument (``add_at`` writes into it)."""
    return numba.njit(lambda x, i, g: helper(x.copy(), i, g)), lambda x, i, g: helper(x.copy(), i, g)


CASES = {
    "unbroadcast to a row": (call(rt.unbroadcast), (A, np.zeros((1, 4)))),
    "unbroadcast to a column of a view": (call(rt.unbroadcast), (A[:, ::2], np.zeros((3, 1)))),
    "unbroadcast to fewer axes": (call(rt.unbroadcast), (A, V)),
    "unbroadcast to more axes": (call(rt.unbroadcast), (V, A)),
    "unbroadcast to a number": (call(rt.unbroadcast), (A, 2.0)),
    "unreduce over axis 1": (call(rt.unreduce, 1, False), (np.arange(3.0), A)),
    "unreduce over -1 kept": (call(rt.unreduce, -1, True), (np.ones((3, 1)), A)),
    "unreduce over a tuple": (call(rt.unreduce, (0, 2), False), (np.arange(4.0), np.zeros((2, 4, 3)))),
    "count over a tuple": (call(rt.count, (0, -1)), (A,)),
    "extremum over axis 0": (call(rt.extremum_grad, 0, False), (V, R, np.max(R, axis=0))),
    "extremum over axis 1 kept": (call(rt.extremum_grad, 1, True), (np.ones((3, 1)), R, np.max(R, 1, keepdims=True))),
    "extremum over all": (call(rt.extremum_grad, None, False), (2.0, R, np.max(R))),
    "add_at repeated rows": (in_place(rt.add_at), (A, np.array([0, 2, 0]), rng.normal(size=(3, 4)))),
    "add_at a broadcast row": (in_place(rt.add_at), (A, np.array([0, 2, 0]), V)),
    "add_at negative entries": (in_place(rt.add_at), (V, np.array([0, -1, 3, -1]), V)),
    "add_at a tuple": (in_place(rt.add_at), (A, (1, 2), 2.0)),
    "add_at a row slice": (in_place(rt.add_at), (A, (1, slice(0, 2)), np.ones(2))),
    "add_at a mask": (in_place(rt.add_at), (V, V > 0, 1.0)),
    "last_writes of repeats": (call(rt.last_writes), (V, np.array([0, 2, 0, -4]))),
    "last_writes of rows": (call(rt.last_writes), (A, np.array([0, 2, 0]))),
    "prod with a zero": (call(rt.prod_grad, None, False), (2.0, np.array([[1.0, 0.0], [3.0, 4.0]]))),
    "clip at its bounds": (call(rt.clip_grad, -0.5, 0.5, None, None), (np.ones(5), np.array([-1, -0.5, 0, 0.5, 1]))),
    "clip with no lower bound": (call(rt.clip_grad, None, 0.5, None, None), (np.ones(3), np.array([-np.inf, 0.5, 1]))),
    "safe_div by zeros": (call(rt.safe_div), (A, np.array([0.0, 2.0, 1.0, 0.0]))),
    "safe_log at zero": (call(rt.safe_log), (np.array([0.0, 1.0, 2.0]),)),
    "sum_grad of a vector": (call(rt.sum_grad), (2.0, V)),
    "sum_grad of rows": (call(rt.sum_grad), (V, A)),
    "imag_grad of a real number": (call(rt.imag_grad), (2.0, 1.5)),
    "imag_grad of a real array": (call(rt.imag_grad), (V, V)),
}
for na, nb_ in [(1, 1), (2, 1), (1, 2), (2, 2)]:
    a, b = (A if na == 2 else V), (rng.normal(size=(4, 2)) if nb_ == 2 else V)
    g = np.ones(np.shape(a @ b)) if np.ndim(a @ b) else 1.5
    for helper in (rt.matmul_grad_a, rt.matmul_grad_b):  # np.dot's twins share this code
        CASES[f"{helper.__name__} of ranks {na} and {nb_}"] = (call(helper), (g, a, b))
CASES["dot_grad_a of a number"] = (call(rt.dot_grad_a), (V, 2.0, V))
CASES["dot_grad_b of a number"] = (call(rt.dot_grad_b), (V, 2.0, V))


@pytest.mark.parametrize("case", list(CASES))
def test_twin_matches_numpy_helper(case):
    if case.startswith(("dot_", "matmul_")):
        pytest.importorskip("scipy", reason="Numba's np.dot and @ need SciPy")
    (compiled, plain), args = CASES[case]
    got, want = compiled(*args), plain(*args)
    assert np.shape(got) == np.shape(want)
    np.testing.assert_allclose(np.asarray(got, float), np.asarray(want, float), rtol=1e-12, atol=1e-12)
