"""Mean-variance portfolio objective with a budget penalty; the risk aversion is a global."""
import numpy as np

RISK_AVERSION = 3.0


def loss(w, mu, Sigma):
    global RISK_AVERSION
    ret = w @ mu
    risk = w @ Sigma @ w
    budget = (np.sum(w) - 1.0) ** 2
    return -ret + 0.5 * RISK_AVERSION * risk + 10.0 * budget


def args():
    rng = np.random.default_rng(14)
    A = rng.normal(size=(4, 4))
    return np.full(4, 0.25), rng.normal(size=4) * 0.1, A @ A.T / 4 + 0.1 * np.eye(4)


WRT = (0, 1, 2)
