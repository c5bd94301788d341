"""Signatures of differentiated functions and their helpers (tests/test_signatures.py)."""
import numpy as np

OFFSET = np.array([0.5, -0.25, 1.0])


def star_helper(x, *rest):
    total = x * 1.0
    for r in rest:
        total = total * r
    return np.sum(total)


def kwargs_helper(x, **options):
    return np.sum(x * options["scale"]) + options["shift"]


def mixed_helper(x, *rest, power=2.0, **options):
    return np.sum((1.0 + x * x) ** power) * rest[0] + options.get("bias", 0.0)


def forwards_star(x, *args, **kwargs):
    return star_helper(x, *args, **kwargs)


def calls_star_helper(w, x):
    return star_helper(x, w, 2.0) + star_helper(x) + kwargs_helper(x, scale=w, shift=w * w)


def calls_mixed_helper(w, x):
    return mixed_helper(x, w, power=3.0, bias=w) + mixed_helper(x, 2.0)


def calls_forwarding(w, x):
    return forwards_star(x, w, w)


def star_main(x, *args):
    return np.sum(x * args[0]) + args[1] ** 2


def kwargs_main(x, **kwargs):
    return np.sum(x * kwargs["w"]) * kwargs["c"]


def keyword_only(x, *, w, b=OFFSET):
    return np.sum(np.tanh(x * w + b))


def array_default(x, b=OFFSET, k=2.0):
    return np.sum((x - b) ** 2) * k


def make_with_enclosing_default(k):
    scale = np.array([1.0, 2.0, 3.0]) * k

    def loss(x, s=scale):
        return np.sum(x * s) ** 2
    return loss


def helper_keyword_only(x, *, w=1.0):
    return np.sum(x * w)


def calls_keyword_only(w, x):
    return helper_keyword_only(x, w=w) + helper_keyword_only(x)


def reserved_names(x, count, conj=1.0):
    """Parameters named as generated code's helpers: the transform renames them, and calls
    that pass them by keyword follow."""
    return np.sum(np.sin(x) * count) * conj


def calls_reserved_names(w, x):
    return reserved_names(conj=w, count=x ** 2, x=x) + reserved_names(x, count=w)


def defaults_then_star(x, s=OFFSET, *rest, fn=np.tanh, k=3.0):
    total = np.sum(fn(x * s))
    for r in rest:
        total = total + r * k
    return total


def calls_defaults_then_star(w, x):
    return defaults_then_star(x, x, w, w) + defaults_then_star(x) + defaults_then_star(x, fn=np.sin)


def layer(x, w, act=np.tanh):
    return act(x * w)


def calls_function_default(w, x):
    return np.sum(layer(x, w)) + np.sum(layer(x, w, act=np.sin))


def star_then_keyword_only(x, *args, scale):
    return np.sum(x * args[0]) * scale


def too_few_for_star(x, *args):
    return x * args[3]
