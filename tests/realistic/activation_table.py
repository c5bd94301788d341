"""Activations looked up in a table of lambdas."""
import numpy as np

ACTIVATIONS = {
    "tanh": np.tanh,
    "swish": lambda z: z / (1.0 + np.exp(-z)),
    "square": lambda z: z * z,
}


def loss(W, x, name):
    act = ACTIVATIONS[name]
    return np.sum(act(W @ x))


def args():
    rng = np.random.default_rng(28)
    return rng.normal(size=(3, 2)), rng.normal(size=2), "swish"


WRT = (0,)
