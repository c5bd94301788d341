"""Issue 11's remaining constructs against finite differences or closed forms, on both backends:
nonlocal in the differentiated function, **kwargs passed on, methods of objects reached through
attributes, try/except inside loops; and their refusals at the user's line."""
import re
import warnings

import numpy as np
import pytest

import adjoint
from adjoint.testing import numerical_grad

from . import more_cases as c

rng = np.random.default_rng(111)
BACKENDS = ["numpy", "numba"]


def _backend(backend):
    if backend == "numba":
        pytest.importorskip("numba")


def _cell(fn, ident):
    return fn.__closure__[fn.__code__.co_freevars.index(ident)]


# -- nonlocal in the differentiated function itself -------------------------------------------
@pytest.mark.parametrize("backend", BACKENDS)
def test_nonlocal_counter_advances_once_per_call(backend):
    _backend(backend)
    cell, x = _cell(c.scaled_counter, "calls"), rng.normal(size=3)
    cell.cell_contents = 0
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", adjoint.BackendWarning)  # falling back is allowed
        g = adjoint.grad(c.scaled_counter, backend=backend)(x)
    assert cell.cell_contents == 1
    np.testing.assert_allclose(g, 2 * 1 * x)  # the derivative of the call that saw calls == 1
    value, g = adjoint.value_and_grad(c.scaled_counter, backend=backend)(x)
    assert cell.cell_contents == 2 and value == pytest.approx(2 * np.sum(x ** 2))
    np.testing.assert_allclose(g, 2 * 2 * x)


def test_nonlocal_counter_under_vjp_jvp_and_hvp():
    cell, x = _cell(c.scaled_counter, "calls"), rng.normal(size=3)
    cell.cell_contents = 0
    out, pullback = adjoint.vjp(c.scaled_counter)(x)
    first, second = pullback(1.0), pullback(1.0)  # the second reruns the forward sweep
    assert cell.cell_contents == 1 and out == pytest.approx(np.sum(x ** 2))
    np.testing.assert_allclose(first, 2 * x)
    np.testing.assert_allclose(second, 2 * x)
    _, tangent = adjoint.jvp(c.scaled_counter)((x,), (np.ones(3),))
    assert cell.cell_contents == 2 and tangent == pytest.approx(2 * 2 * np.sum(x))
    np.testing.assert_allclose(adjoint.hvp(c.scaled_counter)(x, np.ones(3)), 2 * 3 * np.ones(3))
    assert cell.cell_contents == 3


@pytest.mark.parametrize("backend", BACKENDS)
def test_nonlocal_written_in_a_loop(backend):
    _backend(backend)
    cell, x = _cell(c.loop_counter, "steps"), rng.normal(size=3)
    cell.cell_contents = 0
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", adjoint.BackendWarning)
        g = adjoint.grad(c.loop_counter, backend=backend)(x)
    assert cell.cell_contents == 3
    np.testing.assert_allclose(g, numerical_grad(c.loop_counter, (x,), [0])[0], rtol=1e-6)


@pytest.mark.parametrize("fun,error,line,fragment", [
    (c.active_write, adjoint.NotDifferentiableError, "last = np.sum(x)", "the nonlocal 'last'"),
    (c.shared_cell, adjoint.UnsupportedSyntaxError, "bump()", "shares the nonlocal 'calls'"),
    (c.deleting, adjoint.UnsupportedSyntaxError, "del seen", "rebinding the nonlocal 'seen'"),
])
def test_nonlocal_refusals_name_the_line(fun, error, line, fragment):
    with pytest.raises(error) as info:
        adjoint.grad(fun)(rng.normal(size=3))
    message = str(info.value)
    assert "more_cases.py" in message and line in message and fragment in message


