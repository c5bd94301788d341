"""Small models with parameter dicts, lists and tuples (pytrees)."""
import numpy as np

SCALE = 2.0


def mlp(params, X, Y):
    h = np.tanh(X @ params["W1"] + params["b1"])
    out = h @ params["W2"] + params["b2"]
    return np.mean((out - Y) ** 2)


def layers(params, x):
    for W, b in params:
        x = np.tanh(W @ x + b)
    return np.sum(x ** 2)


def nested(tree, x):
    a = tree["a"]
    u, v = tree["pair"]
    return np.sum(a * x) + u * np.sum(v ** 2) + tree["list"][1] * tree["list"][0]


def with_aux(w, x):
    pred = w * x
    loss = np.sum(pred ** 2)
    return loss, {"pred": pred, "count": 3}


def uses_global(w):
    return np.sum(SCALE * w ** 2)


def builds_dict(x):
    d = {"a": x * 2.0, "b": np.sin(x)}
    return np.sum(d["a"] * d["b"])
