"""L2-regularised logistic regression fitted by gradient descent."""
import numpy as np

import adjoint
from _plot import save_plot


def loss(w, b, X, y, lam):
    z = X @ w + b
    # log(1 + exp(-z)) and log(1 + exp(z)) written stably with logaddexp
    nll = y * np.logaddexp(0.0, -z) + (1 - y) * np.logaddexp(0.0, z)
    return np.mean(nll) + lam * np.sum(w ** 2)


def main():
    rng = np.random.default_rng(1)
    n = 400
    X = rng.normal(size=(n, 2))
    true_w, true_b = np.array([2.0, -1.5]), 0.5
    y = (rng.random(n) < 1 / (1 + np.exp(-(X @ true_w + true_b)))).astype(float)
    step = adjoint.value_and_grad(loss, wrt=(0, 1))
    w, b = np.zeros(2), 0.0
    for it in range(500):
        value, (gw, gb) = step(w, b, X, y, 1e-3)
        w, b = w - 1.0 * gw, b - 1.0 * gb
    accuracy = np.mean(((X @ w + b) > 0) == (y > 0.5))
    print(f"loss {value:.4f}  w {w}  b {b:.3f}  accuracy {accuracy:.3f}")
    assert accuracy > 0.8 and np.allclose(w, true_w, atol=0.6)

    def draw(plt):
        for label, color in ((0, "tab:blue"), (1, "tab:red")):
            plt.scatter(X[y == label, 0], X[y == label, 1], s=6, color=color,
                        label=f"class {label}")
        grid = np.linspace(-3, 3, 2)
        plt.plot(grid, -(w[0] * grid + b) / w[1], "k", label="decision boundary")
        plt.title("logistic regression")
        plt.xlabel("feature 1")
        plt.ylabel("feature 2")
        plt.legend()
    save_plot("logistic_regression.png", draw)


if __name__ == "__main__":
    main()
