"""Each Numba twin (``adjoint/backends/numba/``) returns what its NumPy helper returns.

The corpus in test_numba_compiles.py checks whole gradients; this checks the
twins one by one, on the shapes and index kinds where a generic kernel could
go wrong (reductions over an axis, broadcasting both ways, repeated indices).
"""
import importlib
import importlib.util
import re

import numpy as np
import pytest

numba = pytest.importorskip("numba")

from adjoint import runtime as rt  # noqa: E402
from adjoint.backends import numba as nb  # noqa: E402
from adjoint.backends.numba.kinds import TWINS  # noqa: E402
from adjoint.rules import registry  # noqa: E402

nb._register()

# -- which helpers have no twin, and why ------------------------------------------------------
FORWARD = "forward mode and higher derivatives only (jvp, hvp, grad of grad), which run on NumPy"
SCIPY = "only SciPy functions' adjoints call it, and Numba compiles no SciPy function"
CHECKPOINT = "a function with a checkpointed loop runs on NumPy: the revolve driver is Python"
OBJECTS = "works on Python objects Numba has no type for (records, cells, attributes, sentinels)"
CALLS = "runs a function the user passed as a value (Numba takes no Python callable)"


def unsupported(fn):
    return f"only the adjoint of {fn} calls it, and Numba does not compile {fn} itself"


EXCLUDED = {
    **dict.fromkeys(
        ["extremum_jvp", "tangent_like", "broadcast_like", "scattered", "tangent_fit",
         "linear_transpose", "angle_jvp", "pick_jvp", "angle_grad_dot", "prod_jvp", "cumprod_jvp",
         "average_jvp", "norm_jvp", "norm_grad_dot", "prod_grad_dot", "cumprod_grad_dot",
         "average_grad_dot", "initial_width", "quantile_jvp", "zeros_or_none", "grid_axis",
         "grid_tangent", "atleast_tangent", "piecewise_jvp", "piecewise_grad_dot", "solve_grad_dot",
         "matrix_power_grad_dot", "cholesky_grad_dot", "eigh_grad_dot", "pinv_grad_dot",
         "svd_grad_dot", "qr_grad_dot", "lstsq_grad_dot", "cholesky_jvp", "eigh_jvp", "qr_jvp",
         "svd_jvp", "pinv_jvp", "lstsq_jvp", "matrix_power_jvp", "eig_jvp", "multi_dot_jvp",
         "multi_dot_grad_jvp", "linspace_jvp", "gradient_matrix", "tangent_record", "plain_lists",
         "interp_slopes", "reconcatenate", "unrouted", "from_lower", "triangle_op",
         "frechet_expm2"], FORWARD),
    **dict.fromkeys(
        ["none_to_one", "lse_value", "lse_sign", "lse_pack", "lower_part", "adjoint_trans",
         "triangle_grad", "cho_factor_grad", "cho_factor_jvp", "cho_solve_grad", "cho_solve_jvp",
         "lu_factor_grad", "lu_factor_jvp", "lu_solve_grad", "lu_solve_jvp", "frechet_expm",
         "cho_factor_grad_dot", "cho_solve_grad_dot", "lu_factor_grad_dot", "lu_solve_grad_dot",
         "embed_full", "crop_mode", "odeint_grad", "odeint_jvp", "odeint_grad_dot"], SCIPY),
    **dict.fromkeys(["checkpoint_forward", "checkpoint_forward_while", "revolve", "revolve_split",
                     "default_snapshots", "add_into", "add_matmul_grad_a", "add_matmul_grad_b"],
                    CHECKPOINT),
    **dict.fromkeys(["AdjointRecord", "ObjectAdjoint", "replace_fields", "fields_cleared",
                     "cell_value", "set_cell", "attribute_value", "set_attribute", "old_item",
                     "put_back", "MISSING", "check_keywords"], OBJECTS),
    "piecewise_grad": CALLS,
    "sort_order": CALLS + ": sorted(..., key=keys.__getitem__)",
    "none_to_zero": "custom rules' adjoints only (and SciPy's): they call the user's rule, a Python "
                    "function, so such code never compiles",
    "AdjointList": "the NumPy backend's list adjoint; on Numba a list's adjoint is Rows (kinds.py), "
                   "and the one template naming it, tuple(...)'s, is of a call Numba does not compile",
    "padded_after": FORWARD,
    "padded_before": FORWARD,
    "AdjointDict": "the NumPy backend's dict adjoint; on Numba zeros_like of a dict is a typed dict",
    "elementwise_shape": "passes/dead_values.py puts these stand-ins only in NumPy-backend code",
    "LN2": "a float constant, which compiled code reads as a frozen global",
    "LN10": "a float constant, which compiled code reads as a frozen global",
    "einsum_grad": unsupported("np.einsum"),
    "tensordot_grad": unsupported("np.tensordot"),
    "inner_grad": unsupported("np.inner"),
    "pad_grad": "np.pad compiles only for a vector padded with zeros (backends/numba/numpy.py, for "
                "convolve's adjoint); its adjoint's twin is not written",
    "tile_grad": unsupported("np.tile"),
    "diagonal_grad": unsupported("np.diagonal"),
    "rollaxis_target": unsupported("np.rollaxis"),
    "gradient_grad": unsupported("np.gradient"),
    "grid_others": unsupported("np.meshgrid"),
    "unblock": unsupported("np.block"),
    "poly_exponents": unsupported("np.polyval"),
    "multi_dot_grad": unsupported("np.linalg.multi_dot"),
    "tensor_matrix_shape": unsupported("np.linalg.tensorinv"),
    "initial_part": unsupported("np.cumulative_sum"),
    "interp_matrix": "only np.interp's adjoint in fp calls it, through np.tensordot, which Numba "
                     "does not compile (and np.interp's forward mode, on NumPy)",
    **dict.fromkeys(["fft_axes", "fft_shape", "pair_weights"],
                    unsupported("np.fft (without the rocket-fft extension)")),
}


def test_every_helper_has_a_twin_or_a_reason():
    """Each helper generated code can call compiles on Numba, or the table above says why not."""
    missing = [n for n in rt.__all__ if n not in TWINS and n not in EXCLUDED]
    assert not missing, f"runtime helpers with neither a Numba twin nor a reason: {missing}"
    both = sorted(set(TWINS) & set(EXCLUDED))
    assert not both, f"helpers with a twin listed as excluded: {both}"
    assert set(EXCLUDED) <= set(rt.__all__), set(EXCLUDED) - set(rt.__all__)
    assert all(TWINS[n] is getattr(rt, n) for n in TWINS)


def _user_level_templates():
    """The helper names the reverse templates of rules for user-level functions mention
    (every rule but those of adjoint.runtime's own helpers, which only derivative code calls)."""
    if importlib.util.find_spec("scipy"):  # the rules of SciPy's functions import SciPy
        for module in registry.OPTIONAL.values():
            importlib.import_module(f"adjoint.rules.{module}")
    for fn, rule in list(registry._RULES.items()):
        if getattr(fn, "__module__", "") != "adjoint.runtime":
            for template in rule.grads.values():
                yield rule.name, set(re.findall(r"[A-Za-z_]\w*", template))


def test_exclusion_reasons_hold():
    """A helper excluded as forward-only is in no reverse template of a user-level function,
    and one excluded as SciPy's only in the reverse templates of SciPy functions."""
    for name, words in _user_level_templates():
        forward = sorted(n for n in words if EXCLUDED.get(n) == FORWARD)
        assert not forward, f"{name}'s adjoint calls {forward}, excluded as forward-only"
        scipy = sorted(n for n in words if EXCLUDED.get(n) == SCIPY)
        assert not scipy or name.startswith("scipy."), f"{name}'s adjoint calls {scipy}"
