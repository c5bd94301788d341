"""A loss configured by an object holding hyperparameters."""
import numpy as np


class Config:
    l1 = 0.01
    l2 = 0.1
    temperature = 2.0


cfg = Config()


def loss(w, X, y):
    logits = X @ w / cfg.temperature
    data = np.mean(np.log1p(np.exp(-y * logits)))
    return data + cfg.l1 * np.sum(np.abs(w)) + cfg.l2 * np.sum(w ** 2)


def args():
    rng = np.random.default_rng(25)
    return rng.normal(size=4), rng.normal(size=(10, 4)), np.sign(rng.normal(size=10))


WRT = (0,)
