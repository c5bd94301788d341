"""The Numba backend: same derivatives as the NumPy backend on loop code, and a graceful fallback."""
import re
import warnings

import numpy as np
import pytest

pytest.importorskip("numba")

import adjoint  # noqa: E402
from adjoint.testing import numerical_grad  # noqa: E402

from . import constructs as c  # noqa: E402
from . import programs as p  # noqa: E402

rng = np.random.default_rng(7)

CASES = [
    (c.scalar_loop, (0.9, 0.3, 0.5), (0, 1, 2)),
    (c.logsumexp_loop, (rng.normal(size=6),), 0),
    (c.writes, (rng.normal(size=4),), 0),
    (c.nested_loops, (rng.normal(size=(3, 3)), rng.normal(size=3)), (0, 1)),
    (c.while_counter, (0.8,), 0),
    (c.with_break, (0.7,), 0),
    (p.cumulative, (rng.normal(size=5),), 0),
    (p.newton_sqrt, (2.0,), 0),
]


@pytest.mark.parametrize("fun,args,wrt", CASES, ids=[f.__name__ for f, _, _ in CASES])
def test_numba_matches_numpy_and_finite_differences(fun, args, wrt):
    with warnings.catch_warnings():
        warnings.simplefilter("error", adjoint.BackendWarning)  # must compile, not fall back
        got = adjoint.grad(fun, wrt, backend="numba")(*args)
    want = adjoint.grad(fun, wrt, backend="numpy")(*args)
    got = got if isinstance(wrt, tuple) else (got,)
    want = want if isinstance(wrt, tuple) else (want,)
    positions = list(wrt) if isinstance(wrt, tuple) else [wrt]
    numeric = numerical_grad(fun, args, positions)
    for g, w, n in zip(got, want, numeric):
        np.testing.assert_allclose(g, w, rtol=1e-10, atol=1e-12)
        np.testing.assert_allclose(g, n, rtol=1e-5, atol=1e-7)
        assert type(g) is type(w)


def uses_dict(params, x):
    total = 0.0
    for i in range(3):
        total = total + params["w"] * x[i]
    return total


def test_unsupported_construct_falls_back_with_one_warning():
    g = adjoint.grad(uses_dict, backend="numba")
    params, x = {"w": 2.0}, np.array([1.0, 2.0, 3.0])
    with pytest.warns(adjoint.BackendWarning, match="uses_dict"):
        first = g(params, x)
    with warnings.catch_warnings():
        warnings.simplefilter("error", adjoint.BackendWarning)
        second = g(params, x)  # no second warning
    assert first == second == {"w": 6.0}


def test_auto_picks_numba_for_loops(monkeypatch):
    monkeypatch.delenv("ADJOINT_BACKEND", raising=False)
    from adjoint.backends.numba import Fallback
    g = adjoint.grad(c.scalar_loop)
    g(0.9, 0.3, 0.5)
    (entry,) = g._entries.values()
    assert isinstance(entry["main"], Fallback)
    h = adjoint.grad(c.arith)
    h(np.ones(2), np.ones(2))
    (entry,) = h._entries.values()
    assert not isinstance(entry["main"], Fallback)  # no loop: NumPy


def branchy_loop(x):
    s = 0.5
    for i in range(x.shape[0]):
        if x[i] > 0:
            s = s * x[i] + np.sin(s)
        else:
            s = s - x[i] * s
    return s


def counter_rebound(x):
    s = 1.0
    for i in range(3):
        s = s * np.sin(x * s)
        i = i + 1
    return s + i


def gather_loop(x, idx):
    s = 0.3
    for k in range(idx.shape[0]):
        j = int(idx[k])
        s = np.cos(s) * x[j]
    return s


def nested_rows(X, w):
    s = 0.0
    for i in range(X.shape[0]):
        acc = 0.0
        for j in range(X.shape[1]):
            acc = acc + np.tanh(X[i, j] * w[j] * acc)
        s = s + acc * acc
    return s


def triangle(x):
    s = 0.0
    for i in range(len(x)):
        for j in range(i):
            s = s + np.sin(s * x[j]) + x[i]
    return s


def while_in_loop(x):
    s = 0.0
    for i in range(3):
        k = 0
        while k < 4 and s < 5.0:
            s = s + x[i] * np.cos(s + k)
            k += 1
    return s


def stepped(x):
    s = 0.2
    for a in range(2):
        for c_ in range(4, -1, -2):
            s = s * 0.5 + np.sin(x[c_ % 3] * s + a)
    return s


