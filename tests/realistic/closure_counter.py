"""An objective counting its own evaluations in a closure (nonlocal)."""
import numpy as np


def make_loss(A):
    calls = 0

    def loss(x):
        nonlocal calls
        calls += 1
        return x @ A @ x + np.sum(np.cos(x))
    return loss


loss = make_loss(np.array([[2.0, 0.3], [0.3, 1.0]]))


def args():
    return (np.array([0.4, -0.7]),)


WRT = (0,)
