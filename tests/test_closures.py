"""Functions as values (issue 11): nested defs, lambdas, closures, nonlocal, function tables,
partial, wraps, numba-jitted helpers, all against finite differences on both backends."""
import copy
import re
import warnings

import numpy as np
import pytest

import adjoint
from adjoint.pytree import tree_ravel
from adjoint.testing import numerical_grad

from . import closure_cases as c

rng = np.random.default_rng(11)
W, X = 0.7, rng.normal(size=3)

CASES = [
    (c.calls_from_a_module_table, (X, "swish"), 0),
    (c.calls_from_a_module_table, (X, "cube"), 0),
    (c.calls_from_a_module_table, (X, "sin"), 0),
    (c.helper_with_an_axis, (np.arange(6.0).reshape(2, 3) / 5, np.array([0.3, -0.2, 0.5])), (0, 1)),
    (c.nested_def_reads_active, (W, X), (0, 1)),
    (c.lambda_late_binding, (W,), 0),
    (c.lambda_inline, (W, X), (0, 1)),
    (c.nested_def_in_loop, (W, X), (0, 1)),
    (c.nested_calls_sibling, (W, X), (0, 1)),
    (c.nested_in_nested, (W, X), (0, 1)),
    (c.recursive_closure, (W, 3), 0),
    (c.mutual_recursion, (W, 5), 0),
    (c.nonlocal_counter, (W, X), (0, 1)),
    (c.nonlocal_active, (W,), 0),
    (c.reserved_names_in_closure, (W, X), (0, 1)),
    (c.closure_in_a_with_block, (W, X), (0, 1)),
    (c.nonlocal_in_expression, (W,), 0),
    (c.default_names_enclosing, (W, X), (0, 1)),
    (c.lambda_default_captures_loop, (W,), 0),
    (c.alias_then_call, (W, X), (0, 1)),
    (c.activation_table, (W, X, "sin"), (0, 1)),
    (c.activation_table, (W, X, "relu"), (0, 1)),
    (c.activation_table_constant_key, (W, X), (0, 1)),
    (c.several_in_expression, (W, X, "tanh"), (0, 1)),
    (c.loop_over_functions, (W, X), (0, 1)),
    (c.layer_list, (W, X), (0, 1)),
    (c.zipped_layers, (W, X), (0, 1)),
    (c.function_argument, (W, X), (0, 1)),
    (c.closure_argument, (W, X), (0, 1)),
    (c.lambda_argument, (W, X), (0, 1)),
    (c.function_local_as_argument, (W, X), (0, 1)),
    (c.constant_function_in_closure, (W, X), (0, 1)),
    (c.partial_of_global, (W, np.abs(X) + 0.1), (0, 1)),
    (c.partial_local, (W, np.abs(X) + 0.1), (0, 1)),
    (c.decorated_helpers, (W, X), (0, 1)),
    (c.counting_loss, (W,), 0),  # nonlocal in the differentiated function itself
    (c.returned_closure, (W, X), (0, 1)),  # functions returned by helpers
    (c.returned_lambda_reads_a_local, (W, X), (0, 1)),
    (c.returned_and_called_at_once, (W, X), (0, 1)),
    (c.returned_called_in_a_loop, (W, X), (0, 1)),
    (c.factory_called_in_a_loop, (W, X), (0, 1)),
    (c.returned_on_branches, (W, X, "tanh"), (0, 1)),
    (c.returned_on_branches, (W, X, "linear"), (0, 1)),
    (c.nested_factory, (W, X), (0, 1)),
    (c.curried, (W, X), (0, 1)),
    (c.composed, (W, X), (0, 1)),
    (c.returned_with_a_default, (W, X), (0, 1)),
    (c.factory_with_helpers, (W, X), (0, 1)),
    (c.closure_called_in_helper_lambda, (W, X), (0, 1)),  # the helper's nested functions pass it on
    (c.active_lambda_into_helper_lambda, (W, X), (0, 1)),
    (c.closure_passed_on_by_helpers, (W, X), (0, 1)),  # on to another helper, a list, a comprehension
]
IDS = [f"{f.__name__}-{k}" for k, (f, _, _) in enumerate(CASES)]
REFUSED = [  # (function, arguments, the line's text, fragment of the message)
    (c.escaping_closure, (W, X), "np.apply_along_axis(f, 0, x)", "passing the nested function 'f'"),
    (c.nonlocal_under_condition, (W, False), "y = w if c else f(w)", "inside a condition"),
    (c.decorated_nested, (W,), "def f(v):", "a decorator on a nested def"),
    (c.partial_read_by_closure, (W, X), "return f(x)", "reading the partial 'p'"),
    (c.passes_writing_closure, (W,), "return apply(f, w) * n", "passing 'f', which rebinds"),
    (c.several_under_condition, (W, X, "tanh"), "y = acts[kind](x) if w > 0 else x",
     "may hold one of several functions, inside a condition"),
    (c.function_parameter, (W, np.tanh), "return act(w)", "calling a function held in a local variable"),
    (c.closure_rebinds_the_function, (W, X), "return np.sum(act(x * w))",
     "calling a function held in a local variable"),
    (c.called_in_shadowing_comprehension, (W, X), "[f(x) for k in range(3)]",
     "whose variable 'k' hides the 'k' it reads"),
    (c.returned_counter, (W, X), "return f", "returning 'f', which rebinds 'calls' (nonlocal)"),
    (c.returned_passed_on, (W, X), "return scale", "passing the nested function 'scale'"),
    (c.returned_mixed, (W, X), "return np.tanh", "returning a function it defines on some paths"),
    (c.returned_bound_twice, (W, X), "f = make_scaler(w)", "to a name bound elsewhere too"),
    (c.several_returned_in_a_loop_test, (W, X), "while np.sum(act(x)) > 10.0:",
     "may be one of several in a loop test"),
    (c.closure_into_a_factory, (W, X), "h = compose(np.tanh, inner)", "passing the nested function 'inner'"),
    (c.returned_maybe, (W, X), "def make_maybe(w, c):", "may end without a return"),
    (c.two_returned_in_one_expression, (W, X), "make_scaler(w)(x) + make_affine(w)(x)",
     "in an expression with another call"),
    (c.closure_writes_an_enclosing_array, (W, X), "return f(x) + f(2.0 * x) + buf[0]",
     "'f' writes into its argument 'buf', which is read afterwards"),
    (c.returned_writes_what_it_captured, (W, X), "return np.sum(f(x) + f(x))", "writes into its argument"),
    (c.helper_writes_a_keyword_argument, (W, X), "y = fill_first(w, out=buf)",
     "'fill_first' writes into its argument 'buf'"),
]