# -- **kwargs passed on ---------------------------------------------------------------------
X3 = rng.normal(size=(4, 3))
KWARGS_CASES = [  # (function, positional arguments, keyword arguments, wrt)
    (c.kwargs_loss, (rng.normal(size=3), X3), {}, 0),
    (c.kwargs_loss, (rng.normal(size=3), X3), {"kind": "l1", "strength": 0.3}, 0),
    (c.kwargs_loss, (rng.normal(size=3), X3), {"strength": 0.3}, ("w", "strength")),
    (c.kwargs_chain, (rng.normal(size=3),), {}, 0),
    (c.local_dict, (rng.normal(size=3), 1.3), {}, (0, 1)),
    (c.local_dict, (rng.normal(size=3), 0.6), {}, (0, 1)),
    (c.array_default, (rng.normal(size=3),), {"scale": 0.7}, 0),
    (c.array_default, (rng.normal(size=3),), {"scale": 0.7, "shift": np.ones(3)}, (0, "shift")),
]


def _numerical(fun, args, kwargs, wrt):
    names = list(fun.__code__.co_varnames[:fun.__code__.co_argcount])
    out = []
    for w in (wrt if isinstance(wrt, tuple) else (wrt,)):
        if isinstance(w, str) and w not in names:  # an item of **kwargs
            out += numerical_grad(lambda v: fun(*args, **{**kwargs, w: v}), (kwargs[w],), [0])
        else:
            k = names.index(w) if isinstance(w, str) else w
            out += numerical_grad(lambda v: fun(*args[:k], v, *args[k + 1:], **kwargs), (args[k],), [0])
    return out


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("fun,args,kwargs,wrt", KWARGS_CASES,
                         ids=[f"{f.__name__}-{k}" for k, (f, *_) in enumerate(KWARGS_CASES)])
def test_kwargs_passed_on(fun, args, kwargs, wrt, backend):
    _backend(backend)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", adjoint.BackendWarning)
        got = adjoint.grad(fun, wrt, backend=backend)(*args, **kwargs)
    got = got if isinstance(wrt, tuple) else (got,)
    for g, n in zip(got, _numerical(fun, args, kwargs, wrt)):
        np.testing.assert_allclose(g, n, rtol=1e-6, atol=1e-8)
    if backend == "numpy":
        _, pullback = adjoint.vjp(fun, wrt)(*args, **kwargs)
        for g, p in zip(got, pullback(1.0) if isinstance(wrt, tuple) else (pullback(1.0),)):
            np.testing.assert_allclose(g, p)


def test_kwargs_bound_as_python_binds_them():
    w = rng.normal(size=3)
    for fun, args, bad in ((c.kwargs_loss, (w, X3), {"kindd": "l1"}), (c.named_twice, (w,), {"kind": "l2"}),
                           (c.kwargs_loss, (w, X3), {"strength": 1.0, "kind": "l1", "x": 0})):
        with pytest.raises(TypeError) as want:
            fun(*args, **bad)
        with pytest.raises(TypeError) as got:
            adjoint.grad(fun)(*args, **bad)
        first = str(got.value).splitlines()[0]  # Python 3.10 appends adjoint's note to the text
        python = str(want.value).split(". Did you mean")[0]  # 3.13 suggests a name; adjoint does not
        assert first.split("() ")[-1] == python.split("() ")[-1]
    with pytest.raises(TypeError, match="missing required argument 'scale'"):
        adjoint.grad(c.array_default)(w)
    text = adjoint.source(c.kwargs_loss, wrt=0)
    assert "check_keywords(keywords, 'penalty', ('kind', 'strength'), (), ('w',), ())" in text


def test_kwargs_into_kwargs_bound_as_python_binds_them():
    w = rng.normal(size=3)
    np.testing.assert_allclose(adjoint.grad(c.passes_to_more)(w, a=1, b=2), 2 * np.ones(3))


# -- methods of objects reached through attributes -------------------------------------------
def _autoencoder():
    return c.AutoEncoder(rng.normal(size=(2, 3)), rng.normal(size=(3, 2)))


def _net():
    return c.Net(c.Layer(rng.normal(size=(2, 3)), rng.normal(size=2)),
                 c.Layer(rng.normal(size=(2, 2)), rng.normal(size=2)))


def _flat(tree):
    return adjoint.tree_ravel(tree)[0]


