"""Fit y = 2 + 3x + noise by gradient descent with adjoint.grad."""
import numpy as np

import adjoint
from _plot import save_plot


def loss(w, b, X, Y):
    return np.mean((w * X + b - Y) ** 2)


def main():
    rng = np.random.default_rng(0)
    X = rng.uniform(0, 1, 500)
    Y = 2 + 3 * X + rng.normal(0, 0.1, X.shape)
    dloss = adjoint.value_and_grad(loss, wrt=(0, 1))
    w, b = 0.0, 0.0
    for step in range(2000):
        value, (gw, gb) = dloss(w, b, X, Y)
        w, b = w - 0.5 * gw, b - 0.5 * gb
        if step % 500 == 0:
            print(f"step {step:4d}  loss {value:.5f}  w {w:.3f}  b {b:.3f}")
    print(f"fitted: w = {w:.3f} (true 3), b = {b:.3f} (true 2)")
    assert abs(w - 3) < 0.1 and abs(b - 2) < 0.1
    def draw(plt):
        plt.scatter(X, Y, s=4, alpha=0.5, label="data")
        grid = np.linspace(0, 1, 2)
        plt.plot(grid, w * grid + b, "r", label=f"fit: {w:.2f}x + {b:.2f}")
        plt.title("least-squares line by gradient descent")
        plt.xlabel("x")
        plt.ylabel("y")
        plt.legend()
    save_plot("fit_linear_regression.png", draw)

if __name__ == "__main__":
    main()
