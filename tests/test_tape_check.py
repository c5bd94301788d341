"""The tape-balance check the suite runs under (``ADJOINT_CHECK_TAPES``, set in conftest.py).

Every backward sweep asserts, before it returns, that it popped everything its forward sweep
pushed. These tests show the check is really there and really fires.
"""
import numpy as np
import pytest

import adjoint
from adjoint.testing import numerical_grad

from . import trust_cases as c


def branchy(x, n):
    s = 0.0
    for i in range(n):
        if x[i] > 0 and s < 3.0:
            s = s + np.sin(x[i]) * s + x[i]
        x[i] = s
    return s + np.sum(x)


def test_the_suite_runs_with_the_check_on():
    import os
    assert os.environ.get("ADJOINT_CHECK_TAPES") == "1"


@pytest.mark.parametrize("mode", ["grad", "vjp"])
def test_each_list_tape_is_checked(mode):
    src = adjoint.source(branchy, mode=mode)
    tapes = {line.split(" = ")[0].strip() for line in src.splitlines() if line.endswith("_tape = []")}
    assert tapes
    for t in tapes:
        assert f"assert len({t}) == 0" in src


def test_a_pop_left_out_fails_the_check():
    src = adjoint.source(branchy)
    pop = next(line.strip() for line in src.splitlines()
               if line.endswith("_tape.pop()") and not line.strip().startswith("cond"))
    tape = pop.split(" = ")[1][:-len(".pop()")]
    broken = src.replace(pop, pop.replace(".pop()", "[-1]"))
    namespace = {}
    exec(compile(broken, "<broken>", "exec"), namespace)
    with pytest.raises(AssertionError, match=f"{tape} is not empty"):
        namespace["branchy_grad"](np.array([0.5, -1.0, 2.0]), 3)


def test_a_stack_left_unpopped_fails_the_check():
    """On Numba a tape of numbers is an array stack: the check reads its count."""
    pytest.importorskip("numba")
    from .constructs import while_counter
    src = adjoint.source(while_counter, backend="numba", ranks={"x": 0})
    pop = next(line for line in src.splitlines() if line.strip().endswith("_tape_top -= 1"))
    tape = pop.strip().split("_top -= 1")[0]
    namespace = {}
    exec(compile(src.replace(pop + "\n", "", 1), "<broken>", "exec"), namespace)
    with pytest.raises(AssertionError, match=f"{tape} is not empty"):
        namespace["while_counter_grad"](0.8)


def test_checked_gradient_is_right():
    x = np.array([0.5, -1.0, 2.0, 0.3])
    g = adjoint.grad(branchy)(x.copy(), 4)
    np.testing.assert_allclose(g, numerical_grad(branchy, (x.copy(), 4), (0,))[0], rtol=1e-6, atol=1e-8)


def test_the_check_is_off_by_default(monkeypatch):
    monkeypatch.delenv("ADJOINT_CHECK_TAPES")
    assert "assert len(" not in adjoint.source(c.rnn_rows)
