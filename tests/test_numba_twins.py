"""Each Numba twin (``adjoint/backends/numba/``) returns what its NumPy helper returns.

The corpus in test_numba_compiles.py checks whole gradients; this checks the
twins one by one, on the shapes and index kinds where a generic kernel could
go wrong (reductions over an axis, broadcasting both ways, repeated indices).
"""
import importlib
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


def todo(fn):
    return f"TODO: Numba compiles {fn}; its adjoint's twin is not written yet"


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
                     "default_snapshots"], CHECKPOINT),
    **dict.fromkeys(["AdjointRecord", "ObjectAdjoint", "replace_fields", "fields_cleared",
                     "cell_value", "set_cell", "attribute_value", "set_attribute", "old_item",
                     "put_back", "MISSING", "check_keywords"], OBJECTS),
    "piecewise_grad": CALLS,
    "sort_order": CALLS + ": sorted(..., key=keys.__getitem__)",
    "none_to_zero": "custom rules' adjoints only (and SciPy's): they call the user's rule, a Python "
                    "function, so such code never compiles",
    "AdjointList": "the NumPy backend's list adjoint; on Numba a list's adjoint is Rows (kinds.py), "
                   "and the one template naming it, tuple(...)'s, is of a call Numba does not compile",
    "AdjointDict": "the NumPy backend's dict adjoint; on Numba zeros_like of a dict is a typed dict",
    "elementwise_shape": "passes/dead_values.py puts these stand-ins only in NumPy-backend code",
    "LN2": "a float constant, which compiled code reads as a frozen global",
    "LN10": "a float constant, which compiled code reads as a frozen global",
    "einsum_grad": unsupported("np.einsum"),
    "tensordot_grad": unsupported("np.tensordot"),
    "inner_grad": unsupported("np.inner"),
    "pad_grad": unsupported("np.pad"),
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
    **dict.fromkeys(["dual_norm", "fft_axes", "fft_shape", "pair_weights"],
                    unsupported("np.fft (without the rocket-fft extension)")),
    **{name: todo(fn) for name, fn in {
        "astype": "ndarray.astype", "angle_grad": "np.angle", "apply_along": "np.diff",
        "arange_partial": "np.arange", "atleast_item": "np.atleast_1d", "average_grad": "np.average",
        "cholesky_grad": "np.linalg.cholesky", "conv_margins": "np.convolve",
        "cumprod_grad": "np.cumprod", "det_grad": "np.linalg.det", "diag_grad": "np.diag",
        "diff_matrix": "np.diff", "ediff1d_core": "np.ediff1d", "eig_vector_cotangent": "np.linalg.eig",
        "eigh_grad": "np.linalg.eigh", "entry_ids": "np.delete", "finite_parts": "np.nan_to_num",
        "interp_inside": "np.interp", "interp_matrix": "np.interp", "interp_segment": "np.interp",
        "kron_grad": "np.kron", "linspace_grad": "np.linspace", "lstsq_grad": "np.linalg.lstsq",
        "mH": "np.linalg.inv", "mT": "np.linalg.inv", "matrix_power_grad": "np.linalg.matrix_power",
        "nan_count": "np.nanmean", "phase_free": "np.linalg.eig", "pinv_grad": "np.linalg.pinv",
        "put_grad": "np.put (lowered to put_into)", "put_into": "np.put (lowered to put_into)",
        "qr_grad": "np.linalg.qr", "quantile_grad": "np.quantile", "repeat_grad": "np.repeat",
        "routed": "np.delete", "scatter_add": "np.add.at (lowered to scatter_add)",
        "select_grad": "np.select", "select_none": "np.select", "solve_grad": "np.linalg.solve",
        "sort_grad": "np.sort", "sort_jvp": "np.partition", "svd_grad": "np.linalg.svd",
        "take_along_axis_grad": "np.take_along_axis", "take_grad": "np.take",
        "trace_grad": "np.trace", "trapezoid_weights": "np.trapezoid", "unsplit": "np.split"}.items()
       if name not in TWINS},
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
