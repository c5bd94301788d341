"""What goes on the tape: elements of unchanging parameters at indices computed from loop
counters are read again, not taped, and so is arithmetic of them; a parameter the function
writes (itself or through an alias) or binds again, or an index that changes otherwise, keeps
its tape. Each case against central differences on both backends."""
import re
import warnings

import numpy as np
import pytest

import adjoint
from adjoint.testing import numerical_grad

rng = np.random.default_rng(11)


def read_only(X, w):
    s = 0.0
    for i in range(X.shape[0]):
        for j in range(X.shape[1]):
            s = s + np.sin(X[i, j] * w[j] * s + 0.1)
    return s


def written(X, w):
    s = 0.0
    for i in range(3):
        for j in range(2):
            X[i, j] = X[i, j] * 2.0  # a parameter written: its elements are taped
            t = X[i, j]
            s = s + np.sin(t * w[j] * s + 0.1)
    return s + np.sum(X * w[0])


def rebound(X, w):
    s = 0.0
    for i in range(3):
        t = X[i, 0]
        X = X * 1.5
        s = s + np.sin(t * w[0] * s + 0.2)
    return s


def other_index(X, w):
    s = 0.0
    for i in range(3):
        k = (i + 1) % 3
        t = X[k, 1]
        s = s + np.sin(t * w[1] * s + 0.3)
    return s


def aliased(X, w):
    s = 0.0
    for i in range(3):
        t = X[i, 0]
        s = s + np.sin(t * w[0] * s + 0.2)
    Y = X
    Y[1, 0] = 0.0  # X written through an alias after the loop: its elements are taped
    return s + np.sum(Y)


def carried_index(X, w):
    s = 0.0
    k = 0
    for i in range(3):
        k = (k + 2) % 3  # carried from trip to trip, not computed from the counter
        t = X[k, 1]
        s = s + np.sin(t * w[1] * s + 0.3)
    return s


# (function, the element its backward sweep reads again, or None: it keeps its tape)
CASES = [(read_only, "X[i, j]"), (written, None), (rebound, None), (other_index, "X[k, 1]"),
         (aliased, None), (carried_index, None)]


def _backends():
    try:
        import numba  # noqa: F401
    except ImportError:
        return ["numpy"]
    return ["numpy", "numba"]


def _grad_checked(fun, args, wrt, backend):
    g = adjoint.grad(fun, wrt, backend=backend)
    with warnings.catch_warnings():
        warnings.simplefilter("error" if backend == "numba" else "ignore", adjoint.BackendWarning)
        got = g(*[a.copy() if isinstance(a, np.ndarray) else a for a in args])
    want = numerical_grad(lambda *a: fun(*[v.copy() if isinstance(v, np.ndarray) else v for v in a]),
                          args, list(wrt))
    for a, b in zip(got, want):
        np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-9)
    return g


@pytest.mark.parametrize("backend", _backends())
@pytest.mark.parametrize("fun,element", CASES, ids=[f.__name__ for f, _ in CASES])
def test_elements_of_unchanging_parameters_are_read_again(fun, element, backend):
    X, w = rng.normal(size=(3, 2)), rng.normal(size=2)
    g = _grad_checked(fun, (X, w), (0, 1), backend)
    backward = g.source.split("_bar = ", 1)[1]
    if element:
        assert element in backward and not re.search(r"\b(X|t5|t)_tape\b", g.source)
    else:
        assert re.search(r"\bt_tape\b", g.source)


def gathered(x, w, index):
    """``index[i, j] + 1`` read only as an index is an int, though ``index`` may hold any
    numbers as far as the compiler knows: a float would raise where it indexes."""
    s = 0.0
    for i in range(index.shape[0]):
        for j in range(index.shape[1]):
            v = x[index[i, j] + 1] * w[i]
            s = s + np.tanh(v * s + 0.1)
    return s


@pytest.mark.parametrize("backend", _backends())
def test_integer_elements_used_as_indices_are_read_again(backend):
    x, w = rng.normal(size=5), rng.normal(size=2)
    index = np.array([[0, 3, 1], [2, 2, 0]])
    g = _grad_checked(gathered, (x, w, index), (0, 1), backend)
    backward = g.source.split("_bar = ", 1)[1]
    assert "index[i, j]" in backward and "add_at" not in g.source  # one element: in place
    assert "x[index1]" in backward and "index1_tape" not in g.source