rng = np.random.default_rng(3)
A = rng.normal(size=(3, 4))
R = np.round(A)  # ties for the extremum cases
V = rng.normal(size=4)


COVERED = set()  # the helpers the cases below call


def inner(helper):
    """What compiled code calls: a runtime helper (its twin), or a case's own function, jitted."""
    return helper if getattr(rt, helper.__name__, None) is helper else numba.njit(helper)


def call(helper, *fixed, covers=()):
    """``helper(*args, *fixed)`` compiled by Numba, and run by NumPy."""
    COVERED.update(covers or (helper.__name__,))
    jitted = inner(helper)
    return numba.njit(lambda *args: jitted(*args, *fixed)), lambda *args: helper(*args, *fixed)


def in_place(helper):
    """``helper`` on a copy of its first argument (``add_at`` writes into it)."""
    COVERED.add(helper.__name__)
    return numba.njit(lambda x, i, g: helper(x.copy(), i, g)), lambda x, i, g: helper(x.copy(), i, g)


def adds_into_copy(helper, *fixed):
    """``helper(x_bar.copy(), *args, *fixed)``: a helper adding into its first argument."""
    COVERED.add(helper.__name__)
    return (numba.njit(lambda x_bar, g, x, ans: helper(x_bar.copy(), g, x, ans, *fixed)),
            lambda x_bar, g, x, ans: helper(x_bar.copy(), g, x, ans, *fixed))


def items(helper, *fixed, covers=()):
    """``helper`` returning a list's or a tuple's adjoint: ``Rows`` on Numba, whose items are compared."""
    COVERED.update(covers or (helper.__name__,))
    jitted = inner(helper)
    return numba.njit(lambda *args: jitted(*args, *fixed).data), lambda *args: helper(*args, *fixed)


def dict_items(helper, covers=()):
    """``helper`` returning a dict: a typed dict on Numba, compared as a list of its items."""
    COVERED.update(covers or (helper.__name__,))
    compiled = inner(helper)
    return (lambda *args: list(compiled(*args).items())), lambda *args: list(helper(*args).items())


M = rng.normal(size=(3, 3)) + 3 * np.eye(3)
B = rng.normal(size=(3, 2))
KEYS, VALUES = [2, 0, 2], [1.5, 2.5, 3.5]


def SOLVE_A(g, a, b, x):
    return rt.solve_grad(g, a, b, x, "a")


