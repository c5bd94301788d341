"""Functions adjoint must refuse, each with a marker on the line the error names."""
import numpy as np

COUNTER = 0


def uses_try(x):
    y = x
    for k in range(2):
        try:  # error here
            y = y * 2.0
        except ValueError:
            y = x
        finally:
            return y
    return y


def uses_generator(x):
    lazy = (v * 2.0 for v in x)  # error here
    return sum(lazy)


def uses_global(x):
    global COUNTER  # error here
    COUNTER += 1
    return x * 2.0


def nested_def(x):
    def inner(y):  # error here
        return y * 2.0
    inner = abs  # which function a call reaches would depend on the path taken
    return inner(x)


def uses_with(x):
    with np.errstate(all="ignore"):  # error here
        if x[0] > 0.0:
            return x * 2.0
    return x


def no_rule(x):
    y = np.unwrap(x)  # error here
    return np.sum(np.abs(y))


def vector_output(x):
    return x * 2.0  # error here


def writes_view(x):
    y = x.copy()
    row = y[1:]
    row[1] = 5.0  # error here
    return np.sum(y)


def writes_element(x):
    y = x.copy()
    item = y[0]  # of a vector: a NumPy scalar, and Python raises at the next line
    item[1] = 5.0  # error here
    return np.sum(y)


def undefined_name(x):
    return x * not_defined_anywhere  # noqa: F821  # error here


def scalar(x, n):
    return x * n


def shape_mismatch(x):
    y = x * np.ones(5)  # error here
    return np.sum(y)
