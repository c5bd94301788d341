"""try/except, with, match, :=, global, del and the statements kept as they are (assert, raise,
print, logging, f-strings, isinstance checks), against finite differences on both backends;
and each refusal of ``passes/statements.py`` naming the user's line."""
import copy
import inspect
import warnings

import numpy as np
import pytest

import adjoint
from adjoint.pytree import tree_ravel
from adjoint.testing import numerical_grad

from . import statement_cases as c

rng = np.random.default_rng(11)
SPD = np.array([[2.0, 0.5], [0.5, 1.0]])
INDEFINITE = np.array([[1.0, 2.0], [2.0, 1.0]])
B = np.array([1.0, 2.0])


def normal(*shape):
    return rng.normal(size=shape)


def positive(*shape):
    return rng.uniform(0.5, 2.0, size=shape)


CASES = [  # (function, arguments, wrt)
    (c.try_cholesky, (SPD, B), (0, 1)),
    (c.try_cholesky, (INDEFINITE, B), (0, 1)),
    (c.try_penalty, (SPD, B), (0, 1)),
    (c.try_penalty, (INDEFINITE, B), (0, 1)),
    (c.try_return, (normal(3), 0), 0),
    (c.try_return, (normal(3), 1), 0),
    (c.try_handlers, (normal(3), 0), 0),
    (c.try_handlers, (normal(3), 1), 0),
    (c.try_handlers, (normal(3), 2), 0),
    (c.try_halfway, (normal(3), 0), 0),
    (c.try_halfway, (normal(3), 1), 0),
    (c.try_in_branch, (normal(3), 0.0), 0),
    (c.try_in_branch, (normal(3), 1.0), 0),
    (c.try_in_branch, (normal(3), -1.0), 0),
    (c.try_finally, (normal(3),), 0),
    (c.try_key, ({"w": normal(3)}, normal(3)), (0, 1)),
    (c.try_key, ({"v": normal(3)}, normal(3)), (0, 1)),
    (c.with_errstate, (positive(3),), 0),
    (c.with_warnings, (positive(3),), 0),
    (c.with_user_manager, (normal(3),), 0),
    (c.with_return, (normal(3),), 0),
    (c.with_two, (normal(3),), 0),
    (c.with_return_raises, (positive(3),), 0),
    (c.with_return_raises, (np.array([1000.0, 1.5]),), 0),
    (c.match_string, (normal(3), "square"), 0),
    (c.match_string, (normal(3), "third"), 0),
    (c.match_string, (normal(3), "other"), 0),
    (c.match_sequence, ((normal(3), normal(3)), normal(3)), (0, 1)),
    (c.match_sequence, ([normal(3)], normal(3)), (0, 1)),
    (c.match_sequence, (normal(3), normal(3)), (0, 1)),
    (c.match_guard, (normal(3), 4), 0),
    (c.match_guard, (normal(3), 1), 0),
    (c.match_guard, (normal(3), 2), 0),
    (c.match_mapping, ({"w": normal(3), "b": normal(3)}, normal(3)), (0, 1)),
    (c.match_mapping, ({"w": normal(3)}, normal(3)), (0, 1)),
    (c.match_class, (normal(3), None), 0),
    (c.match_class, (normal(3), 0.7), (0, 1)),
    (c.match_class, (normal(3), normal(2)), (0, 1)),
    (c.calls_pair_product, (normal(3),), 0),
    (c.walrus_if, (normal(3),), 0),
    (c.walrus_while, (normal(3),), 0),
    (c.global_read, (normal(3),), 0),
    (c.del_local, (normal(3),), 0),
    (c.checks, (normal(3), 0.5), (0, 1)),
    (c.checks, (normal(3), 2), 0),
    (c.checks, (normal(3), "none"), 0),
    (c.messages, (normal(3),), 0),
]
IDS = [f"{f.__name__}-{k}" for k, (f, _, _) in enumerate(CASES)]
BACKENDS = ["numpy", "numba"]


def _positions(wrt):
    return list(wrt) if isinstance(wrt, tuple) else [wrt]


def _flat(tree):
    return tree_ravel(tree)[0]


def _same(a, b):
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(_same(a[k], b[k]) for k in a)
    if isinstance(a, (tuple, list)):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b))
    return np.array_equal(a, b) if isinstance(a, np.ndarray) else a == b


