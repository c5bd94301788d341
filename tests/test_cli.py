"""The command line prints the generated derivative, or the error at the user's line."""
import os
import subprocess
import sys

import adjoint

HERE = os.path.dirname(__file__)


def run(*args):
    root = os.path.dirname(os.path.dirname(adjoint.__file__))
    env = dict(os.environ, PYTHONPATH=root)
    return subprocess.run([sys.executable, "-m", "adjoint", *args], capture_output=True, text=True,
                          env=env)


def test_prints_source():
    out = run(os.path.join(HERE, "constructs.py") + ":scalar_loop", "--wrt", "a,b")
    assert out.returncode == 0, out.stderr
    assert "def scalar_loop_grad(a, b, x0):" in out.stdout
    assert "x_tape.append(x)" in out.stdout


def test_vjp_mode():
    out = run(os.path.join(HERE, "constructs.py") + ":while_doubling", "--mode", "vjp")
    assert out.returncode == 0, out.stderr
    assert "def while_doubling_bwd(saved, seed):" in out.stdout


def test_jvp_mode():
    out = run(os.path.join(HERE, "constructs.py") + ":scalar_loop", "--wrt", "a", "--mode", "jvp")
    assert out.returncode == 0, out.stderr
    assert "def scalar_loop_jvp(a, b, x0, a_dot):" in out.stdout
    assert "_tape" not in out.stdout


def test_error_names_line():
    out = run(os.path.join(HERE, "bad_functions.py") + ":uses_try")
    assert out.returncode == 1
    assert "bad_functions.py:" in out.stderr and "try" in out.stderr


def test_ranks_give_the_code_of_a_call():
    """``--ranks`` prints what ``g.source`` shows after a call with real arguments of those ranks."""
    import numpy as np
    from . import constructs as c
    g = adjoint.grad(c.arith, (0, 1))
    g(np.ones(3), np.ones(3))
    for ranks in ("1,1", "x=1,y=1"):
        out = run(os.path.join(HERE, "constructs.py") + ":arith", "--wrt", "0,1", "--ranks", ranks)
        assert out.returncode == 0, out.stderr
        assert out.stdout == g.source
    generic = run(os.path.join(HERE, "constructs.py") + ":arith", "--wrt", "0,1")
    assert "conj(" in generic.stdout and "conj(" not in g.source


def test_ranks_must_be_integers():
    out = run(os.path.join(HERE, "constructs.py") + ":arith", "--ranks", "a,b")
    assert out.returncode == 2 and "--ranks" in out.stderr


def test_source_ranks_name_parameters():
    import pytest
    from . import constructs as c
    assert "conj(" not in adjoint.source(c.arith, 0, ranks=[1, 1])
    with pytest.raises(adjoint.WrtError, match="no parameter"):
        adjoint.source(c.arith, 0, ranks={"z": 1})
    with pytest.raises(adjoint.WrtError, match="2 parameters"):
        adjoint.source(c.arith, 0, ranks=[1])
