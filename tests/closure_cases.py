"""Functions as values inside differentiated code (tests/test_closures.py)."""
import functools

import numpy as np

import adjoint


def relu(x):
    return np.maximum(x, 0.0)


def nested_def_reads_active(w, x):
    scale = 2.0 * w

    def f(v):
        return np.tanh(v * scale)
    return np.sum(f(x))


def lambda_late_binding(w):
    a = 1.0
    g = lambda z: z * a  # noqa: E731
    a = w * 3.0
    return g(w)


def lambda_inline(w, x):
    return np.sum((lambda v: v * w)(x)) + np.sum(np.sin(x))


def nested_def_in_loop(w, x):
    total = 0.0
    for k in range(3):
        def term(v):
            return np.sum(v * w ** k)
        total = total + term(x)
    return total


def nested_calls_sibling(w, x):
    b = w * 0.5

    def inner(v):
        return np.tanh(v + b)

    def outer(v):
        return inner(v) * w
    return np.sum(outer(x))


def nested_in_nested(w, x):
    def outer(v):
        c = v * 2.0

        def inner(u):
            return u * c * w
        return inner(v)
    return np.sum(outer(x))


def recursive_closure(w, n):
    def power(k):
        if k == 0:
            return 1.0
        return w * power(k - 1)
    return power(n)


def nonlocal_counter(w, x):
    calls = 0

    def f(v):
        nonlocal calls
        calls += 1
        return np.sin(v * w)
    y = f(x)
    y = f(y)
    return np.sum(y) * calls


def nonlocal_active(w):
    acc = 0.0

    def add(v):
        nonlocal acc
        acc = acc + v * w
    add(1.0)
    add(w)
    return acc * acc


def default_names_enclosing(w, x):
    scale = w * 2.0

    def f(v, s=scale):
        return v * s
    scale = 100.0  # the default was evaluated when the def ran
    return np.sum(f(x)) + np.sum(f(x, 3.0))


def lambda_default_captures_loop(w):
    fs = []
    total = 0.0
    for k in range(3):
        f = lambda v, k=k: v * k  # noqa: E731
        total = total + f(w)
    return total


def alias_then_call(w, x):
    h = np.tanh
    g = h
    return np.sum(g(x * w))


def activation_table(w, x, kind):
    acts = {"tanh": np.tanh, "relu": relu, "sin": lambda v: np.sin(v) * w}
    return np.sum(acts[kind](x * w))


def activation_table_constant_key(w, x):
    acts = {"tanh": np.tanh, "relu": relu}
    return np.sum(acts["tanh"](x * w)) + np.sum(acts["relu"](x))


def loop_over_functions(w, x):
    h = x
    for act in (np.tanh, relu, np.sin):
        h = act(h * w)
    return np.sum(h)


def layer_list(w, x):
    layers = [lambda v: v * w, np.tanh, relu]
    h = x
    for k in range(len(layers)):
        h = layers[k](h)
    return np.sum(h)


def apply(fn, v):
    return fn(v) * 2.0


def apply_twice(fn, v):
    return apply(fn, apply(fn, v))


def function_argument(w, x):
    return np.sum(apply(np.tanh, x * w)) + np.sum(apply(relu, x))


def closure_argument(w, x):
    def scaled(v):
        return v * w
    return np.sum(apply_twice(scaled, x))


def lambda_argument(w, x):
    return np.sum(apply(lambda v: np.sin(v * w), x))


def weighted(x, w, power=2.0):
    return np.sum(w * x ** power)


partial_global = functools.partial(weighted, power=3.0)


def partial_of_global(w, x):
    return partial_global(x, w)


def partial_local(w, x):
    p = functools.partial(weighted, w=w)
    q = functools.partial(np.multiply, w)
    return p(x) + np.sum(q(x))


def logged(fn):
    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        return fn(*args, **kwargs)
    return wrapper


def counted(fn):
    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        out = fn(*args, **kwargs)
        return out
    return wrapper


@logged
def smooth(v, w):
    return np.sum(np.tanh(v * w))


@counted
def rough(v, w):
    return np.sum(np.sin(v) * w)


def decorated_helpers(w, x):
    return smooth(x, w) + rough(x, w=w)


def returns_function(kind):
    if kind == "tanh":
        return np.tanh
    return relu


def escaping_closure(w, x):
    def f(v):
        return v * w
    return np.sum(np.apply_along_axis(f, 0, x))


def nonlocal_in_expression(w):
    n = 0

    def f(v):
        nonlocal n
        n += 1
        return v * w
    return f(w) + 1.0


def several_in_expression(w, x, kind):
    acts = {"tanh": np.tanh, "relu": relu}
    return np.sum(acts[kind](x) * w) + 1.0


def function_parameter(w, act):
    return act(w)


def function_local_as_argument(w, x):
    act = np.tanh
    h = apply(act, x * w)
    for f in (np.sin, relu):
        h = apply(f, h) + 1.0
    return np.sum(h)


