"""Programs from the classes of wrong gradients adjoint once returned (issue 10).

Each function is a minimal instance of one class; tests/test_trust.py checks
every one against finite differences on both backends. Keep them at module
level in this file: adjoint reads their source.
"""
import numpy as np

# -- class 1: adjoints of row, column and slice writes ------------------------------


def rnn_rows(W, h0):
    h = np.zeros((4, 3))
    h[0] = h0
    for t in range(3):
        h[t + 1] = np.tanh(W @ h[t])
    return np.sum(h)


def scale_slice(x):
    acc = np.zeros(5)
    acc[:] = x
    acc[0:3] *= 2.0
    return np.sum(acc ** 2)


def row_writes(x):
    out = np.zeros((2, 3))
    out[0] = x * 2.0
    out[1] = x ** 2
    return np.sum(out * out)


def broadcast_column(M0, u):
    M = M0 * 1.0
    M[:, 0] = u[0]
    return np.sum(M ** 2)


# -- class 7: repeated indices follow NumPy (one write of each element is kept) -----


def repeated_set(x, v):
    out = x * 1.0
    idx = np.array([0, 2, 0, 1])
    out[idx] = v
    return np.sum(out ** 2)


def repeated_iadd(x, v):
    out = x * 1.0
    idx = np.array([0, 2, 0, 1])
    out[idx] += v
    return np.sum(out ** 3)


def repeated_scalar(x, a):
    out = x * 1.0
    idx = np.array([1, 1, 3])
    out[idx] = a * 2.0
    return np.sum(out ** 2)


def mask_set(x, v):
    out = x * 1.0
    out[x > 0] = 3.0 * v[x > 0]
    return np.sum(out ** 2)


# -- class 2: aliasing and in-place semantics ---------------------------------------


def taped_view(o0, X):
    o = o0 * 1.0
    for j in range(3, 5):
        o[j] = np.dot(o[:3], X) * o[j - 1]
    return np.sum(o ** 2)


def written_then_rebound(x):
    h = np.zeros(3)
    h[0] = x[0]
    h = h * 2.0
    h[1] = x[1]
    return np.sum(h ** 2)


def written_after_cumsum(x):
    c = np.cumsum(x)
    c[0] = c[0] * 3.0
    return np.sum(c ** 2)


def writes_parameter(x):
    x[1] = x[0] ** 2
    return np.sum(x ** 2)


def scales_columns(A, s):
    A = A.copy()
    for j in range(3):
        A[:, j] *= s[j]
    return np.sum(A ** 2)


def overlapping_slices(u):
    u = u.copy()
    u[1:-1] += 0.5 * u[2:]
    return np.sum(u ** 2)


def parameter_iadd(x):
    x += 1.0
    return np.sum(x ** 2)


def writes_view_of_parameter(A):
    row = A[0]
    row[1] = 5.0 * row[0]
    return np.sum(row ** 2)


# Refused: another name sees the change, which adjoint would not follow.
def alias_sees_write(a0):
    a = a0 * 1.0
    b = a
    a[0] = 3.0 * a[1]
    return np.sum(b ** 2)


def alias_sees_iadd(y0):
    y = y0 * 1.0
    z = y
    z += 1.0
    return np.sum(y * z)


def base_sees_view_write(A0):
    A = A0 * 1.0
    row = A[0]
    row *= 2.0
    return np.sum(A ** 2)


def zero_first(a):
    a[0] = 0.0
    return np.sum(a)


def caller_sees_helper_write(x):
    y = x * 1.0
    s = zero_first(y)
    return s + np.sum(y ** 2)


# -- class 4: decisions replayed by the backward sweep ------------------------------


def loop_or(x, a):
    s = 0.0
    for i in range(6):
        if x[i] < -0.5 or x[i] > a:
            s = s + np.sin(x[i]) * a
    return s


def loop_chained_and(x, a):
    s = 0.0
    for i in range(6):
        if 0.0 < x[i] < a and x[i] > 0.1:
            s = s + x[i] ** 2
        else:
            s = s + a * x[i]
    return s