def _grads(got, wrt):
    return got if isinstance(wrt, tuple) else (got,)


def _positions(wrt):
    return list(wrt) if isinstance(wrt, tuple) else [wrt]


@pytest.mark.parametrize("backend", ["numpy", "numba"])
@pytest.mark.parametrize("fun,args,wrt", CASES, ids=IDS)
def test_matches_finite_differences(fun, args, wrt, backend):
    if backend == "numba":
        pytest.importorskip("numba")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", adjoint.BackendWarning)  # falling back is allowed
        got = adjoint.grad(fun, wrt, backend=backend)(*args)
    for g, n in zip(_grads(got, wrt), numerical_grad(fun, args, _positions(wrt))):
        np.testing.assert_allclose(tree_ravel(g)[0], tree_ravel(n)[0], rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("fun,args,wrt", CASES, ids=IDS)
def test_vjp_and_jvp_agree_with_grad(fun, args, wrt):
    value, g = adjoint.value_and_grad(fun, wrt)(*copy.deepcopy(args))
    np.testing.assert_allclose(value, fun(*copy.deepcopy(args)))
    out, pullback = adjoint.vjp(fun, wrt)(*args)
    for a, b in zip(_grads(g, wrt), _grads(pullback(1.0), wrt)):
        np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-12)
    positions = _positions(wrt)
    tangents = tuple(np.ones_like(args[p]) if np.ndim(args[p]) else 1.0 for p in positions)
    _, out_dot = adjoint.jvp(fun, tuple(positions))(args, tangents)
    expected = sum(np.sum(d) for d in _grads(g, wrt))
    np.testing.assert_allclose(out_dot, expected, rtol=1e-8, atol=1e-10)


@pytest.mark.parametrize("fun,args,line,fragment", REFUSED, ids=[f.__name__ for f, *_ in REFUSED])
def test_refused_with_the_users_line(fun, args, line, fragment):
    with pytest.raises(adjoint.UnsupportedSyntaxError) as info:
        adjoint.grad(fun)(*args)
    message = str(info.value)
    assert "closure_cases.py" in message and line in message and fragment in message


def test_lifted_code_reads_like_the_users():
    text = adjoint.source(c.nested_def_reads_active, wrt=(0, 1))
    assert "def f_fwd(v, scale):" in text  # the closure's environment is a parameter
    assert "f_fwd(x, scale=scale)" in text  # passed by the call, read when the call runs
    assert "# closure_cases.py:17: return np.tanh(v * scale)" in text
    assert text == adjoint.source(c.nested_def_reads_active, wrt=(0, 1))


def test_nonlocal_counter_is_returned_to_the_caller():
    text = adjoint.source(c.nonlocal_counter, wrt=0)
    assert re.search(r"calls = (snapshot\()?unpacked1\[1\]", text)  # a copy: += may change an array
    assert adjoint.value_and_grad(c.nonlocal_counter)(W, X)[0] == pytest.approx(c.nonlocal_counter(W, X))


def test_a_returned_closure_is_called_with_what_its_factory_held():
    text = adjoint.source(c.returned_closure, wrt=(0, 1))
    assert "make_scaler_closure_fwd(w)" in text and "scale_fwd(x, w=f_w)" in text
    assert "# closure_cases.py:407: return w * x" in text  # the returned function's own line
    assert "act_which == 0" in adjoint.source(c.returned_on_branches, wrt=0)
    assert text == adjoint.source(c.returned_closure, wrt=(0, 1))


