"""The vector-Jacobian product through a while loop whose trip count depends on the data."""
import numpy as np

import adjoint


def grow(x):
    y = 2 * x
    while np.linalg.norm(y) < 1000:
        y = 2 * y
    return y


def main():
    x = np.array([0.1, 1.0, 0.0001])
    out, pullback = adjoint.vjp(grow)(x)
    seed = np.array([0.1, 1.0, 0.0001])
    grads = pullback(seed)
    k = int(round(np.log2(out[0] / x[0])))
    print("output:", out)
    print("pullback(seed):", grads, f"= seed * 2**{k}")
    assert np.allclose(grads, seed * 2.0 ** k)
    print("\nGenerated split-mode source:\n")
    print(adjoint.source(grow, mode="vjp"))


if __name__ == "__main__":
    main()