def _check(got, want):
    for g, n in zip(got, want):
        np.testing.assert_allclose(_flat(g), _flat(n), rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("fun,args,wrt", CASES, ids=IDS)
def test_grad_matches_finite_differences(fun, args, wrt, backend):
    if backend == "numba":
        pytest.importorskip("numba")
    before = copy.deepcopy(args)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", adjoint.BackendWarning)
        got = adjoint.grad(fun, wrt, backend=backend)(*args)
    got = got if isinstance(wrt, tuple) else (got,)
    _check(got, numerical_grad(fun, args, _positions(wrt)))
    assert all(_same(a, b) for a, b in zip(args, before))  # the caller's values never change


@pytest.mark.parametrize("fun,args,wrt", CASES, ids=IDS)
def test_vjp_twice_and_jvp(fun, args, wrt):
    want = numerical_grad(fun, args, _positions(wrt))
    out, pullback = adjoint.vjp(fun, wrt)(*args)
    assert np.allclose(out, fun(*args))
    for _ in range(2):  # a pullback runs again
        got = pullback(1.0)
        _check(got if isinstance(wrt, tuple) else (got,), want)
    position = _positions(wrt)[0]
    tangent = adjoint.pytree.tree_map(np.ones_like, args[position])
    _, out_dot = adjoint.jvp(fun, wrt=position)(args, (tangent,))
    np.testing.assert_allclose(out_dot, np.sum(_flat(want[0])), rtol=1e-5, atol=1e-6)


def test_second_order_through_try_and_match():
    x = normal(3)
    for fun, args in [(c.try_handlers, (x, 1)), (c.match_string, (x, "cube"))]:
        v = np.ones(3)
        got = adjoint.hvp(fun, 0)(*args, v)
        eps = 1e-5
        grad = adjoint.grad(fun)
        want = (grad(x + eps * v, *args[1:]) - grad(x - eps * v, *args[1:])) / (2 * eps)
        np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6)


def test_side_effects_run_once_per_call_in_the_forward_sweep(capsys):
    adjoint.grad(c.try_handlers)(normal(3), 1)
    assert capsys.readouterr().out.splitlines() == ["fallback: one", "done"]
    before = c.Recorder.entered
    adjoint.grad(c.with_user_manager)(normal(3))
    assert c.Recorder.entered == before + 1
    adjoint.grad(c.messages)(np.array([1.0, 2.0]))
    assert capsys.readouterr().out == "loss=5.000\n"  # an active value prints its value


def test_generated_code_has_the_users_try_and_with_in_the_forward_sweep():
    source = adjoint.source(c.try_cholesky, wrt=(0, 1))
    forward, backward = source.split("out1 = np.sum(", 1)
    assert "except np.linalg.LinAlgError:" in forward
    assert "try:" not in [line.strip() for line in backward.splitlines()]
    assert "# statement_cases.py:" in forward
    source = adjoint.source(c.with_errstate)
    forward, backward = source.split("np.sum(", 1)
    assert "with np.errstate(divide='ignore', invalid='ignore'):" in forward
    assert "with " not in backward  # the backward sweep runs under the caller's settings
    assert "Unsuppressed(" in adjoint.source(c.with_user_manager)


def test_generated_source_is_deterministic():
    first = adjoint.source(c.try_handlers, ranks=(1, 0))
    assert adjoint.source(c.try_handlers, ranks=(1, 0)) == first


def test_a_manager_that_swallows_an_exception_is_an_error():
    with pytest.raises(adjoint.AdjointError, match="suppressed ValueError"):
        adjoint.grad(c.with_swallowed)(normal(3))


REFUSED = [  # (function, argument, fragment of the message)
    (c.refused_try_in_loop, normal(3), "in the finally of a try in a loop"),
    (c.refused_compound_try, normal(3), "this statement inside a try body"),
    (c.refused_append_in_try, normal(3), "calling a method of a local value inside a try body"),
    (c.refused_item_in_try, normal(3), "writing into an item or an attribute inside a try body"),
    (c.refused_augmented_in_try, normal(3), "an augmented assignment inside a try body"),
    (c.refused_suppress, normal(3), "contextlib.suppress"),
    (c.refused_return_in_with, normal(3), "inside a with-block"),
    (c.refused_star_capture, [normal(3), normal(3)], "a named *rest"),
    (c.refused_or_capture, [normal(3)], "a capture inside an or-pattern"),
    (c.refused_conditional_walrus, normal(3), "where it may not run"),
    (c.refused_walrus_reread, normal(3), "reading a name in the expression that binds it"),
    (c.refused_global_write, normal(3), "assigning the global 'SCALE'"),
    (c.refused_del_item, {"w": 1.0, "b": 2.0}, "del of an item"),
    (c.refused_generator, normal(3), "yield (a generator)"),
]


def _marked_line(fun):
    lines, first = inspect.getsourcelines(fun)
    return first + next(k for k, text in enumerate(lines) if "# refused here" in text)


@pytest.mark.parametrize("fun,arg,fragment", REFUSED, ids=[f.__name__ for f, _, _ in REFUSED])
def test_refused_at_the_users_line(fun, arg, fragment):
    with pytest.raises(adjoint.UnsupportedSyntaxError) as info:
        adjoint.grad(fun)(arg)
    assert info.value.lineno == _marked_line(fun)
    assert fragment in str(info.value) and "statement_cases.py" in str(info.value)