CASES = {
    "unbroadcast to a row": (call(rt.unbroadcast), (A, np.zeros((1, 4)))),
    "unbroadcast to a column of a view": (call(rt.unbroadcast), (A[:, ::2], np.zeros((3, 1)))),
    "unbroadcast to fewer axes": (call(rt.unbroadcast), (A, V)),
    "unbroadcast to more axes": (call(rt.unbroadcast), (V, A)),
    "unbroadcast to a number": (call(rt.unbroadcast), (A, 2.0)),
    "unbroadcast complex to complex": (call(rt.unbroadcast), (A + 1j * A[::-1], np.zeros((1, 4), complex))),
    "unbroadcast complex to real": (call(rt.unbroadcast), (A + 1j * A[::-1], np.zeros((3, 1)))),
    "unbroadcast complex to a real number": (call(rt.unbroadcast), (A + 1j * A[::-1], 2.0)),
    "unbroadcast a complex number to real": (call(rt.unbroadcast), (2.0 - 1j, V)),
    "unbroadcast real to complex": (call(rt.unbroadcast), (A, np.zeros(4, complex))),
    "dual_norm of None": (call(rt.dual_norm), (None,)),
    "dual_norm of forward": (call(rt.dual_norm), ("forward",)),
    "dual_norm of backward": (call(rt.dual_norm), ("backward",)),
    "dual_norm of ortho": (call(rt.dual_norm), ("ortho",)),
    "unreduce over axis 1": (call(rt.unreduce, 1, False), (np.arange(3.0), A)),
    "unreduce over -1 kept": (call(rt.unreduce, -1, True), (np.ones((3, 1)), A)),
    "unreduce over a tuple": (call(rt.unreduce, (0, 2), False), (np.arange(4.0), np.zeros((2, 4, 3)))),
    "unreduce a complex number over a real array": (call(rt.unreduce, None, False), (2.0 - 1j, A)),
    "unreduce complex over axis 1 of a real array": (call(rt.unreduce, 1, False), (np.arange(3.0) - 1j, A)),
    "count over a tuple": (call(rt.count, (0, -1)), (A,)),
    "extremum over axis 0": (call(rt.extremum_grad, 0, False), (V, R, np.max(R, axis=0))),
    "extremum over axis 1 kept": (call(rt.extremum_grad, 1, True), (np.ones((3, 1)), R, np.max(R, 1, keepdims=True))),
    "extremum over all": (call(rt.extremum_grad, None, False), (2.0, R, np.max(R))),
    "extremum over all of a transposed view": (call(rt.extremum_grad, None, False), (2.0, R.T, np.min(R))),
    "extremum over all of a NaN": (call(rt.extremum_grad, None, False),
                                   (2.0, np.array([1.0, np.nan]), np.nan)),
    "add extremum over all": (adds_into_copy(rt.add_extremum_grad, None, False), (A, 2.0, R, np.max(R))),
    "add extremum over all of a view": (adds_into_copy(rt.add_extremum_grad, None, False), (A.T, 2.0, R.T, np.min(R))),
    "add extremum over all into a view": (adds_into_copy(rt.add_extremum_grad, None, False), (A[:, ::2], 2.0, R[:, ::2], np.max(R[:, ::2]))),
    "add extremum over all of a NaN": (adds_into_copy(rt.add_extremum_grad, None, False),
                                       (V[:2], 2.0, np.array([1.0, np.nan]), np.nan)),
    "add extremum over axis 1 kept": (adds_into_copy(rt.add_extremum_grad, 1, True),
                                      (A, np.ones((3, 1)), R, np.max(R, 1, keepdims=True))),
    "add_at repeated rows": (in_place(rt.add_at), (A, np.array([0, 2, 0]), rng.normal(size=(3, 4)))),
    "add_at a broadcast row": (in_place(rt.add_at), (A, np.array([0, 2, 0]), V)),
    "add_at negative entries": (in_place(rt.add_at), (V, np.array([0, -1, 3, -1]), V)),
    "add_at a tuple": (in_place(rt.add_at), (A, (1, 2), 2.0)),
    "add_at a row slice": (in_place(rt.add_at), (A, (1, slice(0, 2)), np.ones(2))),
    "add_at a mask": (in_place(rt.add_at), (V, V > 0, 1.0)),
    "add_at a list of repeated rows": (in_place(rt.add_at), (A, [0, 2, 0], rng.normal(size=(3, 4)))),
    "last_writes of a list of repeats": (call(rt.last_writes), (V, [0, 2, 0, -4])),
    "last_writes of repeats": (call(rt.last_writes), (V, np.array([0, 2, 0, -4]))),
    "last_writes of rows": (call(rt.last_writes), (A, np.array([0, 2, 0]))),
    "prod with a zero": (call(rt.prod_grad, None, False), (2.0, np.array([[1.0, 0.0], [3.0, 4.0]]))),
    "clip at its bounds": (call(rt.clip_grad, -0.5, 0.5, None, None), (np.ones(5), np.array([-1, -0.5, 0, 0.5, 1]))),
    "clip with no lower bound": (call(rt.clip_grad, None, 0.5, None, None), (np.ones(3), np.array([-np.inf, 0.5, 1]))),
    "safe_div by zeros": (call(rt.safe_div), (A, np.array([0.0, 2.0, 1.0, 0.0]))),
    "safe_log at zero": (call(rt.safe_log), (np.array([0.0, 1.0, 2.0]),)),
    "logistic past exp's overflow": (call(rt.logistic), (np.array([-800.0, -30.0, 0.0, 2.0, 800.0]),)),
    "logistic of a number": (call(rt.logistic), (-2.5,)),
    "sum_grad of a vector": (call(rt.sum_grad), (2.0, V)),
    "sum_grad of rows": (call(rt.sum_grad), (V, A)),
    "imag_grad of a real number": (call(rt.imag_grad), (2.0, 1.5)),
    "imag_grad of a real array": (call(rt.imag_grad), (V, V)),
    "imag_grad of a complex array": (call(rt.imag_grad), (V, V + 1j * V[::-1])),
    "imag_grad of a complex number": (call(rt.imag_grad), (2.0, 1.5 - 0.5j)),
    "imag_grad of a real array, complex g": (call(rt.imag_grad), (V - 2j * V, V)),
    "sum_grad of a list of numbers": (items(rt.sum_grad), (2.0, [1.0, 2.0, 3.0])),
    "sum_grad of a list of arrays": (items(rt.sum_grad), (V, [V, V * 2])),
}
CASES.update({
    "add_at rows of a 2-D index": (in_place(rt.add_at), (A, np.array([[0, 2], [2, 2]]), rng.normal(size=(2, 2, 4)))),
    "add_at a number at a 2-D index": (in_place(rt.add_at), (A, np.array([[0, 2], [2, 2]]), 2.0)),
    "add_at columns of a 2-D index": (in_place(rt.add_at), (A, (slice(None), np.array([[0, 3], [3, 1]])),
                                                            rng.normal(size=(3, 2, 2)))),
    "add_at a number then an index": (in_place(rt.add_at), (A, (1, np.array([0, 3, 3])), V[:3])),
    "add_at an index between slices": (in_place(rt.add_at), (np.zeros((2, 3, 4)), (slice(None), np.array([0, 2, 0]),
                                                                                   slice(1, 3)), np.ones((2, 3, 2)))),
    "add_at a 2-D mask": (in_place(rt.add_at), (A, A > 0, rng.normal(size=int(np.sum(A > 0))))),
    "add_at a 2-D mask, a number": (in_place(rt.add_at), (A, A > 0, 1.5)),
    "add_at a row mask": (in_place(rt.add_at), (A, np.array([True, False, True]), rng.normal(size=(2, 4)))),
    "last_writes of a 2-D index": (call(rt.last_writes), (A, np.array([[0, 2], [2, 2]]))),
    "last_writes of columns": (call(rt.last_writes), (A, (slice(None), np.array([1, 1, 3])))),
    "unconcatenate a tuple along 1": (items(rt.unconcatenate, 1), (rng.normal(size=(3, 6)), (A[:, :2], A))),
    "unconcatenate along -1": (items(rt.unconcatenate, -1), (rng.normal(size=(3, 6)), (A[:, :2], A))),
    "unconcatenate flattened": (items(rt.unconcatenate, None), (rng.normal(size=16), (A, V))),
    "unconcatenate a list": (items(rt.unconcatenate, 0), (rng.normal(size=(6, 4)), [A, A])),
    "unconcatenate vstack's vectors": (items(lambda g, t: rt.unconcatenate(g, t, 0, np.atleast_2d)), (rng.normal(size=(2, 4)), (V, V))),
    "unconcatenate column_stack's": (items(lambda g, t: rt.unconcatenate(g, t, 1, rt.as_column)), (rng.normal(size=(4, 4)), (V, A.T))),
    "unconcatenate an array's rows": (call(rt.unconcatenate, 0), (rng.normal(size=12), A)),
    "unstack a list along 1": (items(rt.unstack, 1), (rng.normal(size=(4, 2)), [V, V])),
    "unstack an array along 0": (call(rt.unstack, 0), (A, A)),
    "unstack an array along 1": (call(rt.unstack, 1), (A, rng.normal(size=(4, 3)))),
    "zeros_like of a tuple": (call(rt.zeros_like), ((A, V),)),
    "zeros_like of a dict": (dict_items(lambda k, v: rt.zeros_like(rt.dict_from(k, v)), ("zeros_like",)), (KEYS, VALUES)),
    "as_column of a vector": (call(rt.as_column), (V,)),
    "as_column of a number": (call(rt.as_column), (2.0,)),
    "integer_cut of an integer cast": (call(rt.integer_cut), (V, V.astype(np.int64))),
    "integer_cut of a float cast": (call(rt.integer_cut), (V, V)),
    "safe_div of complex by real": (call(rt.safe_div), (V * (1 + 2j), np.array([0.0, 1.0, 2.0, 0.0]))),
    "safe_div of complex numbers": (call(rt.safe_div), (1 + 2j, 0j)),
    "fit_like cut and padded": (call(rt.fit_like), (A, np.zeros((2, 6)))),
    "fit_like of complex to real": (call(rt.fit_like), (V + 1j, np.zeros(6))),
    "dict_from with a repeated key": (dict_items(rt.dict_from), (KEYS, VALUES)),
    "dict_from_grad with a repeated key": (items(lambda k, v, w: rt.dict_from_grad(rt.dict_from(k, w), k, v),
                                                 covers=("dict_from_grad",)),
                                           (KEYS, VALUES, [10.0, 20.0, 30.0])),
    "items_of a dict": (call(lambda k, v: rt.items_of(rt.dict_from(k, v)), covers=("items_of",)), (KEYS, VALUES)),
    "items_of_grad of a dict": (dict_items(lambda k, v: rt.items_of_grad(0.0, rt.dict_from(k, v)),
                                           ("items_of_grad",)), (KEYS, VALUES)),
    "keys_of a dict": (call(lambda k, v: rt.keys_of(rt.dict_from(k, v)), covers=("keys_of",)), (KEYS, VALUES)),
    "scatter_add repeated rows": (call(rt.scatter_add), (A, np.array([0, 2, 0]), V)),
    "put_into, wrapped": (call(rt.put_into, "wrap"), (A, np.array([0, -1, 13, 5]), np.array([7.0, 8.0]))),
    "put_into, clipped": (call(rt.put_into, "clip"), (A, np.array([0, -20, 13]), 9.0)),
    "put_into, checked": (call(rt.put_into), (A, np.array([0, -1, 11, 0]), np.array([7.0, 8.0]))),
    "astype to float32": (call(rt.astype, np.float32), (A,)),
    "mT of a stack": (call(rt.mT), (np.zeros((2, 3, 4)) + V,)),
    "mH of a matrix": (call(rt.mH), (A,)),
    "det_grad": (call(rt.det_grad), (1.5, M, np.linalg.det(M))),
    "solve_grad for a vector b": (call(lambda g, a, b, x: rt.solve_grad(g, a, b, x, "b"), covers=("solve_grad",)), (V[:3], M, V[:3], np.linalg.solve(M, V[:3]))),
    "solve_grad for a, a vector b": (call(SOLVE_A, covers=("solve_grad",)), (V[:3], M, V[:3], np.linalg.solve(M, V[:3]))),
    "solve_grad for a, a matrix b": (call(SOLVE_A), (B, M, B, np.linalg.solve(M, B))),
    "cumprod_grad with zeros": (call(rt.cumprod_grad), (V[:3], np.array([2.0, 0.0, 3.0]), np.array([2.0, 0, 0]))),
    "cumprod_grad of a matrix": (call(rt.cumprod_grad), (rng.normal(size=12), A, np.cumprod(A))),
    "trace_grad above the diagonal": (call(rt.trace_grad, 1), (2.0, A)),
    "trace_grad below the diagonal": (call(rt.trace_grad, -1), (2.0, A)),
    "diag_grad building, k=-2": (call(rt.diag_grad, -2), (rng.normal(size=(6, 6)), V)),
    "diag_grad reading, k=1": (call(rt.diag_grad, 1), (rng.normal(size=3), A)),
    "diag_grad reading, k=-1": (call(rt.diag_grad, -1), (rng.normal(size=2), A)),
    "take_grad flat, repeats": (call(rt.take_grad), (rng.normal(size=(2, 2)), A, np.array([[0, 11], [0, -1]]))),
    "take_grad along 1": (call(rt.take_grad, 1), (rng.normal(size=(3, 3)), A, np.array([0, 3, 0]))),
    "repeat_grad by counts": (call(rt.repeat_grad), (rng.normal(size=6), V, np.array([1, 0, 2, 3]))),
    "repeat_grad of a matrix": (call(rt.repeat_grad), (rng.normal(size=24), A, 2)),
    "sort_grad with ties": (call(rt.sort_grad), (V[:3].copy(), np.array([1.0, 0.0, 1.0]))),
    "sort_grad of rows": (call(rt.sort_grad), (rng.normal(size=(3, 4)), A)),
    "conj of a real array": (call(rt.conj), (A,)),
    "conj of a complex number": (call(rt.conj), (1 + 2j,)),
    "real_part of a complex array": (call(rt.real_part), (V * 1j + V,)),
    "real_like of complex for a real array": (call(rt.real_like), (V * 1j + V, V)),
    "by_items of an array (a list's: test_numba_compiles.py, aliased_list)": (call(rt.by_items), (V,)),
    "cumsum_grad of a matrix": (call(rt.cumsum_grad), (rng.normal(size=12), A)),
    "grad_like of a number for an array": (call(rt.grad_like), (2.0, A)),
    "log_base of a number": (call(rt.log_base), (10.0,)),
    "norm_grad at zero": (call(rt.norm_grad), (2.0, np.zeros(3), 0.0)),
    "norm_grad of a matrix's entries": (call(rt.norm_grad), (2.0, A, np.linalg.norm(A))),
    "pick_grad at a tie": (call(rt.pick_grad), (2.0, 1.0, 1.0, 1.0)),
    "pick_grad of the other": (call(rt.pick_grad), (2.0, 3.0, 1.0, 3.0)),
    "transpose_grad of a matrix": (call(rt.transpose_grad), (A,)),
    "unstack_like of an array": (call(rt.unstack_like), (A, A)),
    "unstack_like of a list": (items(rt.unstack_like), (A, [V, V, V])),
    "joined lists of arrays": (call(rt.joined), ([V, 2 * V], [3 * V])),
    "repeated list of numbers": (call(rt.repeated), ([1.5, -0.5], 3)),
    "first_items of a list's adjoint": (items(rt.first_items), ([V, 2 * V, 3 * V], [V, V])),
    "last_items of a list's adjoint": (items(rt.last_items), ([V, 2 * V, 3 * V], [V])),
    "repeats_summed of numbers": (items(rt.repeats_summed), ([1.5, -0.5, 2.0, 0.25], [0.3, 0.7])),
    "repeats_summed of arrays": (items(rt.repeats_summed), ([V, 2 * V, 3 * V, -V], [V, V])),
    "snapshot of an array": (call(rt.snapshot), (A,)),
})
for na, nb_ in [(1, 1), (2, 1), (1, 2), (2, 2)]:
    a, b = (A if na == 2 else V), (rng.normal(size=(4, 2)) if nb_ == 2 else V)
    g = np.ones(np.shape(a @ b)) if np.ndim(a @ b) else 1.5
    for helper in (rt.matmul_grad_a, rt.matmul_grad_b):  # np.dot's twins share this code
        CASES[f"{helper.__name__} of ranks {na} and {nb_}"] = (call(helper), (g, a, b))
