"""Comprehensions and the built-ins that iterate, as people write them (issue 11).

tests/test_comprehensions.py checks each against finite differences on both
backends. Keep them at module level in this file: adjoint reads their source.
"""
import itertools
import math

import numpy as np


def weight(v):
    return v * v


# -- list comprehensions -----------------------------------------------------------------------
def squares_over_range(x):
    return sum([x[i] ** 2 for i in range(len(x))])


def filtered_items(x):
    return sum([v * v for v in x if v > 0.0])


def rows_of_a_matrix(A):
    return np.sum(np.array([np.tanh(row) for row in A]))


def stacked_rows(A, w):
    return np.sum(np.stack([row * w for row in A]) ** 2)


def over_zip(x, y):
    return sum([a * b for a, b in zip(x, y)])


def over_enumerate(x):
    return sum([(i + 1) * v for i, v in enumerate(x)])


def over_dict_items(params):
    return sum([np.sum(v ** 2) for k, v in params.items()])


def over_dict_values_filtered(params):
    return sum([np.sum(v) * 2.0 for v in params.values() if v.size > 1])


def nested_generators(A):
    return sum([A[i, j] * A[j, i] for i in range(A.shape[0]) for j in range(i, A.shape[1])])


def nested_comprehension(A):
    rows = [[A[i, j] ** 2 for j in range(A.shape[1])] for i in range(A.shape[0])]
    return np.sum(np.array(rows) * A)


def asarray_of_a_comprehension(x):
    return np.sum(np.asarray([np.sin(v) for v in x]) * x)


def comprehension_of_helpers(x):
    return sum([weight(v) for v in x])


def target_does_not_leak(x):
    v = 2.0
    total = sum([v * 3.0 for v in x])
    return total * v


def target_shadows_a_parameter(x, v):
    return sum([v * v for v in x]) + v


def comprehension_in_a_loop(x):
    total = 0.0
    for k in range(3):
        total = total + sum([v * k for v in x])
    return total


def comprehension_in_a_branch(x, c):
    if c > 0:
        return sum([v * c for v in x])
    return 0.0


def comprehension_in_a_conditional_expression(x):
    return sum([np.log(v) for v in x]) if np.all(x > 0) else np.sum(x)


def comprehension_in_a_while_test(x):
    y = x * 1.0
    while max([abs(v) for v in y]) > 0.5:
        y = y * 0.5
    return np.sum(y ** 2)


def same_object_three_times(x):
    rows = [x for _ in range(3)]
    return np.sum(np.stack(rows) * 2.0)


def list_of_arrays_then_loop(x):
    parts = [x * k for k in range(1, 4)]
    total = 0.0
    for p in parts:
        total = total + np.sum(p ** 2)
    return total


# -- generator expressions ------------------------------------------------------------------------
def sum_of_a_generator(x):
    return sum(v ** 3 for v in x)


def sum_with_start(x):
    return sum((v * v for v in x), 1.0)


def max_of_a_generator(x):
    return max(v * 2.0 for v in x) + min(np.cos(v) for v in x)


def tuple_of_a_generator(x):
    t = tuple(v * 2.0 for v in x)
    return t[0] * t[2]


def any_and_all(x):
    if any(v > 1.5 for v in x):
        return np.sum(x ** 2)
    if all(v < 2.0 for v in x for w in x):
        return np.sum(x ** 3)
    return np.sum(x)


def fsum_of_a_generator(x):
    return math.fsum(v * v for v in x)


# -- dict and set comprehensions ----------------------------------------------------------------
def dict_comprehension(x):
    d = {f"w{i}": x[i] * (i + 1) for i in range(3)}
    return d["w0"] * d["w2"] + d["w1"]


def dict_comprehension_over_items(params):
    scaled = {k: v * 2.0 for k, v in params.items()}
    return np.sum(scaled["a"] ** 2) + np.sum(scaled["b"])


def dict_comprehension_repeated_key(x):
    d = {i % 2: x[i] for i in range(4)}
    return d[0] * d[1]


def set_of_indices(x):
    picked = {i % 3 for i in range(5)}
    return sum([x[i] for i in range(3) if i in picked]) * len(picked)


# -- built-ins ----------------------------------------------------------------------------------
def list_and_tuple_of_an_array(A):
    rows = list(A)
    t = tuple(A[0])
    return np.sum(rows[1] * rows[0]) + t[1]


def dict_constructors(x):
    a = dict(p=x, q=x * 2.0)
    b = dict(zip(["u", "v"], [x[0], x[1]]))
    c = dict(a)
    return np.sum(a["q"] * c["p"]) + b["u"] * b["v"]


def sorted_numbers(x):
    s = sorted(x)
    return s[0] * 3.0 + s[-1] + s[1] * s[2]


def sorted_with_key_and_reverse(x):
    s = sorted([x[0], x[1], -x[2]], key=abs, reverse=True)
    return s[0] * 2.0 + s[1]


def sorted_keys(params):
    total = 0.0
    for k in sorted(params):
        total = total * 0.5 + np.sum(params[k])
    return total


def max_of_several(x):
    return max(x[0], x[1], x[2]) * min(x[0], x[1], x[2])


def max_with_key(x):
    return max(x, key=abs) + min([x[0], x[1]], key=weight)


def reversed_and_negative_step(x):
    total = 0.0
    for v in reversed(x):
        total = total * 0.5 + v
    for i in range(len(x) - 1, -1, -2):
        total = total + x[i] ** 2
    return total


def round_and_divmod(x):
    q, r = divmod(x[0], 0.3)
    return round(x[1]) * x[1] + q * x[2] + r * r


def product_and_accumulate(x):
    total = 0.0
    for i, j in itertools.product(range(2), range(3)):
        total = total + x[i] * x[j]
    for c in itertools.accumulate(x):
        total = total + c ** 2
    return total + sum(itertools.accumulate(x, initial=1.0))


def zip_and_enumerate_as_values(x, y):
    pairs = list(zip(x, y))
    counted = list(enumerate(x, 1))
    return sum([a * b for a, b in pairs]) + sum([i * v for i, v in counted])


def dict_views_as_values(params):
    values = list(params.values())
    keys = sorted(params.keys())
    pairs = dict(params.items())
    return np.sum(values[0] * pairs[keys[1]]) + np.sum(pairs["b"] ** 2)


# -- refused ------------------------------------------------------------------------------------
def lazy_generator(x):
    g = (v * 2.0 for v in x)
    return sum(g)


def set_of_active_values(x):
    return sum({v * 2.0 for v in x})


def write_through_a_repeated_item(x):
    rows = [x for _ in range(3)]
    first = rows[0]
    first[0] = 5.0
    return np.sum(np.stack(rows))


def augmented_repeated_item(x):
    rows = [x * 1.0 for _ in range(2)]
    rows[0] *= 3.0
    return np.sum(rows[1])


def augmented_shared_item(x):
    y = x * 1.0
    rows = [y, x]
    rows[0] += 1.0
    return np.sum(rows[1] * y)


def augmented_own_items(x):
    rows = [x * 1.0, x * 2.0]
    rows[0] += x
    grads = {"a": x * 1.0}
    grads["a"] *= 2.0
    return np.sum(rows[0] * rows[1]) + np.sum(grads["a"])


def over_a_set_display(x):
    return sum(np.sum(x * k) for k in {3, 1, 2}) + sum(np.sum(x ** k) for k in {2})


def a_set_of_active_numbers(x):
    return sum({x[0], x[1] * 2.0})
