"""A training step of a classifier using scipy.special's logsumexp and expit."""
import numpy as np
from scipy.special import expit, logsumexp


def loss(W, X, labels, gate):
    logits = X @ W
    logp = logits - logsumexp(logits, axis=1, keepdims=True)
    nll = -np.mean(logp[np.arange(len(labels)), labels])
    return nll * expit(gate)


def args():
    rng = np.random.default_rng(26)
    return rng.normal(size=(3, 4)), rng.normal(size=(8, 3)), rng.integers(0, 4, size=8), 0.5


WRT = (0, 3)