CASES["dot_grad_a of a number"] = (call(rt.dot_grad_a), (V, 2.0, V))
CASES["dot_grad_b of a number"] = (call(rt.dot_grad_b), (V, 2.0, V))


# -- reductions over every entry, trapezoid weights, linspace/arange partials, np.put, angle --------
NANS = np.where(R > 0, np.nan, A)
W = rng.uniform(0.5, 2.0, size=A.shape)
G = rng.normal(size=(3, 4))
Z = np.array([1 + 1j, 0j, -2 + 0.5j, 3 - 1j])
PUT = np.array([0, -1, 11, 0, 5])
CASES.update({
    "nan_count of a matrix with NaNs": (call(lambda a: rt.nan_count(a, None, False), covers=("nan_count",)), (NANS,)),
    "nan_count kept, as nanmean's adjoint": (call(lambda a: rt.nan_count(a, None, True)), (NANS,)),
    "nan_count left out, of integers": (call(rt.nan_count), (np.arange(5),)),
    "nan_count of float32": (call(lambda a: rt.nan_count(a, None, True)), (NANS.astype(np.float32),)),
    "average_grad unweighted": (call(rt.average_grad), (2.0, A)),
    "average_grad unweighted, as generated": (call(lambda g, a: rt.average_grad(g, a, None, None, False), covers=("average_grad",)), (2.0, A)),
    "average_grad weighted, for a": (call(lambda g, a, w: rt.average_grad(g, a, None, w, False)), (1.5, A, W)),
    "average_grad weighted, for the weights": (call(lambda g, a, w, m: rt.average_grad(g, a, None, w, False, "weights", m)),
                                               (1.5, A, W, np.average(A, weights=W))),
    "average_grad of a vector's weights": (call(lambda g, a, w, m: rt.average_grad(g, a, None, w, False, "weights", m)),
                                           (1.5, V, W[0], np.average(V, weights=W[0]))),
    "quantile_grad with ties": (call(lambda g, a, q: rt.quantile_grad(g, a, q, None, False, "linear"), covers=("quantile_grad",)),
                                (2.0, R, 0.3)),
    "quantile_grad of ends and middles": (call(lambda g, a, q: rt.quantile_grad(g, a, q, None, False, "linear")),
                                          (np.arange(1.0, 5.0), A, np.array([0.0, 0.5, 1.0, 0.25]))),
    "quantile_grad of a 2-D q": (call(lambda g, a, q: rt.quantile_grad(g, a, q, None, False, "linear")),
                                 (np.arange(1.0, 5.0), R, np.array([[0.1, 0.9], [0.5, 0.7]]))),
    "quantile_grad, a median of an even count": (call(lambda g, a: rt.quantile_grad(g, a, 0.5, None, False)), (2.0, V)),
    "quantile_grad, a median of an odd count": (call(lambda g, a: rt.quantile_grad(g, a, 0.5, None, False)), (2.0, V[:3])),
    "quantile_grad of integers, q a percentile": (call(lambda g, a, q: rt.quantile_grad(g, a, np.divide(q, 100), None, False, "linear")),
                                                  (2.0, np.array([3, 1, 2, 1, 5]), 40.0)),
    "quantile_grad of one entry": (call(rt.quantile_grad), (2.0, np.array([3.0]), 0.7)),
    "trapezoid_weights of a vector": (call(rt.trapezoid_weights), (V,)),
    "trapezoid_weights of rows, dx": (call(lambda y, dx: rt.trapezoid_weights(y, None, dx, -1), covers=("trapezoid_weights",)), (A, 0.5)),
    "trapezoid_weights, an integer dx": (call(lambda y, dx: rt.trapezoid_weights(y, None, dx, -1)), (V, 2)),
    "trapezoid_weights of rows, x a vector": (call(lambda y, x: rt.trapezoid_weights(y, x, 1.0, -1)), (A, np.sort(V))),
    "trapezoid_weights of rows, x a matrix": (call(lambda y, x: rt.trapezoid_weights(y, x, 1.0, -1)), (A, np.cumsum(W, axis=1))),
    "trapezoid_weights, x integers": (call(lambda y, x: rt.trapezoid_weights(y, x, 1.0, -1)), (V, np.array([0, 1, 3, 7]))),
    "trapezoid_weights of one sample": (call(rt.trapezoid_weights), (np.ones((2, 1)),)),
    "arange_partial in start": (call(lambda ans, a, b: rt.arange_partial(ans, a, b, "start"), covers=("arange_partial",)),
                                (np.arange(1.0, 5.0, 0.5), 1.0, 5.0)),
    "arange_partial in step": (call(lambda ans, a, b: rt.arange_partial(ans, a, b, "step")), (np.arange(1.0, 5.0, 0.5), 1.0, 5.0)),
    "arange_partial of arange(stop)": (call(lambda ans, a: rt.arange_partial(ans, a, None, "start")), (np.arange(4.0), 4.0)),
    "arange_partial of integers": (call(lambda ans, a, b: rt.arange_partial(ans, a, b, "step")), (np.arange(1, 5), 1, 5)),
    "linspace_grad in start": (call(lambda g, a, b, n: rt.linspace_grad(g, a, b, n, True, False, None, 0, 0), covers=("linspace_grad",)),
                               (rng.normal(size=7), 1.0, 3.0, 7)),
    "linspace_grad in stop": (call(lambda g, a, b, n: rt.linspace_grad(g, a, b, n, True, False, None, 0, 1)), (rng.normal(size=7), 1.0, 3.0, 7)),
    "linspace_grad without the endpoint": (call(lambda g, a, b, n, e: rt.linspace_grad(g, a, b, n, e, False, None, 0, 1)),
                                           (rng.normal(size=7), 1.0, 3.0, 7, False)),
    "linspace_grad of one sample": (call(lambda g, a, b, n: rt.linspace_grad(g, a, b, n, True, False, None, 0, 1)), (np.array([2.0]), 1.0, 3.0, 1)),
    "linspace_grad of 50, left out": (call(rt.linspace_grad), (rng.normal(size=50), 0.0, 1)),
    "put_grad for a": (call(lambda g, a, i, v: rt.put_grad(g, a, i, v, "raise", "a"), covers=("put_grad",)), (G, A, PUT, V[:2])),
    "put_grad for v, repeats": (call(lambda g, a, i, v: rt.put_grad(g, a, i, v, "raise", "v")), (G, A, PUT, V[:2])),
    "put_grad for a matrix v, wrapped": (call(lambda g, a, i, v: rt.put_grad(g, a, i, v, "wrap", "v")), (G, A, np.array([[0, 13], [-1, 25]]), R[:2, :2])),
    "put_grad for a number v, clipped": (call(lambda g, a, i, v: rt.put_grad(g, a, i, v, "clip", "v")), (G, A, np.array([0, -20, 13]), 9.0)),
    "put_grad for a, one index": (call(lambda g, a, i, v: rt.put_grad(g, a, i, v, "raise", "a")), (G, A, 5, 9.0)),
    "angle_grad of complex entries and 0": (call(rt.angle_grad), (V, Z)),
    "angle_grad in degrees": (call(lambda g, z: rt.angle_grad(g, z, True), covers=("angle_grad",)), (V, Z)),
    "angle_grad, degrees given at run time": (call(rt.angle_grad), (V, Z, True)),
    "angle_grad of a complex number": (call(lambda g, z: rt.angle_grad(g, z, False)), (2.0, 1 - 2j)),
    "angle_grad of a real array": (call(rt.angle_grad), (V, V)),
    "angle_grad of a real number": (call(lambda g, z: rt.angle_grad(g, z, False)), (2.0, -1.0)),
})


