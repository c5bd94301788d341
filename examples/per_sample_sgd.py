"""Per-sample stochastic gradient descent on y = 2x: the model learns to predict 8.0 for x = 4."""
import numpy as np

import adjoint


def sample_loss(w, x, y):
    return (x * w - y) ** 2


def main():
    xs = np.array([1.0, 2.0, 3.0])
    ys = 2.0 * xs
    dloss = adjoint.grad(sample_loss)
    print("gradient at w=1, x=1, y=2:", dloss(1.0, 1.0, 2.0))  # -2.0
    w = 1.0
    for epoch in range(20):
        for x, y in zip(xs, ys):
            w -= 0.02 * dloss(w, x, y)
    prediction = 4.0 * w
    print(f"w = {w:.4f}; prediction for x = 4: {prediction:.4f}")
    assert abs(prediction - 8.0) < 1e-3


if __name__ == "__main__":
    main()