@pytest.mark.parametrize("backend", BACKENDS)
def test_bound_method_calls_methods_of_its_attributes(backend):
    _backend(backend)
    model, x = _autoencoder(), rng.normal(size=3)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", adjoint.BackendWarning)  # objects run on NumPy
        got = adjoint.grad(model.loss, backend=backend)(x)
    np.testing.assert_allclose(got, numerical_grad(model.loss, (x,), [0])[0], rtol=1e-6, atol=1e-9)
    text = adjoint.source(model.loss)
    assert "forward_fwd(self.encoder, x)" in text and "Decoder.forward" in text


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("fun,make,wrt", [
    (c.uses_model, _autoencoder, 1), (c.encode, _autoencoder, 1), (c.encode_twice, _autoencoder, 1),
    (c.net_loss, _net, (0, 1)),  # records: the layers' gradients come back as Layer objects
], ids=["uses_model", "encode", "encode_twice", "net_loss"])
def test_methods_of_attributes_against_finite_differences(fun, make, wrt, backend):
    _against_finite_differences(fun, (make(), rng.normal(size=3)), wrt, backend)


def _against_finite_differences(fun, args, wrt, backend):
    """grad on ``backend`` against central differences; on NumPy also two pullbacks and jvp
    (a ones tangent) against the same numbers."""
    _backend(backend)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", adjoint.BackendWarning)  # Numba may not compile it
        got = adjoint.grad(fun, wrt, backend=backend)(*args)
    positions = list(wrt) if isinstance(wrt, tuple) else [wrt]
    want = tuple(numerical_grad(fun, args, positions))
    np.testing.assert_allclose(_flat(got if isinstance(wrt, tuple) else (got,)), _flat(want),
                               rtol=1e-6, atol=1e-9)
    if backend == "numpy":
        _, pullback = adjoint.vjp(fun, wrt)(*args)
        for _ in range(2):
            np.testing.assert_allclose(_flat(pullback(1.0)), _flat(got))
        tangent = tuple(adjoint.tree_map(np.ones_like, args[p]) for p in positions)
        _, out_dot = adjoint.jvp(fun, tuple(positions))(args, tangent)
        assert out_dot == pytest.approx(float(np.sum(_flat(want))), rel=1e-6)


def test_an_attribute_holding_another_class_gets_its_own_code():
    model, x = _autoencoder(), rng.normal(size=3)
    g = adjoint.grad(c.encode, wrt=1)
    np.testing.assert_allclose(g(model, x), numerical_grad(c.encode, (model, x), [1])[0], rtol=1e-6)
    model.encoder = c.Other(rng.normal(size=(2, 3)))  # same classes of arguments, another layout
    np.testing.assert_allclose(g(model, x), numerical_grad(c.encode, (model, x), [1])[0], rtol=1e-6)
    assert "Other.forward" in g.source


def test_a_method_of_an_unknown_object_is_refused_at_its_line():
    with pytest.raises(adjoint.NotDifferentiableError) as info:  # MODEL is a global: no layout
        adjoint.grad(c.global_model)(rng.normal(size=3))
    message = str(info.value)
    assert "more_cases.py" in message and "self.post.apply" in message and "'.apply'" in message


# -- try/except inside a loop ----------------------------------------------------------------
SIGNS = np.array([0.5, -0.3, 1.2, -0.7, 2.0])
TRY_CASES = [  # some trips raise and are caught, the others do not
    (c.logs_or_linear, (SIGNS,), 0),
    (c.keeps_last_good, (SIGNS,), 0),  # except ... as, else, finally; v kept from the trip before
    (c.jittered_cholesky, (np.array([[1.0, 2.0], [2.0, 1.0]]), np.array([0.3, -0.4])), (0, 1)),
    (c.jittered_cholesky, (np.array([[2.0, 0.5], [0.5, 1.0]]), np.array([0.3, -0.4])), (0, 1)),
    (c.skips_bad_rows, (rng.normal(size=(6, 3)), np.array([0.5, 0.2, -0.3])), (0, 1)),  # continue
]


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("fun,args,wrt", TRY_CASES, ids=[f"{f.__name__}-{k}" for k, (f, *_) in enumerate(TRY_CASES)])
def test_try_in_a_loop_against_finite_differences(fun, args, wrt, backend):
    _against_finite_differences(fun, args, wrt, backend)