def mixture(x, means, icf, index):
    """The loop Gaussian mixture's shape: ``v``, ``sq``, ``top`` and ``s`` first bound inside
    loops, an integer array read in index arithmetic, a fixed-shape array per trip written by
    elements, a triangular inner loop."""
    n, d = x.shape
    K = means.shape[0]
    total = 0.0
    for i in range(n):
        terms = np.zeros(K)
        for k in range(K):
            sq = 0.0
            for r in range(d):
                v = np.exp(icf[k, r]) * (x[i, r] - means[k, r])
                for c_ in range(r):
                    v += icf[k, index[r, c_] + d] * (x[i, c_] - means[k, c_])
                sq += v * v
            terms[k] = -0.5 * sq
        top = terms[0]
        for k in range(1, K):
            top = max(top, terms[k])
        s = 0.0
        for k in range(K):
            s += np.exp(terms[k] - top)
        total += top + np.log(s)
    return total


def grid_rows(X):
    s = 0.0
    for i in range(X.shape[0]):
        row = np.ones(3)  # written by elements; its overwritten elements read again
        for j in range(3):
            row[j] = np.sin(X[i, j] * s + row[j])
        s = s + row[0] * row[2] + row[1] * s
    return s


_index = np.array([[3, 3, 3], [0, 3, 3], [1, 2, 3]])

# (function, arguments, wrt, its tapes: indexed by the loop counter (t[i] = x), stacks, both or
# none: every value the backward sweep reads is computed again)
TAPE_CASES = [
    (c.scalar_loop, (0.9, 0.3, 0.5), (0, 1, 2), "indexed"),
    (c.logsumexp_loop, (rng.normal(size=6),), 0, "indexed"),  # a top-level loop tapes exp(x[i] - m)
    (branchy_loop, (rng.normal(size=7),), 0, "both"),
    (counter_rebound, (0.4,), 0, "indexed"),  # the loop iterates a counter of its own
    (gather_loop, (rng.normal(size=5), np.array([4, 0, 2, 2, 1])), 0, "indexed"),
    (c.while_counter, (0.8,), 0, "stack"),
    (c.with_break, (0.7,), 0, "indexed"),
    (nested_rows, (rng.normal(size=(4, 3)), rng.normal(size=3)), (0, 1), "both"),
    (triangle, (rng.normal(size=4),), 0, "stack"),
    (while_in_loop, (rng.normal(size=3),), 0, "both"),
    (stepped, (rng.normal(size=3),), 0, "both"),
    (mixture, (rng.normal(size=(4, 3)), rng.normal(size=(2, 3)), 0.3 * rng.normal(size=(2, 6)),
               _index), (1, 2), "both"),
    (grid_rows, (rng.normal(size=(3, 3)),), 0, "both"),
]


@pytest.mark.parametrize("fun,args,wrt,kind", TAPE_CASES, ids=[f[0].__name__ for f in TAPE_CASES])
def test_tapes_of_numbers_are_arrays(fun, args, wrt, kind, monkeypatch):
    """Tapes of numbers are arrays, never lists: ``np.empty(n)`` at ``[i]`` for a value pushed
    once per trip of a top-level ``for i in range(n)``, else a stack with its count, sized by
    ``reserve`` (nested loops, ``while``, triangular loops); both sweeps empty it again."""
    monkeypatch.setenv("ADJOINT_CHECK_TAPES", "1")
    g = adjoint.grad(fun, wrt, backend="numba")
    with warnings.catch_warnings():
        warnings.simplefilter("error", adjoint.BackendWarning)
        got = g(*args)
    assert "_tape = []" not in g.source and ".append(" not in g.source
    assert bool(re.search(r"_tape\[(?!\w*_top\])\w+\] = ", g.source)) == (kind in ("indexed", "both"))
    assert ("_tape_top] = " in g.source) == (kind in ("stack", "both"))
    got = got if isinstance(wrt, tuple) else (got,)
    want = adjoint.grad(fun, wrt, backend="numpy")(*args)
    for a, b, c_ in zip(got, want if isinstance(wrt, tuple) else (want,),
                        numerical_grad(fun, args, list(wrt) if isinstance(wrt, tuple) else [wrt])):
        np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-12)
        np.testing.assert_allclose(a, c_, rtol=1e-5, atol=1e-7)


