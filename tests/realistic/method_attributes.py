"""A linear dynamical system as an object; its rollout method calls other methods."""
import numpy as np


class System:
    def __init__(self, A, B):
        self.A = A
        self.B = B

    @property
    def size(self):
        return self.A.shape[0]

    def step(self, x, u):
        return self.A @ x + self.B * u

    def cost(self, controls):
        x = np.ones(self.size)
        total = 0.0
        for u in controls:
            x = self.step(x, u)
            total = total + x @ x + 0.1 * u ** 2
        return total


system = System(np.array([[0.9, 0.2], [0.0, 0.8]]), np.array([0.0, 1.0]))
loss = system.cost


def args():
    return (np.array([0.5, -0.2, 0.1, 0.0]),)


WRT = (0,)
