"""A mass on a spring, integrated with classical Runge-Kutta; fit the stiffness to data."""
import numpy as np


def rhs(y, k, c):
    return np.array([y[1], -k * y[0] - c * y[1]])


def rk4(y, k, c, h):
    k1 = rhs(y, k, c)
    k2 = rhs(y + 0.5 * h * k1, k, c)
    k3 = rhs(y + 0.5 * h * k2, k, c)
    k4 = rhs(y + h * k3, k, c)
    return y + h / 6.0 * (k1 + 2 * k2 + 2 * k3 + k4)


def loss(k, c, observed):
    y = np.array([1.0, 0.0])
    err = 0.0
    for t in range(len(observed)):
        y = rk4(y, k, c, 0.1)
        err = err + (y[0] - observed[t]) ** 2
    return err


def args():
    return 2.0, 0.1, np.cos(np.sqrt(2.5) * 0.1 * np.arange(1, 21))


WRT = (0, 1)
