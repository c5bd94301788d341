"""Realistic programs, checked against central finite differences."""
import numpy as np
import pytest

from adjoint.testing import check_grad

from .programs import (cumulative, early_exit, logistic, matrix_fill, newton_sqrt, piecewise,
                       rnn, softmax_xent)

rng = np.random.default_rng(0)
X = rng.normal(size=(6, 3)); Y = np.eye(4)[rng.integers(0, 4, 6)]
CASES = [
    (softmax_xent, (rng.normal(size=(3, 4)), rng.normal(size=4), X, Y), (0, 1)),
    (logistic, (rng.normal(size=3), X, (rng.random(6) > 0.5) * 1.0, 0.1), 0),
    (rnn, (rng.normal(size=(3, 3)) * 0.5, rng.normal(size=(3, 2)), rng.normal(size=3), rng.normal(size=(4, 2))), (0, 1, 2, 3)),
    (piecewise, (rng.normal(size=8),), 0),
    (newton_sqrt, (2.0,), 0),
    (cumulative, (rng.normal(size=5),), 0),
    (matrix_fill, (rng.normal(size=4),), 0),
    (early_exit, (0.4,), 0),
    (early_exit, (-0.4,), 0),
]


@pytest.mark.parametrize("fun,args,wrt", CASES, ids=[f"{f.__name__}-{i}" for i, (f, _, _) in enumerate(CASES)])
def test_program(fun, args, wrt):
    assert check_grad(fun, *args, wrt=wrt)
