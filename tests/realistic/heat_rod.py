"""Explicit finite differences for heat in a rod; fit the diffusivity."""
import numpy as np


def simulate(u0, kappa, steps):
    u = u0.copy()
    for _ in range(steps):
        lap = np.zeros_like(u)
        lap[1:-1] = u[2:] - 2 * u[1:-1] + u[:-2]
        u = u + kappa * lap
    return u


def loss(kappa, u0, target):
    u = simulate(u0, kappa, 10)
    return np.sum((u - target) ** 2)


def args():
    x = np.linspace(0, 1, 12)
    return 0.2, np.exp(-30 * (x - 0.5) ** 2), np.exp(-10 * (x - 0.5) ** 2) * 0.5


WRT = (0, 1)
