"""A damped pendulum integrated with semi-implicit Euler; the state is a plain tuple."""
import numpy as np

G = 9.81


def step(state, length, damping, dt):
    theta, omega = state
    alpha = -G / length * np.sin(theta) - damping * omega
    omega = omega + dt * alpha
    theta = theta + dt * omega
    return theta, omega


def loss(length, damping, theta0):
    state = (theta0, 0.0)
    energy = 0.0
    for _ in range(50):
        state = step(state, length, damping, 0.02)
        energy = energy + 0.5 * state[1] ** 2
    return energy + state[0] ** 2


def args():
    return 1.2, 0.3, 0.8


WRT = (0, 1, 2)
NUMBA = True