# -- stacks of matrices and axes (the NumPy calls of backends/numba/numpy.py) ------------------
STACK = np.round(rng.normal(size=(2, 3, 4)))
CASES["extremum of a stack over -1 kept"] = (call(rt.extremum_grad, -1, True),
                                             (np.ones((2, 3, 1)), STACK, np.max(STACK, -1, keepdims=True)))
CASES["extremum of a stack over 1"] = (call(rt.extremum_grad, 1, False),
                                       (rng.normal(size=(2, 4)), STACK, np.min(STACK, 1)))
CASES["transpose_grad of a stack"] = (call(rt.transpose_grad, (2, 0, 1)), (rng.normal(size=(4, 2, 3)),))
CASES["transpose_grad, axes passed"] = (call(rt.transpose_grad), (rng.normal(size=(2, 4, 3)), (0, 2, 1)))
CASES["transpose_grad, axes from the end"] = (call(rt.transpose_grad), (rng.normal(size=(2, 4, 3)), (-1, 0, 1)))
S3, P3 = rng.normal(size=(3, 4, 5)), rng.normal(size=(3, 5, 2))
for label, (a, b) in {"stacks": (S3, P3), "a stack and a matrix": (S3, P3[0]),
                      "a matrix and a stack": (S3[0].T, S3), "a stack of one and a stack": (S3[:1], P3),
                      "a stack and a stack of one": (S3, P3[:1]), "an empty stack": (S3[:0], P3[:1]),
                      "transposed stacks": (np.transpose(P3, (0, 2, 1)), np.transpose(S3, (0, 2, 1)))}.items():
    for helper in (rt.matmul_grad_a, rt.matmul_grad_b):
        CASES[f"{helper.__name__} of {label}"] = (call(helper), (rng.normal(size=(a @ b).shape), a, b))


# -- shapes: sorting, gathers, splits, atleast_Nd, one-axis maps, entry numbers, select, interp ----
T3 = rng.normal(size=(2, 3, 4))
W6 = rng.normal(size=6)
XP = np.array([-1.0, 0.0, 0.5, 2.0])
XS = np.array([-3.0, -1.0, 0.0, 0.2, 0.5, 2.0, 3.0])  # outside, at each knot, inside
NONFINITE = np.array([1.0, np.nan, np.inf, -np.inf, 2.0])
CONDS = [V > 0, V > -0.5]
INSERTED_IDS = np.insert(np.arange(6), [1, 1, 3], 6 + np.arange(3))


def AT_LEAST_OF_TWO(g, ans, like):
    return rt.atleast_item(g, 1, ans, like)  # k a constant: g's items of two types


def EDIFF1D_CORE(g, to_begin, to_end):
    return g[rt.ediff1d_core(g, to_begin, to_end)]