def constant_function_in_closure(w, x):
    act = np.tanh

    def layer(v):
        return act(v * w)
    return np.sum(layer(layer(x)))


def mutual_recursion(w, n):
    def even(k):
        if k == 0:
            return w
        return odd(k - 1) * w

    def odd(k):
        if k == 0:
            return 1.0
        return even(k - 1) + w
    return even(n)


def nonlocal_under_condition(w, c):
    n = 0

    def f(v):
        nonlocal n
        n += 1
        return v * w
    y = w if c else f(w)
    return y * n


def make_counting_loss():
    count = 0

    def loss(w):
        nonlocal count
        count += 1
        return w * w
    return loss


counting_loss = make_counting_loss()


def decorated_nested(w):
    @functools.lru_cache
    def f(v):
        return v * w
    return f(w)


def partial_read_by_closure(w, x):
    p = functools.partial(weighted, w=w)

    def f(v):
        return p(v)
    return f(x)


def passes_writing_closure(w):
    n = 0

    def f(v):
        nonlocal n
        n += 1
        return v * w
    return apply(f, w) * n


def several_under_condition(w, x, kind):
    acts = {"tanh": np.tanh, "relu": relu}
    y = acts[kind](x) if w > 0 else x
    return np.sum(y * w)


def lambda_in_comprehension(w, x):
    return np.sum(np.array([(lambda v: v * k * w)(x) for k in range(3)]))


def called_in_shadowing_comprehension(w, x):
    k = 2.0

    def f(v):
        return v * k * w
    return np.sum(np.array([f(x) for k in range(3)]))


def reserved_names_in_closure(w, x):
    count = 0
    np_ = 2.0

    def f(v):
        nonlocal count
        count += 1
        return np.sin(v * w) * np_
    y = f(x)
    y = f(y)
    return np.sum(y) * count


def closure_rebinds_the_function(w, x):
    act = np.tanh

    def switch():
        nonlocal act
        act = np.sin
    switch()
    return np.sum(act(x * w))


def closure_in_a_with_block(w, x):
    k = 3.0

    def f(v):
        return v * w

    def g(v):
        return v * k
    with adjoint.no_grad():
        c = g(0.5)
    if np.sum(f(x)) > -10.0:
        y = f(x) * c
    else:
        y = x
    return np.sum(y)


def zipped_layers(w, x):
    weights = (w, 2.0 * w, 0.5)
    acts = [np.tanh, relu, lambda v: v * w]
    h = x
    for k, (act, scale) in enumerate(zip(acts, weights)):
        h = act(h * scale) + k
    return np.sum(h)


def logsumexp_rows(a, axis=None):
    m = np.max(a, axis=axis, keepdims=True)
    return np.log(np.sum(np.exp(a - m), axis=axis)) + np.squeeze(m, axis=axis)


def helper_with_an_axis(a, b):
    return np.sum(logsumexp_rows(a, axis=1)) + np.sum(logsumexp_rows(a * b, 0)) + logsumexp_rows(b)


TABLE = {"swish": lambda z: z / (1.0 + np.exp(-z)),
         "cube": lambda z: z ** 3, "sin": np.sin}


def calls_from_a_module_table(x, kind):
    f = TABLE[kind]
    return np.sum(f(x) * 2.0)


# -- functions returned by helpers (closure conversion) ----------------------------
def make_scaler(w):
    def scale(x):
        return w * x
    return scale


def returned_closure(w, x):
    f = make_scaler(w)
    return np.sum(f(x) ** 2)


def make_affine(w):
    s = 2.0 * w  # a local the factory computed, read by the lambda it returns
    return lambda x: s * x + np.sin(w)


def returned_lambda_reads_a_local(w, x):
    f = make_affine(w)
    return np.sum(np.tanh(f(x)))


def returned_and_called_at_once(w, x):
    y = make_affine(w * x[0])(x)
    return np.sum(make_scaler(w)(y) ** 2)


def two_returned_in_one_expression(w, x):
    return np.sum(make_scaler(w)(x) + make_affine(w)(x))


def returned_called_in_a_loop(w, x):
    f = make_affine(w)
    h = x
    for _ in range(3):
        h = np.tanh(f(h))
    return np.sum(f(h) * f(x))


def make_power(w, k):
    def power(x):
        return np.sum((w * x) ** k)
    return power


def factory_called_in_a_loop(w, x):
    total = 0.0
    for k in range(1, 4):
        p = make_power(w, k)
        total = total + p(x)
    return total


def make_activation(kind, w):
    if kind == "tanh":
        def act(x):
            return np.tanh(w * x)
        return act
    s = w ** 2
    return lambda x: s * x + 1.0


def returned_on_branches(w, x, kind):
    act = make_activation(kind, w)
    return np.sum(act(x) * act(2.0 * x)) + np.sum(act(x))


