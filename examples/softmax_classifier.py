"""A softmax classifier on x @ W + b, trained with categorical cross-entropy on one-hot labels."""
import numpy as np

import adjoint
from _plot import save_plot


def log_softmax(z):
    """log(softmax(z)) along each row, without overflow: z minus its row's log-sum-exp."""
    shifted = z - np.max(z, axis=1, keepdims=True)
    return shifted - np.log(np.sum(np.exp(shifted), axis=1, keepdims=True))


def loss(W, b, X, Y):
    """Categorical cross-entropy: the mean over samples of -log p(true class)."""
    return -np.mean(np.sum(Y * log_softmax(X @ W + b), axis=1))


def main():
    rng = np.random.default_rng(2)
    centers = np.array([[0.0, 2.0], [2.0, -1.0], [-2.0, -1.0]])
    labels = rng.integers(0, 3, 300)
    X = centers[labels] + rng.normal(scale=0.7, size=(300, 2))
    Y = np.eye(3)[labels]
    adjoint.check_grad(loss, np.full((2, 3), 0.1), np.zeros(3), X[:20], Y[:20], wrt=(0, 1))
    step = adjoint.value_and_grad(loss, wrt=("W", "b"))
    W, b = np.zeros((2, 3)), np.zeros(3)
    history = []
    for it in range(300):
        value, (gW, gb) = step(W, b, X, Y)
        W, b = W - 0.5 * gW, b - 0.5 * gb
        history.append(value)
    accuracy = np.mean(np.argmax(X @ W + b, axis=1) == labels)
    print(f"final loss {history[-1]:.4f}, training accuracy {accuracy:.3f}")
    assert accuracy > 0.9 and history[-1] < history[0] / 3

    def draw(plt):
        plt.plot(history)
        plt.title("softmax classifier: categorical cross-entropy")
        plt.xlabel("step")
        plt.ylabel("loss")
    save_plot("softmax_classifier.png", draw)


if __name__ == "__main__":
    main()