def accumulated(x, w):
    """``v`` is first bound inside the loop and then added to: the old values of the addition
    are read by no adjoint (it passes through), so only the first binding's are taped."""
    s = 0.0
    for i in range(x.shape[0]):
        v = x[i] * w[0]
        for j in range(w.shape[0]):
            v += np.sin(w[j] * x[i])
        s = s + v * v
    return s


@pytest.mark.parametrize("backend", _backends())
def test_overwritten_values_nobody_reads_are_not_taped(backend):
    x, w = rng.normal(size=4), rng.normal(size=3)
    g = _grad_checked(accumulated, (x, w), (0, 1), backend)
    assert "v_1_tape" not in g.source  # the tape of ``v += ...``'s old values
    if backend == "numba":
        assert "v = None" not in g.source and "_tape = []" not in g.source


def pairs(x):
    s = 0.3
    for i in range(x.shape[0]):
        if x[i] > 0:
            p = (x[i] * s, np.cos(x[i]))
        else:
            p = (s, x[i] + 1.0)
        s = s + p[0] * p[1]
    return s


@pytest.mark.parametrize("backend", _backends())
def test_names_taped_before_their_first_binding_start_typed(backend):
    """``p``'s old value is taped before the loop first binds it: on Numba it starts as a
    tuple of numbers like its bindings (Numba types no optional tuple), never None."""
    x = np.array([0.5, -0.3, 0.8, -1.1])
    g = adjoint.grad(pairs, backend=backend)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", adjoint.BackendWarning)  # no Numba zeros_like of tuples yet
        got = g(x)
    np.testing.assert_allclose(got, numerical_grad(pairs, (x,), [0])[0], rtol=1e-6, atol=1e-9)
    assert ("p = (0.0, 0.0)" in g.source) == (backend == "numba")


def precomputed(w, X):
    """``q`` is made and filled before the loop that reads it, element by element, and
    nothing writes it afterwards: the backward sweep reads ``q[k]`` again (the GMM's
    ``qdiag``, laid out as the published suites do)."""
    q = np.zeros(3)
    for k in range(3):
        q[k] = np.exp(w[k])
    s = 0.0
    for i in range(X.shape[0]):
        for k in range(3):
            s = s + np.sin(q[k] * X[i, k] * s + 0.1)
    return s


def written_after(w, X):
    """``q[0]`` is written again after the loop reads it: the reads keep their tape."""
    q = np.zeros(3)
    for k in range(3):
        q[k] = np.exp(w[k])
    s = 0.0
    for i in range(X.shape[0]):
        for k in range(3):
            s = s + np.sin(q[k] * X[i, k] * s + 0.1)
    q[0] = q[0] * w[1]
    return s + q[0]


def written_in_the_loop(w, X):
    """``q[k]`` is written in the loop that reads it: the reads keep their tape."""
    q = np.zeros(3)
    for k in range(3):
        q[k] = np.exp(w[k])
    s = 0.0
    for i in range(X.shape[0]):
        for k in range(3):
            s = s + np.sin(q[k] * X[i, k] * s + 0.1)
            q[k] = q[k] * 0.9 + s
    return s


def viewed(w, X):
    """``q`` is also read whole (``v = q``, then written through ``v``): its memory has two
    names, so the reads keep their tape."""
    q = np.zeros(3)
    for k in range(3):
        q[k] = np.exp(w[k])
    s = 0.0
    for i in range(X.shape[0]):
        for k in range(3):
            s = s + np.sin(q[k] * X[i, k] * s + 0.1)
    v = q
    v[1] = w[2] * 2.0
    return s + v[1]


SETTLED = [(precomputed, True), (written_after, False), (written_in_the_loop, False), (viewed, False)]


@pytest.mark.parametrize("backend", _backends())
@pytest.mark.parametrize("fun,settled", SETTLED, ids=[f.__name__ for f, _ in SETTLED])
def test_elements_of_an_array_no_later_statement_writes_are_read_again(fun, settled, backend):
    w, X = rng.normal(size=3), rng.normal(size=(4, 3))
    g = _grad_checked(fun, (w, X), (0, 1), backend)
    backward = g.source.split("_bar = ", 1)[1]
    assert (" = q[k]\n" in backward) is settled  # else: read from its tape


def stepped_in_a_branch(x):
    """The loop's range is evaluated in the branch: room on its tapes is made there too."""
    s = 0.0
    if x[0] < 0.5:
        for i in range(4 - 1, -1, -2):
            s = s + np.sin(x[i] * s + 0.1)
    return s + x[0]


