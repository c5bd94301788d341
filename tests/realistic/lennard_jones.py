"""Lennard-Jones energy of a small cluster, with the double loop physicists write."""
import numpy as np


def loss(positions, epsilon, sigma):
    n = positions.shape[0]
    energy = 0.0
    for i in range(n):
        for j in range(n):
            if i != j:
                r = np.sqrt(np.sum((positions[i] - positions[j]) ** 2))
                sr6 = (sigma / r) ** 6
                energy = energy + 2.0 * epsilon * (sr6 ** 2 - sr6)
    return energy


def args():
    return np.array([[0.0, 0.0], [1.1, 0.0], [0.5, 1.0], [1.6, 1.1]]), 1.0, 1.0


WRT = (0, 1, 2)