def while_and_or_in_loop(x):
    s = 0.0
    for i in range(4):
        y = x[i]
        k = 0
        while (y < 2.0 and k < 5) or k == 0:
            y = y * 1.3 + 0.2
            k = k + 1
        s = s + y
    return s


def chained_then_break(x, a):
    s = 0.0
    for i in range(6):
        if -1.0 < x[i] < a:
            s = s + x[i] * a
        elif x[i] > 1.5 or s > 3.0:
            break
    return s


# -- class 5: evaluation order ----------------------------------------------------


def iterated_then_rebound(x):
    s = 0.0
    for xi in x:
        s = s + xi ** 2
        x = x * 2.0
    return s + np.sum(x)


def own_subscript(x):
    x = x[:, -1][:, None]
    return np.sum(x ** 2)


def own_row(x):
    x = x[0]
    return np.sum(x ** 3)


def own_transpose(x, w):
    x = x.T
    return np.sum(x @ w)


def swap_shapes(X, a):
    X, a = a, X
    return np.sum(a ** 2) * X


def self_assign(x):
    x = x
    return np.sum(x ** 2)


# -- class 6: names that look like generated ones ----------------------------------


def uses_generated_names(x):
    seed = x * 2.0
    saved = seed + 1.0
    value = saved * x
    return value


def shadows_every_pattern(x, y):
    x_bar = y * 1.0
    t1 = x * 2.0
    cond1 = t1 > 0
    x_tape = np.sin(t1) * cond1
    trips1 = x_tape * x_bar
    return np.sum(trips1 + uses_generated_names(x))


def parameter_named_like_an_adjoint(x_bar):
    x = x_bar * 2.0
    return np.sum((x * x_bar) ** 2)


# -- class 10: loops over reversed, zip and enumerate(zip) -------------------------


def over_reversed(x):
    s = 0.0
    for v in reversed(x):
        s = s * 0.5 + np.sin(v)
    return s


def over_reversed_range(x):
    s = 0.0
    for i in reversed(range(1, 4)):
        s = s * x[i] + x[i - 1]
    return s


def zip_with_reversed(x, y):
    s = 0.0
    for a, b in zip(reversed(x), y):
        s = s * 0.7 + a * b
    return s


def enumerate_zip(x, y):
    s = 0.0
    for i, (a, b) in enumerate(zip(x, y)):
        s = s + (i + 1.0) * a * b
    return s


def reversed_rows(A):
    s = 0.0
    for row in reversed(A):
        s = s * 0.3 + np.sum(row ** 2)
    return s


def append_then_stack(g):
    rows = []
    for t in range(2):
        rows.append(np.tanh(np.cumsum(g) * (t + 1.0)))
    for t, q in zip(g, g):
        g = 0.9 * g + 0.1 * np.cos(t * q)
    return np.sum(np.stack(rows)) + np.sum(g)


# -- found by the fuzzer ---------------------------------------------------------------


def pullback_restores_taped_objects(B):
    saved = np.ones(3)
    saved[-2:] -= np.minimum(B[-1], B)
    saved *= (1.0 + saved ** 2) ** np.sin(saved[1])
    return np.sum(saved)


def pullback_restores_an_alias(y, w):
    tmp = np.mean(np.outer(y, w), axis=1)
    v = y
    v[1] = w[-1]
    return np.sum(tmp) + 0.5 * np.sum(v ** 2)


def writes_itself(k):
    z = k[1].copy()
    z[:] = z
    return np.mean(np.tanh(z))


def while_always_breaks(x, s):
    n = 0
    while n < 3 and not (np.dot(s[1:], s[1:]) > -0.2 and np.sum(s[x > 0.0]) > 0.5):
        break
    return 0.5 * np.sum(x ** 2) + np.sum(s)


def writes_tuple_item(pair, g):
    t, s = pair
    t[0] = s[0] + s[1]
    return np.sum(t * g)


def divide_tail(c):
    v = c[1:]
    v /= 2.0
    return v[0]


def caller_reads_after_view_write(s):
    u = divide_tail(s)
    return u + np.sum(np.cos(s))


