"""Logistic growth with the sanity checks and progress messages real code has."""
import logging

import numpy as np

log = logging.getLogger("corpus.checked_ode")


def loss(r, K, y0, data):
    assert data.ndim == 1, f"data must be 1-d, got shape {data.shape}"
    if K <= 0:
        raise ValueError(f"carrying capacity must be positive, got {K}")
    y = y0
    err = 0.0
    for t in range(len(data)):
        y = y + 0.1 * r * y * (1 - y / K)
        err = err + (y - data[t]) ** 2
    log.debug("final population %s, error %s", y, err)
    return err


def args():
    return 0.8, 10.0, 1.0, np.linspace(1.2, 6.0, 12)


WRT = (0, 1, 2)