def test_fixed_shape_arrays_per_trip_are_rows_of_one_array():
    """``terms = np.zeros(K)`` on every trip, written by elements: one ``(n, K)`` array, stored
    as the trip leaves it; no list tape of its overwritten elements; nothing starts as None,
    and the tape of ``v += ...``'s old values (read by no adjoint) is gone."""
    g = adjoint.grad(mixture, (1, 2), backend="numba")
    g(*TAPE_CASES[-2][1])
    assert "terms_tape = np.empty((n, K))" in g.source and "terms_tape[i] = terms" in g.source
    assert "terms_tape_items = []" not in g.source
    assert " = None" not in g.source and "v_1_tape" not in g.source
    assert "index1 = t" in g.source.split("_bar = ", 1)[1]  # the index is computed again


def blocks_per_trip(x, n):
    total = 0.0
    for i in range(n):
        A = np.zeros((2, 3))  # a 2-D array of one shape per trip, written by elements
        for r in range(2):
            for c_ in range(3):
                A[r, c_] = np.sin(x[r] * (c_ + 1) + i * total)
        total += A[0, 1] * A[1, 2] + A[1, 0]
    return total


def test_matrices_per_trip_are_slices_of_one_array():
    """``A = np.zeros((2, 3))`` on every trip (its shape bound to a name by normalisation): one
    ``(n, 2, 3)`` array, every tape an array, the gradient that of central differences."""
    x = rng.normal(size=2)
    g = adjoint.grad(blocks_per_trip, backend="numba")
    with warnings.catch_warnings():
        warnings.simplefilter("error", adjoint.BackendWarning)
        got = g(x, 4)
    assert "A_tape = np.empty((max(n, 0), 2, 3))" in g.source and "A_tape[i] = A" in g.source
    assert "= []" not in g.source and ".append(" not in g.source
    np.testing.assert_allclose(got, numerical_grad(blocks_per_trip, (x, 4), [0])[0], rtol=1e-6, atol=1e-9)


def growing(x):
    s = 0.0
    for i in range(x.shape[0]):
        acc = np.zeros(i + 1)  # a shape of its own per trip: stays a list
        for j in range(i + 1):
            acc[j] = np.sin(x[j] * s)
        s = s + np.sum(acc * acc)
    return s


def test_arrays_whose_shape_changes_per_trip_stay_in_lists():
    x = rng.normal(size=4)
    g = adjoint.grad(growing, backend="numba")
    with warnings.catch_warnings():
        warnings.simplefilter("error", adjoint.BackendWarning)
        got = g(x)
    assert "acc_tape = []" in g.source
    np.testing.assert_allclose(got, numerical_grad(growing, (x,), [0])[0], rtol=1e-6, atol=1e-9)


def test_nested_counted_loops_make_room_once_per_inner_loop():
    """Before the inner loop, one ``reserve`` per stack for all of its trips; none inside it."""
    g = adjoint.grad(nested_rows, (0, 1), backend="numba")
    g(rng.normal(size=(4, 3)), rng.normal(size=3))
    before, inner = re.split(r"\n\s*for j in range", g.source, maxsplit=1)
    code = [ln.strip() for ln in before.splitlines() if not ln.strip().startswith("#")]
    rooms = code[code.index("t4 = t3[1]") + 1:]  # X.shape[1], read again, not taped
    assert len(rooms) == 2 and all(" = reserve(" in ln and ln.endswith("_tape_top + t4)")
                                   for ln in rooms), code[-6:]
    backward = inner.split("s_bar = ")[-1]
    assert "t5 = X[i, j]" in backward and "t7 = t5 * t6" in backward  # read and computed again
    assert "t5_tape" not in g.source and "t7_tape" not in g.source and "t4_tape" not in g.source
    assert "reserve(" not in inner.split("acc_bar = ")[0]


def exp_rows(X):
    s = 0.0
    for i in range(X.shape[0]):
        e = np.exp(X[i, 0])  # a top-level loop: taped, one number a trip
        for j in range(X.shape[1]):
            s += np.exp(X[i, j]) * e  # an inner loop: computed again, not taped
    return s


def test_calls_are_taped_in_top_level_loops_and_computed_again_in_inner_ones():
    X = rng.normal(size=(3, 4))
    g = adjoint.grad(exp_rows, backend="numba")
    with warnings.catch_warnings():
        warnings.simplefilter("error", adjoint.BackendWarning)
        got = g(X)
    assert "e_tape[i] = e" in g.source
    assert g.source.count("_tape = np.empty(") == 1, g.source
    np.testing.assert_allclose(got, numerical_grad(exp_rows, (X,), [0])[0], rtol=1e-6)


