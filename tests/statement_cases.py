"""Functions using the statements ``passes/statements.py`` lowers, and ones it must refuse.

Each refused function marks the line its error must name with ``# refused here``.
"""
import contextlib
import logging
import warnings

import numpy as np

SCALE = 1.5
logger = logging.getLogger("adjoint.tests.statements")


def risky(x, mode):
    """Raises KeyError for mode 2, ValueError for mode 1, else doubles x."""
    if mode > 1:
        raise KeyError("two")
    if mode > 0:
        raise ValueError("one")
    return x * 2.0


# -- try ------------------------------------------------------------------------------------
def try_cholesky(K, b):
    try:
        L = np.linalg.cholesky(K)
    except np.linalg.LinAlgError:
        L = np.linalg.cholesky(K + 10.0 * np.eye(len(b)))
    z = np.linalg.solve(L, b)
    return np.sum(z ** 2)


def try_penalty(K, b):
    try:
        L = np.linalg.cholesky(K)
    except np.linalg.LinAlgError:
        return 1e6
    return np.sum(np.linalg.solve(L, b) ** 2)


def try_return(x, mode):
    try:
        return np.sum(risky(x, mode))
    except ValueError:
        return np.sum(x ** 2)


def try_handlers(x, mode):
    y = x * 1.0
    try:
        y = np.sin(x)
        z = risky(y, mode)
        y = z + y
    except KeyError:
        y = y * 3.0
    except ValueError as e:
        print("fallback:", e)
        y = y * 4.0
    else:
        y = y * 5.0
    finally:
        print("done")
    return np.sum(y)


def try_halfway(x, mode):
    """The handler reads what the body bound before the statement that raised."""
    a = x * 1.0
    try:
        a = np.exp(x)
        b = risky(a, mode)
    except (KeyError, ValueError):
        b = a * a
    return np.sum(a * b)


def try_in_branch(x, c):
    if c > 0.0:
        try:
            y = risky(x, int(c))
        except ValueError:
            y = np.cos(x)
    else:
        y = x * c
    return np.sum(y)


def try_finally(x):
    total = 0.0
    try:
        total = total + np.sum(x ** 3)
    finally:
        print("finished")
    return total


def try_key(params, x):
    try:
        w = params["w"]
    except KeyError:
        w = 2.0
    return np.sum(w * x)


# -- with -----------------------------------------------------------------------------------
def with_errstate(x):
    with np.errstate(divide="ignore", invalid="ignore"):
        y = np.log(x) * 2.0
    return np.sum(y)


def with_warnings(x):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        y = np.sqrt(x) + x
    return np.sum(y)


class Recorder:
    """A user context manager with effects of its own (counted)."""

    entered = 0

    def __enter__(self):
        Recorder.entered += 1
        return self

    def __exit__(self, kind, value, traceback):
        return False


def with_user_manager(x):
    with Recorder():
        y = np.tanh(x) * 3.0
    return np.sum(y)


def with_return(x):
    with np.errstate(over="ignore"):
        return np.sum(np.exp(x) * x)


def exp_raising(v):
    with np.errstate(over="raise"):
        return np.exp(v)  # computed inside the block: an overflow raises


def with_return_raises(x):
    try:
        y = exp_raising(x)
    except FloatingPointError:
        y = x * 2.0
    return np.sum(y)


def with_two(x):
    with np.errstate(over="ignore"), warnings.catch_warnings(record=True) as seen:
        y = np.sin(x) ** 2
        n = len(seen)
    return np.sum(y) + n


class Swallower:
    def __enter__(self):
        return self

    def __exit__(self, kind, value, traceback):
        return True


def with_swallowed(x):
    y = x * 1.0
    with Swallower():
        y = risky(x, 1)
    return np.sum(y)


# -- match ----------------------------------------------------------------------------------
def match_string(x, kind):
    match kind:
        case "square":
            y = x * x
        case "cube" | "third":
            y = x ** 3
        case _:
            y = x
    return np.sum(y)


