"""A softmax classifier on x @ W + b, trained with binary cross-entropy on one-hot labels."""
import numpy as np

import adjoint
from _plot import save_plot


def softmax(z):
    e = np.exp(z - np.max(z, axis=1, keepdims=True))
    return e / np.sum(e, axis=1, keepdims=True)


def loss(W, b, X, Y):
    p = softmax(X @ W + b)
    eps = 1e-9
    return -np.mean(Y * np.log(p + eps) + (1 - Y) * np.log(1 - p + eps))


def main():
    rng = np.random.default_rng(2)
    centers = np.array([[0.0, 2.0], [2.0, -1.0], [-2.0, -1.0]])
    labels = rng.integers(0, 3, 300)
    X = centers[labels] + rng.normal(scale=0.7, size=(300, 2))
    Y = np.eye(3)[labels]
    step = adjoint.value_and_grad(loss, wrt=("W", "b"))
    W, b = np.zeros((2, 3)), np.zeros(3)
    history = []
    for it in range(300):
        value, (gW, gb) = step(W, b, X, Y)
        W, b = W - 2.0 * gW, b - 2.0 * gb
        history.append(value)
    accuracy = np.mean(np.argmax(X @ W + b, axis=1) == labels)
    print(f"final loss {history[-1]:.4f}, training accuracy {accuracy:.3f}")
    assert accuracy > 0.9 and history[-1] < history[0]
    save_plot("softmax_classifier.png", lambda plt: (plt.plot(history), plt.xlabel("step"),
                                                      plt.ylabel("loss")))


if __name__ == "__main__":
    main()