CASES.update({
    "sort_jvp with ties": (call(rt.sort_jvp), (V, np.array([1.0, 0.0, 1.0, 0.0]))),
    "sort_jvp of rows": (call(rt.sort_jvp, -1), (A, R)),
    "sort_jvp along 0": (call(rt.sort_jvp, 0), (A, R)),
    "sort_jvp along the middle of three": (call(rt.sort_jvp, 1), (T3, np.round(T3))),
    "sort_jvp of a number": (call(rt.sort_jvp, 1), (2.0, R)),
    "take_along_axis_grad along 1, repeats": (call(rt.take_along_axis_grad, 1),
                                              (A[:, :3], A, np.array([[0, 2, 2], [1, -1, 0], [3, 0, 0]]))),
    "take_along_axis_grad along -1": (call(rt.take_along_axis_grad, -1), (A[:, :1], A, np.array([[0], [3], [3]]))),
    "take_along_axis_grad along 0": (call(rt.take_along_axis_grad, 0), (V[None], A, np.array([[0, 2, 2, 1]]))),
    "take_along_axis_grad from a row": (call(rt.take_along_axis_grad, 1), (A, A[:1], np.zeros((3, 4), np.int64))),
    "take_along_axis_grad flat": (call(rt.take_along_axis_grad, None), (W6[:5], A, np.array([0, 11, 11, -2, 3]))),
    "take_along_axis_grad of broadcast g": (call(rt.take_along_axis_grad, 1),
                                            (V[None, :2], A, np.array([[0, 3], [1, 3], [2, 2]]))),
    "take_along_axis_grad of a number": (call(rt.take_along_axis_grad, 1),
                                         (2.0, A, np.array([[0, 0], [1, 3], [2, 2]]))),
    "take_along_axis_grad of three axes": (call(rt.take_along_axis_grad, 2),
                                           (T3[:, :, :2], T3, rng.integers(0, 4, size=(2, 3, 2)))),
    "unsplit a list": (call(rt.unsplit, 0), ([W6[:1], W6[1:4], W6[4:]], np.split(W6, [1, 4]))),
    "unsplit a typed list": (call(rt.unsplit, 0), (numba.typed.List(np.split(W6, 3)), numba.typed.List(np.split(W6, 3)))),
    "unsplit a tuple along 1": (call(rt.unsplit, 1), (tuple(np.split(A, 2, 1)), tuple(np.split(A, 2, 1)))),
    "unsplit along -1 of three axes": (call(rt.unsplit, -1), (np.split(T3, [1, 3], -1), np.split(T3, [1, 3], -1))),
    "unsplit broadcast pieces": (call(rt.unsplit, 0), ([V[None], 2 * V[None]], [A[:1].copy(), A[1:].copy()])),
    "atleast_item of one argument": (call(rt.atleast_item), (V[None], 0, V[None], V)),
    "atleast_item of one number": (call(rt.atleast_item), (np.full((1, 1), 3.0), 0, np.ones((1, 1)), 2.0)),
    "atleast_item of a tuple": (call(rt.atleast_item), ((A[:1], A[1:2]), 1, (A[:1], A[1:2]), A[1])),
    "atleast_item of a list": (call(rt.atleast_item), ([A[:1], A[1:2]], 1, [A[:1], A[1:2]], A[1])),
    "atleast_item of an unused item": (call(rt.atleast_item), ((0.0, 0.0), 1, (A[:1], A[:1]), A[0])),
    "atleast_item of an unused entry": (call(rt.atleast_item), ((0.0, 0.0), 1, (A[:1], A[:1]), A[0, :1])),
    "atleast_item of two types": (call(AT_LEAST_OF_TWO, covers=("atleast_item",)),
                                  ((A, 0.0), (A, np.ones((1, 1))), 2.0)),
    "apply_along 0": (call(rt.apply_along, 0), (rng.normal(size=(5, 3)), A)),
    "apply_along -1": (call(rt.apply_along, -1), (rng.normal(size=(2, 4)), A)),
    "apply_along the middle of three": (call(rt.apply_along, 1), (rng.normal(size=(2, 3)), T3)),
    "apply_along a vector": (call(rt.apply_along), (rng.normal(size=(2, 6)), W6)),
    "diff_matrix": (call(rt.diff_matrix, 1, -1, None, None), (W6,)),
    "diff_matrix n=2 along 0": (call(rt.diff_matrix, 2, 0, None, None), (A,)),
    "diff_matrix n=0": (call(rt.diff_matrix, 0, 1, None, None), (A,)),
    "diff_matrix prepended and appended": (call(rt.diff_matrix), (A, 2, 1, 1.0, np.ones((3, 2)))),
    "diff_matrix prepended an array": (call(rt.diff_matrix), (A, 1, 0, np.ones((2, 4)), None)),
    "diff_matrix of integers": (call(rt.diff_matrix, 1, -1, None, None), (np.arange(4),)),
    "ediff1d_core bare": (call(EDIFF1D_CORE, covers=("ediff1d_core",)), (W6, None, None)),
    "ediff1d_core with both ends": (call(EDIFF1D_CORE, covers=("ediff1d_core",)), (W6, 1.0, np.ones(2))),
    "ediff1d_core with a 2-D end": (call(EDIFF1D_CORE, covers=("ediff1d_core",)), (W6, None, np.ones((1, 2)))),
    "entry_ids": (call(rt.entry_ids, 0), (A,)),
    "entry_ids from a base": (call(rt.entry_ids, 5), (A,)),
    "entry_ids of a number": (call(rt.entry_ids, 12), (2.0,)),
    "routed to arr": (call(rt.routed, 0), (rng.normal(size=9), INSERTED_IDS, W6)),
    "routed to values": (call(rt.routed, 6), (rng.normal(size=9), INSERTED_IDS, np.ones(3))),
    "routed to a number": (call(rt.routed, 6), (W6, np.insert(np.arange(5), 2, 6), 1.0)),
    "routed repeats of a number": (call(rt.routed, 0), (2.0, np.array([[0, 1], [1, 7]]), A[:1, :2])),
    "finite_parts": (call(rt.finite_parts), (W6[:5], NONFINITE)),
    "finite_parts broadcast": (call(rt.finite_parts), (rng.normal(size=(2, 5)), NONFINITE)),
    "finite_parts of a number g": (call(rt.finite_parts), (3.0, NONFINITE)),
    "finite_parts of numbers": (call(rt.finite_parts), (3.0, np.inf)),
    "finite_parts of an infinite g": (call(rt.finite_parts), (np.inf, 1.0)),
    "finite_parts of an infinite g at an infinity": (call(rt.finite_parts), (np.inf, -np.inf)),
    "select_grad": (items(rt.select_grad), (V, CONDS, [V * 2, V * 3])),
    "select_grad of tuples": (items(rt.select_grad), (V, tuple(CONDS), (V * 2, V * 3))),
    "select_grad broadcast": (items(rt.select_grad), (A[:2, :3], [A[:2, :3] > 0, A[:1, :3] > -0.5],
                                                      [A[:2, :3].copy(), A[:1, :3].copy()])),
    "select_grad of a number": (items(rt.select_grad), (2.0, [A[:2, :3] > 0, A[:1, :3] > -0.5],
                                                        [A[:2, :3].copy(), A[:1, :3].copy()])),
    "select_none": (call(rt.select_none), (CONDS,)),
    "select_none broadcast": (call(rt.select_none), ([A[:2, :3] > 0, A[:1, :3] > -0.5],)),
    "interp_segment at and between knots": (call(rt.interp_segment), (XS, XP)),
    "interp_segment of a matrix": (call(rt.interp_segment), (XS[None], XP)),
    "interp_segment of a number": (call(rt.interp_segment), (0.5, XP)),
    "interp_segment at the last knot": (call(rt.interp_segment), (2.0, XP)),
    "interp_inside": (call(rt.interp_inside), (XS, XP)),
    "interp_inside of a number": (call(rt.interp_inside), (2.5, XP)),
})


