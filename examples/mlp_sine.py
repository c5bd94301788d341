"""A 1-16-1 tanh network fitted to sin(x) on [-2π, 2π] with minibatches and Adam."""
import numpy as np

from adjoint.optim import Adam, fit
from _plot import save_plot


def predict(params, x):
    h = np.tanh(x @ params["W1"] + params["b1"])
    return h @ params["W2"] + params["b2"]


def loss(params, x, y):
    return np.mean((predict(params, x) - y) ** 2)


def main():
    rng = np.random.default_rng(0)
    x = np.linspace(-2 * np.pi, 2 * np.pi, 512).reshape(-1, 1)
    y = np.sin(x)
    params = {"W1": rng.normal(size=(1, 16)), "b1": rng.normal(size=16),
              "W2": rng.normal(size=(16, 1)) * 0.1, "b2": np.zeros(1)}
    params, history = fit(loss, params, (x, y), steps=4000, batch_size=64,
                          optimizer=Adam(0.01))
    final = loss(params, x, y)
    print(f"mean squared error after {len(history)} steps: {final:.5f}")
    assert final < 0.01

    def draw(plt):
        plt.plot(x, y, label="sin(x)")
        plt.plot(x, predict(params, x), "--", label="MLP")
        plt.title("a 1-16-1 tanh network fitted to sin(x)")
        plt.xlabel("x")
        plt.ylabel("y")
        plt.legend()
    save_plot("mlp_sine.png", draw)


if __name__ == "__main__":
    main()
