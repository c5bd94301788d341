"""Objects (issue 11): bound methods, attributes, dataclasses, named tuples and registered
classes as parameters, function attributes, and library code; against finite differences on
both backends."""
import copy
import warnings

import numpy as np
import pytest

import adjoint
from adjoint.pytree import tree_ravel
from adjoint.testing import numerical_grad

from . import object_cases as c

rng = np.random.default_rng(11)
BACKENDS = ["numpy", "numba"]


def normal(*shape):
    return rng.normal(size=shape)


def params():
    return c.Params(0.5 * normal(3, 3), 0.2)


def gaussian():
    return c.Gaussian(normal(3), 0.1 * normal(3))


def state():
    return c.State(normal(3), normal(3))


def affine():
    return c.Affine(normal(2, 3), normal(2))


def layer():
    return c.Layer(0.5 * normal(3, 3), normal(3))


CASES = [  # (function, arguments, wrt)
    (c.dense_loss, (params(), normal(3)), (0, 1)),
    (c.gaussian_loss, (gaussian(), normal(3)), (0, 1)),
    (c.simulate, (state(), 0.7), (0, 1)),
    (c.simulate_inline, (state(), 0.7), (0, 1)),
    (c.affine_loss, (affine(), normal(3)), (0, 1)),
    (c.uses_config, (normal(3), c.Config()), 0),
    (c.counts_calls, (normal(3),), 0),
    (c.scaled, (c.Scaler(1.7), normal(3)), 1),
    (c.layers_loss, ([layer(), layer()], normal(3)), (0, 1)),
    (c.net_loss, (c.Net(layer(), layer()), normal(3)), (0, 1)),
    (c.indexes_named_tuple, (c.Mixed(normal(3), 3, normal(3)), normal(3)), (0, 1)),
    (c.leapfrog, (state(), 0.7), (0, 1)),
    (c.moves, (c.Particle(normal(3), 1.3), normal(3)), (0, 1)),
    (c.replaces_checked, (c.Checked(normal(3), 0.8), normal(3)), (0, 1)),
]


def _flat(tree):
    return tree_ravel(tree)[0]


def _grad(fun, args, wrt, backend="numpy"):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", adjoint.BackendWarning)  # Numba cannot type objects
        got = adjoint.grad(fun, wrt, backend=backend)(*args)
    return got if isinstance(wrt, tuple) else (got,)


def _positions(wrt):
    return list(wrt) if isinstance(wrt, tuple) else [wrt]


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("fun,args,wrt", CASES, ids=[f.__name__ for f, _, _ in CASES])
def test_grad_matches_finite_differences(fun, args, wrt, backend):
    if backend == "numba":
        pytest.importorskip("numba")
    before = copy.deepcopy(args)
    got = _grad(fun, args, wrt, backend)
    for g, n, p in zip(got, numerical_grad(fun, args, _positions(wrt)), _positions(wrt)):
        assert type(g) is type(args[p])  # a dataclass's gradient is that dataclass
        np.testing.assert_allclose(_flat(g), _flat(n), rtol=1e-5, atol=1e-6)
    for p in _positions(wrt):
        assert np.array_equal(_flat(args[p]), _flat(before[p]))  # the caller's values never change


@pytest.mark.parametrize("fun,args,wrt", CASES, ids=[f.__name__ for f, _, _ in CASES])
def test_vjp_and_jvp_agree_with_grad(fun, args, wrt):
    g = _grad(fun, args, wrt)
    out, pullback = adjoint.vjp(fun, wrt)(*args)
    pulled = pullback(1.0)
    pulled = pulled if isinstance(wrt, tuple) else (pulled,)
    for a, b in zip(g, pulled):
        np.testing.assert_allclose(_flat(a), _flat(b), rtol=1e-10, atol=1e-12)
    tangents = [adjoint.tree_map(lambda v: np.ones_like(v) * 0.5, args[p]) for p in _positions(wrt)]
    _, slope = adjoint.jvp(fun, wrt)(args, tuple(tangents))
    expected = sum(float(np.sum(_flat(a) * _flat(t))) for a, t in zip(g, tangents))
    assert slope == pytest.approx(expected, rel=1e-9, abs=1e-12)


def test_hvp_of_a_nested_record():
    net, x = c.Net(layer(), layer()), normal(3)
    v = adjoint.tree_map(lambda a: normal(*np.shape(a)), net)
    hv = adjoint.hvp(c.net_loss)(net, x, v)
    assert isinstance(hv, c.Net) and isinstance(hv.first, c.Layer)
    eps = 1e-6
    moved = [adjoint.grad(c.net_loss)(adjoint.tree_map(lambda a, b: a + s * eps * b, net, v), x)
             for s in (1.0, -1.0)]
    fd = (_flat(moved[0]) - _flat(moved[1])) / (2 * eps)
    np.testing.assert_allclose(_flat(hv), fd, rtol=1e-5, atol=1e-6)