def test_integer_tapes_are_integer_arrays():
    g = adjoint.grad(gather_loop, backend="numba")
    g(rng.normal(size=5), np.array([4, 0, 2, 2, 1]))
    assert "j_tape = np.empty(t2, np.int64)" in g.source and ".append(" not in g.source


def test_float32_loop_keeps_its_dtype():
    x = rng.normal(size=6).astype(np.float32)
    g = adjoint.grad(c.logsumexp_loop, backend="numba")(x)
    assert g.dtype == np.float32
    np.testing.assert_allclose(g, adjoint.grad(c.logsumexp_loop, backend="numpy")(x), rtol=1e-5)


def test_dead_restores_leave_no_tape():
    """``s`` is read by the backward sweep only before the loop that rebinds it: no tape."""
    g = adjoint.grad(c.logsumexp_loop, backend="numpy")
    g(rng.normal(size=4))
    assert "s_tape" not in g.source


def short_loop(x, n):
    s = x
    for i in range(n - 3):
        s = np.sin(s) * x
    return s


@pytest.mark.parametrize("n", [1, 3, 6])
def test_counted_loop_with_no_trips(n):
    """``range(n - 3)`` may be empty (or negative): the tape's length is never negative."""
    g = adjoint.grad(short_loop, backend="numba")
    with warnings.catch_warnings():
        warnings.simplefilter("error", adjoint.BackendWarning)
        got = g(0.7, n)
    assert "np.empty(max(" in g.source
    np.testing.assert_allclose(got, numerical_grad(short_loop, (0.7, n), [0])[0], rtol=1e-6)


def test_grad_of_a_jitted_function_differentiates_its_python_source():
    import numba
    jitted = numba.njit(c.logsumexp_loop)
    x = rng.normal(size=5)
    np.testing.assert_allclose(adjoint.grad(jitted)(x), adjoint.grad(c.logsumexp_loop)(x),
                               rtol=1e-12)
    np.testing.assert_allclose(adjoint.grad(jitted, backend="numba")(x),
                               numerical_grad(c.logsumexp_loop, (x,), [0])[0], rtol=1e-6)


OFFSET = 0.25


def scaled(v, k=OFFSET):
    return v * k


def loop_with_default_helper(x):
    s = 0.0
    for i in range(x.shape[0]):
        s = s + scaled(x[i]) * x[i]
    return s


def test_helper_default_naming_a_global_on_numba():
    """The default is a value bound before the module runs, so Numba's import finds it."""
    x = rng.normal(size=4)
    with warnings.catch_warnings():
        warnings.simplefilter("error", adjoint.BackendWarning)
        got = adjoint.grad(loop_with_default_helper, backend="numba")(x)
    np.testing.assert_allclose(got, 2 * OFFSET * x, rtol=1e-12)


def rated(v, *, rate):
    return v * rate


def rate_by_position(x):
    s = 0.0
    for i in range(x.shape[0]):
        if rated(x[i], 2.0) > 0.0:  # Python: TypeError (rate is keyword-only)
            s = s + x[i] ** 2
    return s


def rate_left_out(x):
    s = 0.0
    for i in range(x.shape[0]):
        if rated(x[i]) > 0.0:  # Python: TypeError (rate is required)
            s = s + x[i] ** 2
    return s


@pytest.mark.parametrize("fun", [rate_by_position, rate_left_out])
@pytest.mark.parametrize("backend", ["numpy", "numba"])
def test_keyword_only_rules_kept_on_numba(fun, backend):
    """Numba compiles a keyword-only parameter as a positional one; a call Python refuses
    is still refused, with Python's own TypeError, not computed."""
    x = rng.normal(size=3)
    with pytest.raises(TypeError) as python:
        fun(x)
    with pytest.raises(TypeError) as got:
        adjoint.grad(fun, backend=backend)(x)
    assert str(got.value) == str(python.value)


def spread(v, *more, rate):
    return v * rate + len(more)


def spread_twice(v):
    return spread(v, 1.0, rate=2.0) + spread(v, rate=1.0)  # the user's code calls it, not adjoint's


def star_args_and_keyword_only(x):
    s = 0.0
    for i in range(x.shape[0]):
        if spread_twice(x[i]) > 1.0:
            s = s + x[i] ** 2
    return s