def helper_with_an_in_place_write(y):
    m = y * np.ones((2, 3))
    m += np.where(y > 0.2, y, 0.5 * y)
    return np.sum(np.mean(m, axis=1) ** 2)


def calls_helper_with_in_place_write(x):
    return helper_with_an_in_place_write(x[0]) + np.sum(x)


def breaks_inside_a_while_test_loop(t, k):
    n = 0
    s = t
    while n < 3 and -0.5 < s < 2.6:
        s = s * 1.2 + k
        n = n + 1
        if s < 0.0:
            break
    return s


def writes_one_leaf(p):
    a, b = p
    b[0] = 2.0 * a[0]
    return np.sum(a) + np.sum(b)


def unpacks_a_literal(x):
    g, s = np.sin(x), np.sum(x)
    s /= 2.0
    return np.sum(g) + s


def renamed_local_in_a_refusal(x):
    x_bar = x * 1.0
    y = x_bar
    x_bar[0] = 2.0
    return np.sum(y)


def loop_target_shadows_a_parameter(p, A):
    w, b = p['w'], p['b']
    rows = []
    for p in range(2):
        rows.append(np.tanh(b - w * (p + 1.0)))
    return np.sum(np.sin(np.stack(rows))) + np.sum(A)


def parameter_bound_to_a_row(x, s):
    x2 = x * x
    x = x[0]
    return np.sum(np.tanh(x[::-1] + x @ x2[-1] * s))


def array_name_reused_as_a_loop_target(x):
    acc = 0.0
    for k in range(2):
        t = np.zeros(3)
        t[k] = x[k] * 2.0
        acc = acc + np.sum(t * x)
    for t in range(2):
        acc = acc * 0.5 + x[t]
    return acc


def returns_from_a_loop(x, a):
    s = 0.0
    for i in range(4):
        s = s + a * x[i]
        if s > 0.5:
            return s * 2.0
    return s


def loop_leaves_its_target(y, x):
    k = 0
    for k in range(3):
        pass
    return x * y[k]


def inner_loop_leaves_its_target(y, x):
    for i in range(2):
        for k, t in enumerate(y):
            pass
        x = x * y[k]
    return x


def inner_loop_rebinds_the_outer_target(y, x):
    z = np.outer(y, y)
    for k, j in enumerate(z):
        for k, t1 in enumerate(z[:2]):
            x = x + np.sin(t1[k])
        x = x * y[k] + j[k]
    return x


def bound_on_one_path(x, c):
    if c > 0:
        y = np.sin(x)
    if c > 0:
        z = y * 2.0
    else:
        z = x * 3.0
    return np.sum(z)


def iterates_a_dict_by_name(d, w):
    s = 0.0
    for k in d:
        s = s + (k + 1.0) * np.sum(np.sin(d[k] * w))
    return s + sum(np.sum(v) for v in d.values()) + sum(k * w for k in d)


def complex_from_a_positional_dtype(x):
    c = np.sqrt(np.full(3, -1.0, np.complex128)) + 2.0
    return np.sum(np.abs(c * x) ** 2)


def complex_eigenvalues(x):
    w = np.linalg.eigvals(np.array([[0.0, -2.0], [2.0, 0.0]]) + 1.0)
    return np.sum(np.abs(w * x[:2]) ** 2)


def real_column_of_eig(a, v):
    w, u = np.linalg.eig(a)
    return np.sum(np.real((np.imag(w) == 0) * u * v)) + np.sum(np.abs(w) ** 2)


def complex_into_a_dense_adjoint(a, b):
    for k in range(2):
        a = np.abs(a * np.exp(1j * a) + 0.5j) + a[0] * b
    return np.sum(np.tanh(a))


def dict_built_by_keys(x):
    d = {}
    d["a"] = np.sin(x)
    d["b"] = x * 2.0
    for k in range(2):
        d[k] = d["a"] * k
    return np.sum(d["a"] * d["b"]) + np.sum(d[1])


def complex_written_into_a_list(x):
    items = [x, x * 2.0]
    items[1] = x * (1.0 + 2.0j)
    w = items[1] * x
    return np.sum(np.real(w) * np.imag(w))