def test_vjp_and_jvp_of_a_function_returning_a_record():
    s, k, seed = state(), 0.7, state()
    out, pullback = adjoint.vjp(c.step, (0, 1))(s, k, 0.1)
    assert isinstance(out, c.State)
    got = pullback(seed)
    assert isinstance(got[0], c.State)
    inner = lambda s, k: adjoint.tree_vdot(seed, c.step(s, k, 0.1))  # noqa: E731
    for g, n in zip(got, numerical_grad(inner, (s, k), [0, 1])):
        np.testing.assert_allclose(_flat(g), _flat(n), rtol=1e-5, atol=1e-6)
    _, tangent = adjoint.jvp(c.step, 0)((s, k, 0.1), (seed,))
    assert isinstance(tangent, c.State)
    assert adjoint.tree_vdot(tangent, seed) == pytest.approx(adjoint.tree_vdot(got[0], seed))


def test_gradient_types_keep_fields():
    p = params()
    g = adjoint.grad(c.dense_loss)(p, normal(3))
    assert isinstance(g, c.Params) and g.layers == p.layers and g.W.shape == p.W.shape
    q = adjoint.grad(c.gaussian_loss)(gaussian(), normal(3))
    assert isinstance(q, c.Gaussian) and q.name == "q"
    a = adjoint.grad(c.affine_loss)(affine(), normal(3))
    assert isinstance(a, c.Affine) and a.W.shape == (2, 3)


@pytest.mark.parametrize("backend", BACKENDS)
def test_bound_method(backend):
    if backend == "numba":
        pytest.importorskip("numba")
    model = c.RNN(0.5 * normal(3, 3), 0.5 * normal(3, 2))
    h, x = normal(3), normal(2)
    got = _grad(model.loss, (h, x), (0, 1), backend)
    for g, n in zip(got, numerical_grad(model.loss, (h, x), [0, 1])):
        np.testing.assert_allclose(g, n, rtol=1e-5, atol=1e-6)


def test_bound_method_vjp_and_jvp():
    model = c.RNN(0.5 * normal(3, 3), 0.5 * normal(3, 2))
    h, x, v = normal(3), normal(2), normal(3)
    g = adjoint.grad(model.loss)(h, x)
    out, pullback = adjoint.vjp(model.loss)(h, x)
    np.testing.assert_allclose(pullback(1.0), g, rtol=1e-10)
    _, slope = adjoint.jvp(model.loss, 0)((h, x), (v,))
    assert slope == pytest.approx(float(g @ v), rel=1e-9)


def test_bound_method_source_reads_like_the_method():
    model = c.RNN(0.5 * normal(3, 3), 0.5 * normal(3, 2))
    g = adjoint.grad(model.loss)
    g(normal(3), normal(2))
    text = g.source
    assert "RNN.cell" in text and "RNN.gain.fget(self)" in text and "self.W" in text
    assert adjoint.source(model.loss, wrt=(0, 1)) == adjoint.source(model.loss, wrt=(0, 1))
    assert "def loss_grad(self, h, x)" in adjoint.source(model.loss, wrt=(0, 1))


def test_function_attribute_counter():
    before = c.counts_calls.calls
    adjoint.grad(c.counts_calls)(normal(3))
    assert c.counts_calls.calls == before + 1  # once per call, as the function itself does


def test_library_call_on_constants_is_a_primal_call():
    pytest.importorskip("scipy")
    x = normal(3)
    g = adjoint.grad(c.calls_scipy_on_constants)(x)
    np.testing.assert_allclose(g, 2 * x * c.scipy.optimize.rosen(np.array([1.0, 2.0, 3.0])))


def test_tree_map_on_records():
    p = params()
    doubled = adjoint.tree_map(lambda v: 2 * v, p)
    assert isinstance(doubled, c.Params) and doubled.layers == 2 and doubled.b == 2 * p.b
    assert len(adjoint.tree_leaves(affine())) == 2
    flat, unravel = adjoint.tree_ravel(p)
    assert flat.size == 10 and isinstance(unravel(flat), c.Params)


# -- refusals, each naming the user's line -----------------------------------------
def _noted(exc):
    """The message and notes of an error raised while generated code ran (3.10: the message)."""
    return str(exc) + "".join(getattr(exc, "__notes__", []))



def _message(error, fun, *args, wrt=0):
    with pytest.raises(error) as info:
        adjoint.grad(fun, wrt)(*args)
    return str(info.value)


def test_refuses_writing_an_attribute_of_a_parameter():
    text = _message(adjoint.UnsupportedSyntaxError, c.writes_self, c.Config(), normal(3), wrt=1)
    assert "object_cases.py" in text and "model.W = model.W * 2.0" in text
    assert "caller's object 'model'" in text