@pytest.mark.parametrize("backend", ["numpy", "numba"])
@pytest.mark.parametrize("cfg", [{"scale": 0.5, "other": 2.0}, {}, {"kind": "l1", "scale": 0.5, "bias": 0.3}])
def test_keywords_known_at_run_time_into_a_rest_parameter(cfg, backend):
    """``f(w, **cfg)`` into ``def f(w, kind="l2", **options)``: ``options`` holds the keys no
    parameter takes, as Python binds it, and the dict's active values get their gradient."""
    if backend == "numba":
        pytest.importorskip("numba")
    wrt = (0, 1) if "kind" not in cfg else 0  # a string in the dict has no gradient
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", adjoint.BackendWarning)  # dicts run on NumPy
        got = adjoint.grad(c.keywords_into_rest, wrt, backend=backend)(X, cfg)
    want = numerical_grad(c.keywords_into_rest, (X, cfg), _positions(wrt))
    np.testing.assert_allclose(tree_ravel(_grads(got, wrt))[0], tree_ravel(tuple(want))[0], rtol=1e-6)
    assert adjoint.value_and_grad(c.keywords_into_rest, 0)(X, cfg)[0] == pytest.approx(c.keywords_into_rest(X, cfg))


def test_keywords_into_a_rest_parameter_raise_what_python_raises():
    for bad in ({"w": 1.0}, {"kind": "l1"}):  # a parameter given twice; a missing key
        with pytest.raises((TypeError, KeyError)) as want:
            c.keywords_into_rest(X, bad)
        with pytest.raises(want.type) as got:
            adjoint.grad(c.keywords_into_rest)(X, bad)
        assert str(got.value).splitlines()[0] == str(want.value)
    with pytest.raises(adjoint.UnsupportedSyntaxError) as info:
        adjoint.grad(c.keywords_and_a_loose_one)(X, {"scale": 0.5})
    message = str(info.value)
    assert "closure_cases.py" in message and "return scaled_penalty(w, extra=1.0, **cfg)" in message
    assert "the keyword 'extra'" in message and "which takes **options" in message


def test_function_table_branches_on_the_function_held():
    text = adjoint.source(c.activation_table, wrt=0)
    assert "is np.tanh" in text and "is relu" in text


def test_jitted_helpers_are_differentiated_through_their_python_source():
    pytest.importorskip("numba")
    from . import jit_cases as j
    with warnings.catch_warnings():
        warnings.simplefilter("error", adjoint.BackendWarning)  # the compiled helper is called as is
        for backend in ("numpy", "numba"):
            got = adjoint.grad(j.calls_jitted, (0, 1), backend=backend)(W, X)
            for g, n in zip(got, numerical_grad(j.calls_jitted, (W, X), [0, 1])):
                np.testing.assert_allclose(g, n, rtol=1e-6, atol=1e-8)
            got = adjoint.grad(j.calls_jitted_inactive, backend=backend)(W, 4)
            np.testing.assert_allclose(got, numerical_grad(j.calls_jitted_inactive, (W, 4), [0])[0],
                                       rtol=1e-6)
    assert "k = jit_count(n)" in adjoint.source(j.calls_jitted_inactive, ranks=(0, 0), backend="numba")


def test_second_derivatives_through_lifted_functions():
    grad_x = adjoint.grad(c.nested_def_reads_active, wrt=1)
    H = adjoint.hessian(c.nested_def_reads_active, wrt=1)(W, X)
    eps = 1e-6
    fd = np.array([(grad_x(W, X + eps * e) - grad_x(W, X - eps * e)) / (2 * eps) for e in np.eye(3)])
    np.testing.assert_allclose(H, fd, rtol=1e-5, atol=1e-7)
    assert adjoint.hessian(c.nonlocal_active)(W) == pytest.approx(2 * (1 + 2 * W) ** 2 + 4 * (W + W * W))
    grad_w = adjoint.grad(c.activation_table)
    hv = adjoint.hvp(c.activation_table, wrt=0)(W, X, "sin", 1.0)
    assert hv == pytest.approx((grad_w(W + eps, X, "sin") - grad_w(W - eps, X, "sin")) / (2 * eps), rel=1e-5)


def test_a_lambda_made_in_a_comprehension_reads_its_variable():
    """Lowered before the comprehension is: the call passes the comprehension's own variable."""
    import ast

    import gast

    from adjoint.frontend import parse_function
    from adjoint.passes import closures
    parsed = parse_function(c.lambda_in_comprehension)
    closures.lower(parsed)
    text = ast.unparse(gast.gast_to_ast(parsed.node))
    assert "(x, k=k, w=w) for k in range(3)]" in text


def test_a_lambda_in_a_dict_display():
    """A lambda whose source line is an item of a dict is read from its file."""
    np.testing.assert_allclose(adjoint.grad(c.TABLE["cube"])(0.7), 3 * 0.7 ** 2)
    np.testing.assert_allclose(adjoint.grad(c.TABLE["swish"])(0.0), 0.5)
