"""Minimise the Rosenbrock function with scipy, using adjoint's gradient as the Jacobian."""
import numpy as np

import adjoint


def rosenbrock(x):
    total = 0.0
    for i in range(x.shape[0] - 1):
        total += 100.0 * (x[i + 1] - x[i] ** 2) ** 2 + (1.0 - x[i]) ** 2
    return total


def main():
    try:
        from scipy.optimize import minimize
    except ImportError:
        print("scipy is not installed; skipping")
        return
    x0 = np.array([-1.2, 1.0, -0.5, 0.8])
    result = minimize(rosenbrock, x0, jac=adjoint.grad(rosenbrock), method="BFGS")
    print(result.message, "after", result.nit, "iterations:", result.x)
    assert np.allclose(result.x, 1.0, atol=1e-4)


if __name__ == "__main__":
    main()