def test_try_in_a_loop_reads_as_a_helper():
    text = adjoint.source(c.logs_or_linear)
    # one helper call per trip (Python 3.10's unparse writes the targets in parentheses)
    assert re.search(r"\(?unpacked1, try228_saved1\)? = try228_fwd\(i, v, x\)", text)
    assert "# more_cases.py:231: v = 0.5 * x[i]" in text and "except ValueError:" in text


def test_return_in_a_try_in_a_loop_returns_the_trip_it_ran():
    x = -SIGNS  # the first item raises, the second returns
    assert adjoint.value_and_grad(c.returns_in_loop_try)(x)[0] == pytest.approx(c.returns_in_loop_try(x))
    np.testing.assert_allclose(adjoint.grad(c.returns_in_loop_try)(x), [0, 1 / x[1], 0, 0, 0])


# -- functions returned by helpers -----------------------------------------------------------
@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("kind", ["tanh", "relu"])
def test_a_function_a_helper_returns_is_called_through_a_branch(kind, backend):
    _backend(backend)
    args = (0.7, rng.normal(size=4), kind)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", adjoint.BackendWarning)
        got = adjoint.grad(c.picked_activation, (0, 1), backend=backend)(*args)
    want = numerical_grad(c.picked_activation, args, [0, 1])
    np.testing.assert_allclose(_flat(got), _flat(tuple(want)), rtol=1e-6, atol=1e-9)
    assert "act is relu" in adjoint.source(c.picked_activation, wrt=(0, 1)).replace("relu1", "relu")


def test_a_closure_a_helper_returns_is_called_with_what_it_captured():
    x = rng.normal(size=3)
    w_bar, x_bar = adjoint.grad(c.returned_closure, (0, 1))(0.7, x)
    assert w_bar == pytest.approx(np.sum(x)) and np.allclose(x_bar, 0.7)


def test_a_function_attribute_counter_under_a_pullback_called_twice():
    """The second pullback reruns the forward sweep: it reads the counter the first sweep read
    (a wrong gradient before) and does not count again."""
    c.attribute_counter.calls = 0
    x = rng.normal(size=3)
    out, pullback = adjoint.vjp(c.attribute_counter)(x)
    np.testing.assert_allclose(pullback(1.0), 2 * x)
    np.testing.assert_allclose(pullback(1.0), 2 * x)
    assert c.attribute_counter.calls == 1 and out == pytest.approx(np.sum(x ** 2))
    np.testing.assert_allclose(adjoint.grad(c.attribute_counter)(x), 2 * 2 * x)
    assert c.attribute_counter.calls == 2


@pytest.mark.parametrize("backend", BACKENDS)
def test_methods_of_objects_held_in_a_list_attribute(backend):
    _backend(backend)
    model, x = c.Stacked(rng), rng.normal(size=3)  # for layer in self.layers, self.head[0], [-1]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", adjoint.BackendWarning)
        got = adjoint.grad(model.loss, backend=backend)(x)
    np.testing.assert_allclose(got, numerical_grad(model.loss, (x,), [0])[0], rtol=1e-6, atol=1e-9)
    model.layers.append(c.Scale(0.5))  # objects of two classes: refused, never guessed
    with pytest.raises(adjoint.NotDifferentiableError) as info:
        adjoint.grad(model.loss)(x)
    assert "h = layer.forward(h)" in str(info.value)


def test_kwargs_cannot_replace_a_default_function_the_call_was_specialised_to():
    w = rng.normal(size=3)
    got = adjoint.grad(c.activated_loss)(w, s=2.0)
    np.testing.assert_allclose(got, 2.0 * (1 - np.tanh(w) ** 2))
    with pytest.raises(adjoint.UnsupportedSyntaxError, match="specialised the call to its default"):
        adjoint.grad(c.activated_loss)(w, act=np.sin)
