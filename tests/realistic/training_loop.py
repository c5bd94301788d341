"""A few unrolled gradient-descent steps on a quadratic, printing progress, deleting temporaries."""
import numpy as np


def inner_loss(theta, A, b):
    return 0.5 * theta @ A @ theta - b @ theta


def loss(lr, theta0, A, b):
    theta = theta0
    for step in range(5):
        grad = A @ theta - b
        theta = theta - lr * grad
        del grad
        if step == 4:
            print(f"step {step}: loss {inner_loss(theta, A, b):.4f}")
    return inner_loss(theta, A, b)


def args():
    return 0.1, np.array([1.0, -1.0]), np.array([[3.0, 0.5], [0.5, 1.0]]), np.array([1.0, 0.0])


WRT = (0, 1)