def match_sequence(params, x):
    match params:
        case (w, b):
            y = w * x + b
        case [w]:
            y = w * x
        case _:
            y = x
    return np.sum(y)


def match_guard(x, n):
    match n:
        case k if k > 2:
            y = x * k
        case 0 | 1:
            y = np.sin(x)
        case _:
            y = x ** 2
    return np.sum(y)


def match_mapping(params, x):
    match params:
        case {"w": w, "b": b}:
            y = np.tanh(w * x + b)
        case {"w": w}:
            y = w * x
    return np.sum(y)


def match_class(x, scale):
    match scale:
        case None:
            y = x
        case float() | int():
            y = x * scale
        case np.ndarray():
            y = x * np.sum(scale)
    return np.sum(y ** 2)


def pair_product(p):
    with Recorder():
        match p:
            case (a, b):
                y = a * b
            case _:
                y = p
    return y


def calls_pair_product(x):
    """A helper whose match and with read objects the main function does not."""
    return np.sum(pair_product((x, x + 1.0)))


# -- :=, global, del, checks, messages -----------------------------------------------------
def walrus_if(x):
    if (s := np.sum(x)) > 0:
        y = s * 2.0
    else:
        y = s * 3.0
    return y * np.sum(x)


def walrus_while(x):
    n = 4
    y = x * 1.0
    while (n := n - 1) > 0:
        y = y * 0.5 + x
    return np.sum(y)


def global_read(x):
    global SCALE
    return np.sum(x * SCALE)


def del_local(x):
    tmp = x * 2.0
    y = tmp + 1.0
    del tmp
    return np.sum(y * x)


def checks(x, scale):
    if isinstance(scale, float):
        y = x * scale
    elif type(scale) is int:
        y = x + scale
    else:
        y = x
    if callable(scale):
        y = y * 0.0
    return np.sum(y ** 2)


def messages(x):
    assert np.all(np.isfinite(x)), f"bad input {x}"
    loss = np.sum(x ** 2)
    print(f"loss={loss:.3f}")
    logger.info("x is %s", x)
    if loss < 0:
        raise ValueError(f"negative {loss}")
    return loss


# -- refused --------------------------------------------------------------------------------
def refused_try_in_loop(x):
    y = x
    for k in range(2):
        try:  # refused here
            y = y * 2.0
        except ValueError:
            pass
        finally:
            return np.sum(y)
    return np.sum(y)


def refused_compound_try(x):
    try:
        if x[0] > 0:  # refused here
            x = x * 2.0
    except ValueError:
        pass
    return np.sum(x)


def refused_append_in_try(x):
    out = []
    try:
        out.append(x)  # refused here
    except ValueError:
        pass
    return np.sum(x)


def refused_item_in_try(x):
    y = x * 1.0
    try:
        y[0] = 2.0  # refused here
    except IndexError:
        pass
    return np.sum(y)


def refused_augmented_in_try(x):
    y = x * 1.0
    try:
        y += x  # refused here
    except ValueError:
        pass
    return np.sum(y)


def refused_suppress(x):
    with contextlib.suppress(ValueError):  # refused here
        x = x * 2.0
    return np.sum(x)


def refused_return_in_with(x):
    with np.errstate(all="ignore"):  # refused here
        if x[0] > 0:
            return np.sum(x)
    return np.sum(x * 2.0)


def refused_star_capture(params):
    match params:  # refused here
        case [first, *rest]:
            y = first
    return np.sum(y)


def refused_or_capture(params):
    match params:  # refused here
        case [w] | (w, _):
            y = w
    return np.sum(y)


def refused_conditional_walrus(x):
    c = np.sum(x) > 0 and (s := np.sum(x)) > 1  # refused here
    return np.sum(x) * c


def refused_walrus_reread(x):
    y = np.sum(x) + (x := x * 2.0).sum()  # refused here
    return y


def refused_global_write(x):
    global SCALE  # refused here
    SCALE = 2.0
    return np.sum(x)


def refused_del_item(d):
    del d["w"]  # refused here
    return d["b"]


def refused_generator(x):
    yield x * 2.0  # refused here
