"""Quickstart: differentiate a NumPy function with a loop, then read the derivative's source."""
import numpy as np

import adjoint


def simulate(a, b, x0):
    """A scalar recurrence x <- a*x + b*sin(x); its final state is the loss."""
    x = x0
    for _ in range(100):
        x = a * x + b * np.sin(x)
    return x


dsimulate = adjoint.grad(simulate, wrt=("a", "b"))


def main():
    da, db = dsimulate(0.9, 0.3, 0.5)
    eps = 1e-6
    fd_a = (simulate(0.9 + eps, 0.3, 0.5) - simulate(0.9 - eps, 0.3, 0.5)) / (2 * eps)
    fd_b = (simulate(0.9, 0.3 + eps, 0.5) - simulate(0.9, 0.3 - eps, 0.5)) / (2 * eps)
    print(f"d/da = {da:.6f}   (finite differences: {fd_a:.6f})")
    print(f"d/db = {db:.6f}   (finite differences: {fd_b:.6f})")
    assert np.allclose([da, db], [fd_a, fd_b], rtol=1e-5)
    print("\nThe generated derivative of simulate:\n")
    print(dsimulate.source)


if __name__ == "__main__":
    main()