@pytest.mark.parametrize("backend", _backends())
@pytest.mark.parametrize("first", [-2.0, 2.0])
def test_a_counted_loop_in_a_branch_makes_room_where_it_runs(first, backend):
    x = np.array([first, 0.4, 1.5, -0.3])
    g = _grad_checked(stepped_in_a_branch, (x,), (0,), backend)
    if backend == "numba":
        assert "s_tape = []" not in g.source


def calls_precomputed(w, X):
    return 2.0 * precomputed(w, X) + np.sum(w * w)


@pytest.mark.parametrize("backend", _backends())
def test_a_helper_reads_its_settled_array_again(backend):
    """The helper's backward sweep runs apart from its forward sweep: the array it reads again
    is among what the forward sweep hands over."""
    w, X = rng.normal(size=3), rng.normal(size=(4, 3))
    g = _grad_checked(calls_precomputed, (w, X), (0, 1), backend)
    assert " = q[k]\n" in g.source.split("def precomputed_bwd", 1)[1]


def per_trip(w, X):
    """``q`` is made and filled on each trip, then read by elements later in the same trip: the
    backward sweep restores the trip's ``q`` at the top of its reversed block and reads
    ``q[k]`` again (the GMM's ``terms`` in the max's loop)."""
    s = 0.0
    for i in range(X.shape[0]):
        q = np.zeros(3)
        for k in range(3):
            q[k] = np.sin(X[i, k] * w[k])
        for k in range(3):
            s = s + np.exp(q[k] * s * 0.1)
    return s


def per_trip_written_after(w, X):
    s = 0.0
    for i in range(X.shape[0]):
        q = np.zeros(3)
        for k in range(3):
            q[k] = np.sin(X[i, k] * w[k])
        for k in range(3):
            s = s + np.sin(q[k] * s + 0.1)
        q[1] = np.tanh(s) * w[0]
        s = s + q[1] * q[1]
    return s


def written_three_ways(x, A):
    y = np.zeros(3)
    y[-1] = x[0]  # an element: numbers
    for i in range(3):
        y[y > 0.5] = np.dot(x, x) * 0.1 * (i + 1.0)  # a mask: 1-D arrays
        y[:2] = y[:2] + A[0, :2] * x[1]  # a slice
    return np.sum(np.tanh(y) * x)


@pytest.mark.parametrize("backend", _backends())
def test_each_in_place_write_tapes_its_items_apart(backend):
    """The items each in-place write overwrites go on a tape of that write's own (numbers for
    an element, arrays for a mask or a slice), which Numba types alone (the element's tape is
    dropped there: nothing reads what it restores)."""
    if backend == "numba":
        pytest.importorskip("scipy", reason="Numba's linear algebra (np.dot) needs SciPy")
    x, A = np.array([0.9, -0.8, 0.6]), np.array([[0.2, -0.4, 0.9], [1.3, -0.6, 0.1]])
    g = _grad_checked(written_three_ways, (x, A), (0, 1), backend)
    assert {"y_1_tape_items", "y_2_tape_items"} <= set(re.findall(r"\w+_tape_items", g.source))


def counted_then_iterated(x, A):
    s = 0.0
    if x[0] > -10.0:
        for row in range(2):  # an int, read in this loop only
            s = s + x[row]
    for k, row in enumerate(A):  # an array
        s = s + np.sum(np.tanh(row * s)) * x[k]
    return s


@pytest.mark.parametrize("backend", _backends())
@pytest.mark.parametrize("fun,settled", [(per_trip, True), (per_trip_written_after, False)])
def test_elements_of_a_trips_array_are_read_again_after_its_last_write(fun, settled, backend):
    w, X = rng.normal(size=3), rng.normal(size=(4, 3))
    g = _grad_checked(fun, (w, X), (0, 1), backend)
    assert (" = q[k]\n" in g.source.split("_bar = ", 1)[1]) is settled


@pytest.mark.parametrize("backend", _backends())
def test_loop_targets_bound_elsewhere_are_renamed_apart(backend):
    """``row`` counts in one loop and is an array in another: the counting loop, whose values
    nothing after it reads, iterates a name of its own, so ``row``'s arrays are a loop local
    (no tape of ints and arrays, no placeholder None)."""
    x, A = np.array([0.3, -0.7, 1.1]), np.array([[0.2, -0.4, 0.9], [1.3, -0.6, 0.1]])
    g = _grad_checked(counted_then_iterated, (x, A), (0, 1), backend)
    assert "for row_1 in range(2):" in g.source and "row = None" not in g.source