# -- linear algebra: the decompositions' adjoints, kron, convolve's margins, eig's checks ------
def both(helper, *fixed, none_at=()):
    """``helper(g, *args, *fixed)`` compiled, with the cotangent tuple's items ``none_at`` None,
    and run by NumPy with 0.0 there (how it spells an unused output)."""
    COVERED.add(helper.__name__)
    def spelled(g, unused):
        return tuple(unused if i in none_at else x for i, x in enumerate(g))
    def jitted(g, *args):  # the fixed arguments in the source, where Numba sees literals
        params = "".join(f", a{i}" for i in range(len(args)))
        literals = "".join(f", {x!r}" for x in fixed)
        source = f"lambda g{params}: helper(g{params}{literals})"
        return numba.njit(eval(source, {"helper": helper}))(g, *args)
    return (lambda g, *args: jitted(spelled(g, None), *args),
            lambda g, *args: helper(spelled(g, 0.0), *args, *fixed))


def raises(helper, *fixed, covers=()):
    """``helper(*args, *fixed)`` compiled and by NumPy, each raising a ValueError: 1.0 from the
    compiled one when its message is NumPy's."""
    COVERED.update(covers or (helper.__name__,))
    compiled = inner(helper)
    jitted = numba.njit(lambda *args: compiled(*args, *fixed))
    def message(f, *args):
        with pytest.raises(ValueError) as error:
            f(*args)
        return str(error.value)
    return (lambda *args: float(message(jitted, *args) == message(helper, *args, *fixed)),
            lambda *args: 1.0)


SPD = M @ M.T + np.eye(3)
SYM = M + M.T
TIES = np.diag([1.0, 1.0, 2.0])
TALL, WIDE = rng.normal(size=(4, 3)), rng.normal(size=(3, 4))
CMPLX = M + 1j * rng.normal(size=(3, 3))


def randn(*shapes):
    return tuple(rng.normal(size=s) for s in shapes)


def svd_case(a, full_matrices=False, zero_vectors=False):
    ans = np.linalg.svd(a, full_matrices=full_matrices)
    g = randn(*(x.shape for x in ans))
    if zero_vectors:
        g = (0 * g[0], g[1], 0 * g[2])
    elif full_matrices:
        k = ans[1].size
        g[0][:, k:], g[2][k:, :] = 0, 0
    return g, a, ans


def lstsq_case(a, b):
    ans = np.linalg.lstsq(a, b)
    return (rng.normal(size=ans[0].shape), rng.normal(size=ans[1].shape), 0.0,
            rng.normal(size=ans[3].shape)), a, b, ans


EIG_REAL = np.array([[2.0, 1.0, 0.0], [0.5, 3.0, 1.0], [0.0, 0.2, 1.0]])
EIG_MIXED = np.array([[0.0, -1.0, 0.0], [1.0, 0.0, 0.0], [0.0, 0.0, 2.0]])  # eigenvalues +-i, 2
VBAR = rng.normal(size=(3, 3)) + 1j * rng.normal(size=(3, 3))
KRON = (lambda g, a, b: rt.kron_grad(g, 0, a, b), lambda g, a, b: rt.kron_grad(g, 1, a, b))