def nested_factory(w, x):
    b = np.cos(w)

    def make(a):
        return lambda v: a * v + b
    f = make(w * 3.0)
    return np.sum(f(x) ** 2)


def make_adder(a):
    def add_b(b):
        return lambda x: a + b * x
    return add_b


def curried(w, x):
    g = make_adder(w)(np.sin(w))
    return np.sum(g(x) ** 2)


def compose(f, g):
    return lambda x: f(g(x))


def composed(w, x):
    h = compose(np.tanh, relu)
    return np.sum(h(w * x))


def make_with_default(w):
    def f(x, s=w * 2.0):
        return s * x
    return f


def returned_with_a_default(w, x):
    f = make_with_default(w)
    return np.sum(f(x)) + np.sum(f(x, s=3.0))


def make_model(w):
    def hidden(x):
        return np.tanh(w * x)
    offset = np.sum(hidden(np.ones(3)))

    def model(x):
        return hidden(x) + offset
    return model


def factory_with_helpers(w, x):
    m = make_model(w)
    return np.sum(m(x) ** 2)


def make_counter(w):
    calls = 0

    def f(x):
        nonlocal calls
        calls += 1
        return w * x * calls
    return f


def returned_counter(w, x):
    f = make_counter(w)
    return np.sum(f(x))


def returned_passed_on(w, x):
    f = make_scaler(w)
    return np.sum(np.apply_along_axis(f, 0, x))


def make_mixed(w, kind):
    if kind == "a":
        return lambda x: w * x
    return np.tanh


def returned_mixed(w, x):
    f = make_mixed(w, "a")
    return np.sum(f(x))


def returned_bound_twice(w, x):
    f = make_scaler(w)
    y = f(x)
    f = make_scaler(2.0 * w)
    return np.sum(f(y))


def several_returned_in_a_loop_test(w, x):
    act = make_activation("tanh", w)
    while np.sum(act(x)) > 10.0:
        x = x * 0.5
    return np.sum(x)


def closure_into_a_factory(w, x):
    def inner(v):
        return v * w
    h = compose(np.tanh, inner)
    return np.sum(h(x))


def make_maybe(w, c):
    if c:
        return lambda x: w * x


def returned_maybe(w, x):
    f = make_maybe(w, True)
    return np.sum(f(x))


def closure_writes_an_enclosing_array(w, x):
    buf = np.zeros(3)

    def f(v):
        buf[0] = v[0]  # Python's closure changes the enclosing array itself
        return np.sum(buf * w)
    return f(x) + f(2.0 * x) + buf[0]


def make_logger(w):
    seen = []

    def f(x):
        seen.append(x)
        return w * x * len(seen)
    return f


def returned_writes_what_it_captured(w, x):
    f = make_logger(w)
    return np.sum(f(x) + f(x))


def fill_first(a, *, out):
    out[0] = a
    return a


def helper_writes_a_keyword_argument(w, x):
    buf = np.zeros(2)
    y = fill_first(w, out=buf)
    return np.sum(buf) * y


# -- **d into a helper taking **rest ---------------------------------------------------
def scaled_penalty(w, kind="l2", **options):
    scale = options.get("scale", 1.0)
    if kind == "l2":
        return scale * np.sum(w ** 2) + len(options)
    return scale * np.sum(np.abs(w)) + options["bias"]


def forwards_rest(w, **kwargs):
    return scaled_penalty(w, **kwargs) * 2.0


def keywords_into_rest(w, cfg):
    return scaled_penalty(w, **cfg) + forwards_rest(w * 2.0, **cfg)


def keywords_and_a_loose_one(w, cfg):
    return scaled_penalty(w, extra=1.0, **cfg)


# -- a function argument called inside the helper's own nested functions -----------------
def apply_in_lambda(f, x):
    g = lambda v: f(v) * 2.0
    return g(x)


def apply_in_def(f, x):
    def g(v):
        return f(v) + f(v * v)
    return g(x)


def closure_called_in_helper_lambda(w, x):
    s = w * 1.5

    def inner(v):
        return s * v
    return np.sum(apply_in_lambda(inner, x)) + np.sum(apply_in_def(inner, x))


def active_lambda_into_helper_lambda(w, x):
    s = w * w
    return np.sum(apply_in_lambda(lambda v: s * np.sin(v), x))


def _twice(f, x):
    return f(f(x))


def pass_on(f, x):
    return _twice(f, x)


def pass_on_in_lambda(f, x):
    g = lambda v: _twice(f, v)
    return g(x)


def call_from_list(f, x):
    fs = [f, f]
    return fs[0](x) + fs[1](x)


def call_in_comprehension(f, x):
    return sum([f(x[i]) for i in range(x.shape[0])])


def closure_passed_on_by_helpers(w, x):
    s = w * 1.5

    def inner(v):
        return s * v
    return np.sum(pass_on(inner, x)) + np.sum(pass_on_in_lambda(inner, x)) + \
        np.sum(call_from_list(inner, x)) + call_in_comprehension(inner, x)
