"""Calls a type checker must refuse: a derivative keeps its function's parameters."""
import numpy as np
import numpy.typing as npt

import adjoint


def loss(w: npt.NDArray[np.float64], scale: float) -> float:
    return float(np.sum(w) * scale)


adjoint.grad(loss)(np.zeros(3), "two")  # line 12: a str where loss takes a float
value, g = adjoint.value_and_grad(loss)(np.zeros(3), 2.0)
text: str = value  # line 14: value is loss's float