CASES.update({
    "cholesky_grad, lower": (call(rt.cholesky_grad), (rng.normal(size=(3, 3)), np.linalg.cholesky(SPD))),
    "cholesky_grad, lower given": (call(lambda g, l: rt.cholesky_grad(g, l, False), covers=("cholesky_grad",)),
                                   (rng.normal(size=(3, 3)), np.linalg.cholesky(SPD))),
    "cholesky_grad, upper": (call(lambda g, u: rt.cholesky_grad(g, u, True), covers=("cholesky_grad",)),
                             (rng.normal(size=(3, 3)), np.linalg.cholesky(SPD, upper=True))),
    "eigh_grad of both": (both(rt.eigh_grad), (randn(3, (3, 3)), SYM, np.linalg.eigh(SYM))),
    "eigh_grad of eigenvalues, ties": (both(rt.eigh_grad), ((V[:3], np.zeros((3, 3))), TIES, np.linalg.eigh(TIES))),
    "eigh_grad of eigenvectors, none": (both(rt.eigh_grad, none_at=(0,)), (randn(3, (3, 3)), SYM, np.linalg.eigh(SYM))),
    "eigh_grad of eigenvalues, none": (both(rt.eigh_grad, none_at=(1,)), (randn(3, (3, 3)), TIES, np.linalg.eigh(TIES))),
    "eigh_grad on the upper triangle": (both(rt.eigh_grad, "U"), (randn(3, (3, 3)), M, np.linalg.eigh(M, "U"))),
    "eigh_grad of eigvalsh": (call(rt.eigh_grad), (V[:3], M, np.linalg.eigvalsh(M))),
    "eigh_grad of eigvalsh, upper": (call(lambda g, a, w: rt.eigh_grad(g, a, w, "U"), covers=("eigh_grad",)),
                                     (V[:3], M, np.linalg.eigvalsh(M, "U"))),
    "svd_grad, tall": (both(rt.svd_grad, False), svd_case(TALL)),
    "svd_grad, wide": (both(rt.svd_grad, False), svd_case(WIDE)),
    "svd_grad, square": (both(rt.svd_grad, False), svd_case(M)),
    "svd_grad, full matrices square": (both(rt.svd_grad), svd_case(M, True)),
    "svd_grad, full matrices, values": (both(rt.svd_grad, True, True), svd_case(WIDE, True, True)),
    "svd_grad of values in the triple": (both(rt.svd_grad, False), svd_case(TALL, False, True)),
    "svd_grad of values, vectors none": (both(rt.svd_grad, False, none_at=(0, 2)), svd_case(WIDE)),
    "svd_grad of values only": (call(lambda g, a, s: rt.svd_grad(g, a, s, True, False), covers=("svd_grad",)),
                                (V[:3], TALL, np.linalg.svd(TALL, compute_uv=False))),
    "svd_grad of svdvals": (call(rt.svd_grad), (V[:3], WIDE, np.linalg.svd(WIDE, compute_uv=False))),
    "svd_grad beyond min(m, n)": (raises(rt.svd_grad), (randn((4, 4), 3, (3, 3)), TALL,
                                                        np.linalg.svd(TALL))),
    "qr_grad, tall": (both(rt.qr_grad), (randn((4, 3), (3, 3)), TALL, np.linalg.qr(TALL))),
    "qr_grad, wide": (both(rt.qr_grad, "reduced"), (randn((3, 3), (3, 4)), WIDE, np.linalg.qr(WIDE))),
    "qr_grad, of r": (both(rt.qr_grad, none_at=(0,)), (randn((3, 3), (3, 4)), WIDE, np.linalg.qr(WIDE))),
    "qr_grad, complete wide": (both(rt.qr_grad, "complete"),
                               (randn((3, 3), (3, 4)), WIDE, np.linalg.qr(WIDE, "complete"))),
    "qr_grad, mode r tall": (call(lambda g, a, r: rt.qr_grad(g, a, r, "r"), covers=("qr_grad",)),
                             (rng.normal(size=(3, 3)), TALL, np.linalg.qr(TALL, "r"))),
    "qr_grad, mode r wide": (call(lambda g, a, r: rt.qr_grad(g, a, r, "r"), covers=("qr_grad",)),
                             (rng.normal(size=(3, 4)), WIDE, np.linalg.qr(WIDE, "r"))),
    "qr_grad, complete tall": (raises(lambda g, a, ans: rt.qr_grad(g, a, ans, "complete"), covers=("qr_grad",)),
                               (randn((4, 4), (4, 3)), TALL, np.linalg.qr(TALL, "complete"))),
    "pinv_grad, tall": (call(rt.pinv_grad), (rng.normal(size=(3, 4)), TALL, np.linalg.pinv(TALL))),
    "pinv_grad, wide": (call(rt.pinv_grad), (rng.normal(size=(4, 3)), WIDE, np.linalg.pinv(WIDE))),
    "lstsq_grad for a, a vector b": (both(rt.lstsq_grad, "a"), lstsq_case(TALL, V)),
    "lstsq_grad for b, a vector b": (both(rt.lstsq_grad, "b"), lstsq_case(TALL, V)),
    "lstsq_grad for a, a matrix b": (both(rt.lstsq_grad, "a"), lstsq_case(TALL, rng.normal(size=(4, 2)))),
    "lstsq_grad for b, a matrix b": (both(rt.lstsq_grad, "b"), lstsq_case(TALL, rng.normal(size=(4, 2)))),
    "lstsq_grad for a, no residuals": (both(rt.lstsq_grad, "a"), lstsq_case(WIDE, V[:3])),
    "lstsq_grad for b, no residuals": (both(rt.lstsq_grad, "b"), lstsq_case(M, B)),
    "lstsq_grad for a, residuals none": (both(rt.lstsq_grad, "a", none_at=(1,)), lstsq_case(TALL, V)),
    "lstsq_grad for b, residuals none": (both(rt.lstsq_grad, "b", none_at=(1,)), lstsq_case(TALL, V)),
    "matrix_power_grad, n=3": (call(rt.matrix_power_grad, 3), (A[:, :3], 0.5 * M)),
    "matrix_power_grad, n=1": (call(rt.matrix_power_grad, 1), (A[:, :3], M)),
    "matrix_power_grad, n=0": (call(rt.matrix_power_grad, 0), (A[:, :3], M)),
    "matrix_power_grad, n=-2": (call(rt.matrix_power_grad, -2), (A[:, :3], M)),
    "kron_grad of matrices, 0": (call(KRON[0], covers=("kron_grad",)), (rng.normal(size=(12, 6)), A, B)),
    "kron_grad of matrices, 1": (call(KRON[1], covers=("kron_grad",)), (rng.normal(size=(12, 6)), A, B)),
    "kron_grad of a vector and a matrix, 0": (call(KRON[0], covers=("kron_grad",)), (rng.normal(size=(3, 8)), V, B)),
    "kron_grad of a vector and a matrix, 1": (call(KRON[1], covers=("kron_grad",)), (rng.normal(size=(3, 8)), V, B)),
    "kron_grad of a matrix and a vector, 0": (call(KRON[0], covers=("kron_grad",)), (rng.normal(size=(3, 12)), A[:, :3], V)),
    "kron_grad of a matrix and a vector, 1": (call(KRON[1], covers=("kron_grad",)), (rng.normal(size=(3, 12)), A[:, :3], V)),
    "kron_grad of vectors, 0": (call(KRON[0], covers=("kron_grad",)), (rng.normal(size=12), V[:3], V)),
    "kron_grad of vectors, 1": (call(KRON[1], covers=("kron_grad",)), (rng.normal(size=12), V[:3], V)),
    "conv_margins, full": (call(rt.conv_margins), (V, V[:3])),
    "conv_margins, same": (call(rt.conv_margins, "same"), (V, V[:3])),
    "conv_margins, same shorter": (call(rt.conv_margins, "same"), (V[:2], V)),
    "conv_margins, valid": (call(rt.conv_margins, "valid"), (V[:3], V)),
    "conv_margins, correlate same": (call(rt.conv_margins, "same", True), (V[:3], V)),
    "conv_margins, correlate same longer": (call(rt.conv_margins, "same", True), (V, V[:3])),
    "conv_margins, correlate valid": (call(rt.conv_margins, "valid", True), (V, V[:2])),
    "conv_margins' np.pad of a vector": (call(lambda x: np.pad(x, (2, 1)), covers=("conv_margins",)), (V,)),
    "conv_margins' np.pad, complex": (call(lambda x: np.pad(x, (0, 3)), covers=("conv_margins",)), (VBAR[0],)),
    "conv_margins' np.pad, negative": (raises(lambda x: np.pad(x, (-1, 2)), covers=("conv_margins",)), (V,)),
    "eig_vector_cotangent of real eigenvalues": (call(rt.eig_vector_cotangent), (VBAR.real, EIG_REAL, np.linalg.eig(EIG_REAL)[0])),
    "eig_vector_cotangent, complex v_bar": (call(rt.eig_vector_cotangent), (VBAR, EIG_REAL, np.linalg.eig(EIG_REAL)[0])),
    "eig_vector_cotangent, mixed eigenvalues": (call(rt.eig_vector_cotangent), (VBAR, EIG_MIXED, np.linalg.eig(EIG_MIXED)[0])),
    "eig_vector_cotangent of a complex matrix": (call(rt.eig_vector_cotangent), (VBAR, CMPLX, np.linalg.eig(CMPLX)[0])),
    "phase_free of a real matrix": (call(rt.phase_free), (M,)),
    "phase_free of a real diagonal": (call(rt.phase_free), (VBAR - 1j * np.diag(np.diag(VBAR.imag)),)),
    "phase_free of a complex diagonal": (raises(rt.phase_free), (VBAR,)),
})


@pytest.mark.parametrize("case", list(CASES))
def test_twin_matches_numpy_helper(case):
    if case.startswith(("dot_", "matmul_", "det_", "solve_", "inv_", "cholesky_", "eigh_", "svd_",
                        "qr_", "pinv_", "lstsq_", "matrix_power_")):
        pytest.importorskip("scipy", reason="Numba's np.dot, @ and np.linalg need SciPy")
    (compiled, plain), args = CASES[case]
    got, want = compiled(*args), plain(*args)
    if isinstance(want, (list, tuple)):
        assert len(got) == len(want)
        for a, b in zip(got, want):
            same(a, b)
    else:
        same(got, want)


def same(got, want):
    if isinstance(want, str):  # a normalisation's name
        assert got == want
        return
    assert np.shape(got) == np.shape(want)
    assert np.iscomplexobj(got) == np.iscomplexobj(want)  # a real value's adjoint stays real
    if isinstance(want, tuple):  # a dict's item
        assert got[0] == want[0]
        got, want = got[1], want[1]
    np.testing.assert_allclose(np.asarray(got), np.asarray(want), rtol=1e-12, atol=1e-12)


UNCASED = {"reserve": "test_tapes.py covers the tapes it grows",
           "writable_copy": "the entry point's private copy of a written parameter",
           "unit_seed": "the seed 1.0 of every gradient in test_numba_compiles.py"}


def test_every_twin_has_a_case():
    uncased = sorted(set(TWINS) - COVERED - set(UNCASED))
    assert not uncased, f"twins with no case here: {uncased}"
