"""Two classes told apart by a sigmoid unit, trained with binary cross-entropy by optim.fit.

The loss is the classic one of the first autodiff tutorials,
-mean(y log p + (1 - y) log(1 - p)) with p = sigmoid(x @ w + b), written stably
with logaddexp. ``fit`` trains it in epochs of minibatches, records the loss on
held-out data after each epoch and stops early once that loss stops improving.
"""
import numpy as np

from adjoint import optim
from _plot import save_plot


def loss(params, X, y):
    z = X @ params["w"] + params["b"]
    # -log(sigmoid(z)) = log(1 + exp(-z)); -log(1 - sigmoid(z)) = log(1 + exp(z))
    return np.mean(y * np.logaddexp(0.0, -z) + (1 - y) * np.logaddexp(0.0, z))


def make_data(rng, n):
    y = rng.integers(0, 2, n).astype(float)
    X = rng.normal(size=(n, 2)) + np.where(y[:, None] > 0.5, 1.0, -1.0) * np.array([1.0, 0.5])
    return X, y


def main():
    rng = np.random.default_rng(3)
    X, y = make_data(rng, 400)
    X_val, y_val = make_data(rng, 100)
    params = {"w": np.zeros(2), "b": 0.0}
    schedule = optim.warmup(optim.cosine_decay(0.1, steps=400), steps=20)
    params, history = optim.fit(loss, params, (X, y), epochs=60, batch_size=32,
                                validation_data=(X_val, y_val), optimizer=optim.Adam(schedule),
                                callbacks=[optim.EarlyStopping(patience=5, min_delta=1e-4)],
                                progress=False)
    accuracy = np.mean(((X_val @ params["w"] + params["b"]) > 0) == (y_val > 0.5))
    print(f"{len(history.epochs)} epochs ({history.stopped or 'ran to the end'}); "
          f"validation loss {min(history.val_loss):.4f}, validation accuracy {accuracy:.3f}")
    assert accuracy > 0.85 and history.val_loss[-1] < history.val_loss[0]

    def draw(plt):
        epochs = np.arange(1, len(history.epochs) + 1)
        plt.plot(epochs, history.loss, label="training")
        plt.plot(epochs, history.val_loss, label="validation")
        plt.title("binary cross-entropy by epoch")
        plt.xlabel("epoch")
        plt.ylabel("loss")
        plt.legend()
    save_plot("binary_classifier.png", draw)


if __name__ == "__main__":
    main()
