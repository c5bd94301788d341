"""A two-layer network whose parameters live in a dict, as in many tutorials."""
import numpy as np


def forward(params, x):
    h = np.tanh(x @ params["W1"] + params["b1"])
    return h @ params["W2"] + params["b2"]


def loss(params, x, y):
    pred = forward(params, x)
    return np.mean((pred - y) ** 2)


def args():
    rng = np.random.default_rng(15)
    params = {"W1": rng.normal(size=(2, 5)), "b1": np.zeros(5), "W2": rng.normal(size=5), "b2": 0.1}
    return params, rng.normal(size=(7, 2)), rng.normal(size=7)


WRT = (0,)