def test_refuses_writing_an_attribute_of_a_made_object():
    text = _message(adjoint.UnsupportedSyntaxError, c.writes_made_state, normal(3))
    assert "s.x = x * 2.0" in text and "_replace" in text


def test_refuses_an_active_value_written_to_an_attribute():
    text = _message(adjoint.NotDifferentiableError, c.logs_active_value, normal(3))
    assert "counts_calls.last = x * 2.0" in text


def test_refuses_writing_into_an_array_held_by_an_object():
    model = c.RNN(normal(3, 3), normal(3, 2))
    before = model.W.copy()
    text = _message(adjoint.UnsupportedSyntaxError, c.writes_through_self, model, normal(3), wrt=1)
    assert "class RNN" in text and "copy the value first" in text and "w[0] = 0.0" in text
    assert np.array_equal(model.W, before)
    stack = c.Stack()
    text = _message(adjoint.UnsupportedSyntaxError, c.pops_from_self, stack, normal(3), wrt=1)
    assert "t = stack.items.pop()" in text and stack.items == [1.0, 2.0]


def test_pop_never_changes_the_callers_list():
    items, x = [1.0, 2.0], normal(3)
    np.testing.assert_allclose(adjoint.grad(c.pops_a_parameter, 1)(items, x), 4.0 * x)
    assert items == [1.0, 2.0]


def test_refuses_writing_into_an_attribute_item():
    text = _message(adjoint.UnsupportedSyntaxError, c.writes_into_attribute_item, c.Config(),
                    normal(3), wrt=1)
    assert "model.W[0] = 0.0" in text and "copy it into a variable first" in text


def test_hvp_and_hessian_of_a_bound_method():
    model = c.RNN(0.5 * normal(3, 3), 0.5 * normal(3, 2))
    h, x, v = normal(3), normal(2), normal(3)
    H = adjoint.hessian(model.loss)(h, x)
    eps = 1e-6
    g = adjoint.grad(model.loss)
    fd = (g(h + eps * v, x) - g(h - eps * v, x)) / (2 * eps)
    np.testing.assert_allclose(H @ v, fd, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(adjoint.hvp(model.loss)(h, x, v), fd, rtol=1e-5, atol=1e-6)


def test_refuses_replacing_fields_a_constructor_changes():
    n = c.Normalised(np.array([1.0, 2.0, 3.0]))
    with pytest.raises(adjoint.NotDifferentiableError, match="changed the values it was given") as info:
        adjoint.grad(c.replaces_normalised, 1)(n, normal(3))
    assert "m = dataclasses.replace(n, x=n.x * y)" in _noted(info.value)


def test_refuses_library_code_at_the_users_line():
    pytest.importorskip("scipy")
    text = _message(adjoint.NotDifferentiableError, c.calls_scipy, normal(3))
    assert "object_cases.py" in text and "return scipy.optimize.rosen(y)" in text
    assert "scipy.optimize" in text and "rosen" in text and "custom_vjp" in text
    assert "library code" in text
    text = _message(adjoint.NotDifferentiableError, c.calls_stdlib, normal(3))
    assert "statistics.fmean" in text and "return statistics.fmean(y)" in text


def test_refuses_a_method_of_an_object_of_unknown_class():
    text = _message(adjoint.NotDifferentiableError, c.calls_method_of_a_local, c.Config(), normal(3),
                    wrt=1)
    assert "inner.my_method(x)" in text and "Class.my_method(obj, ...)" in text


def test_refuses_a_method_an_instance_attribute_hides():
    text = _message(adjoint.NotDifferentiableError, c.calls_shadowed, c.Shadowed(), normal(3),
                    wrt=1)
    assert "obj.apply(x)" in text and "Class.apply(obj, ...)" in text


def test_refuses_children_that_are_one_object():
    one = 0.5
    assert adjoint.grad(c.pair_loss)(c.Pair(0.5, 0.25), 2.0).b == pytest.approx(6.0)
    with pytest.raises(adjoint.NotDifferentiableError, match="not one of the children"):
        adjoint.grad(c.pair_loss)(c.Pair(one, one), 2.0)  # which child is p.a is not known


def test_refuses_a_plain_object_as_the_differentiated_argument():
    with pytest.raises(adjoint.WrtError, match="register_pytree"):
        adjoint.grad(c.uses_config, 1)(normal(3), c.Config())


def test_refuses_an_attribute_that_is_not_a_child():
    with pytest.raises(adjoint.NotDifferentiableError, match="'total' is not one of the children") as info:
        adjoint.grad(c.reads_computed)(affine(), normal(3))
    assert "return np.sum(a.total * x)" in _noted(info.value)


def test_refuses_a_property_read_where_the_class_is_not_known():
    w = c.WithProperty(normal(3))
    with pytest.raises(adjoint.NotDifferentiableError, match="'double' is not one of the children"):
        adjoint.grad(c.reads_property_in_helper, 1)(normal(3), w)