def test_star_args_with_keyword_only_falls_back():
    """Such a function is compiled as written (its keyword-only parameters cannot be made
    positional after ``*args``); Numba refuses the call, and NumPy answers."""
    x = np.array([0.4, -0.6, 0.1])
    with pytest.warns(adjoint.BackendWarning, match="Numba cannot compile"):
        got = adjoint.grad(star_args_and_keyword_only, backend="numba")(x)
    np.testing.assert_allclose(got, numerical_grad(star_args_and_keyword_only, (x,), [0])[0], rtol=1e-6)


def test_refusal_for_new_argument_types_falls_back():
    """Numba compiles per type: a refusal on a later call falls back too, with one warning."""
    from adjoint.backends.numba import Fallback

    def refuses(*args):
        import numba
        raise numba.core.errors.TypingError("no")

    fallback = Fallback(refuses, lambda *a: "numpy", "f")
    with pytest.warns(adjoint.BackendWarning, match="f"):
        assert fallback(1.0) == "numpy"
    assert fallback(1.0) == "numpy"


@pytest.mark.parametrize("error", [
    ValueError("eigvals() argument must not cause a domain change."),
    RuntimeError("no compiled object yet for <Library '_summed'>"),
], ids=["numba_numpy_differs", "cache_race"])
def test_numba_failures_at_run_time_fall_back(error):
    """Numba's NumPy refusing what NumPy does, or its cache failing beside another thread's
    compilation: the NumPy twin answers, once warned; a genuine error is the twin's to raise."""
    pytest.importorskip("numba")
    from adjoint.backends.numba import Fallback

    def fails(*args):
        raise error

    fallback = Fallback(fails, lambda *a: "numpy", "f")
    with pytest.warns(adjoint.BackendWarning, match=re.escape(str(error)[:20])):
        assert fallback(1.0) == "numpy"

    def genuine(*args):
        raise RuntimeError("the user's own")

    with pytest.raises(RuntimeError, match="the user's own"):
        Fallback(fails, genuine, "g")(1.0)


def carried_array(x):
    s = 0.0
    buf = np.zeros(2)
    for i in range(x.shape[0]):
        buf = np.zeros(2)  # read after the loop: its tape holds the array an earlier trip left
        buf[0] = np.sin(x[i] * s + 0.2)
        buf[1] = x[i] * buf[0]
        s = s + buf[0] * buf[1]
    return s + buf[1] * buf[0]


def test_arrays_taped_before_a_binding_keep_their_value():
    x = rng.normal(size=4)
    want = numerical_grad(carried_array, (x,), [0])[0]
    for backend in ("numpy", "numba"):
        with warnings.catch_warnings():
            warnings.simplefilter("error", adjoint.BackendWarning)
            got = adjoint.grad(carried_array, backend=backend)(x)
        np.testing.assert_allclose(got, want, rtol=1e-6, atol=1e-9)


def read_before_bound(x):
    s = 0.0
    for i in range(3):
        s = s + np.sum(y * x[:1])  # unbound on the first trip: Python raises UnboundLocalError
        y = np.sin(x)
    return s


def test_a_read_before_any_binding_raises_on_both_backends():
    """An array taped before its first binding holds an empty array of its rank on Numba only
    where no read can see it; here one can, and ``np.empty((0,)) * x[:1]`` would broadcast."""
    x = rng.normal(size=3)
    with pytest.raises(UnboundLocalError):
        read_before_bound(x)
    for backend in ("numpy", "numba"):
        with warnings.catch_warnings(), pytest.raises(TypeError):
            warnings.simplefilter("ignore", adjoint.BackendWarning)
            adjoint.grad(read_before_bound, backend=backend)(x)


def swap(x, A):
    a, b = np.sin(A) * x[0], x[1] * 2.0
    a, b = b, a  # a tuple of a number and an array
    return np.sum(b * a) + a * a


def test_tuple_adjoints_read_by_item_are_one_name_per_item():
    """A Numba tuple cannot be written and its items may differ in type: the adjoint of one
    the backward sweep reads and adds to by item is a name per item."""
    x, A = np.array([0.3, -0.7]), np.array([[0.2, -0.4, 0.9], [1.3, -0.6, 0.1]])
    g = adjoint.grad(swap, (0, 1), backend="numba")
    with warnings.catch_warnings():
        warnings.simplefilter("error", adjoint.BackendWarning)
        got = g(x, A)
    assert "unpacked2_bar_0 = zeros_like(unpacked2[0])" in g.source and "unpacked2_bar[" not in g.source
    for a, b in zip(got, numerical_grad(swap, (x, A), [0, 1])):
        np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-9)
