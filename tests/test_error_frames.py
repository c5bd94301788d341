"""Errors a person can act on: misspelt names get a suggestion, and adjoint's frames are hidden."""
import os
import traceback

import numpy as np
import pytest

import adjoint
from adjoint.errors import did_you_mean

from . import typos

PACKAGE = os.path.dirname(adjoint.__file__) + os.sep


def typo_line(fn):
    import inspect
    lines, first = inspect.getsourcelines(fn)
    return first + next(k for k, line in enumerate(lines) if "# typo" in line)


@pytest.mark.parametrize("fn, words", [
    (typos.tahn_typo, "'np.tahn' is not defined: module 'numpy' has no attribute 'tahn'; "
                      "did you mean np.tanh?"),
    (typos.nrom_typo, "did you mean np.linalg.norm?"),
    (typos.name_typo, "name 'helpr' is not defined; did you mean helper?"),
])
def test_a_misspelt_name_suggests_the_right_one(fn, words):
    with pytest.raises(adjoint.UnsupportedSyntaxError) as info:
        adjoint.grad(fn)(np.ones(3))
    assert words in str(info.value)
    assert f"typos.py:{typo_line(fn)}" in str(info.value)


def test_no_suggestion_when_nothing_is_close():
    with pytest.raises(adjoint.UnsupportedSyntaxError) as info:
        adjoint.grad(typos.no_match)(np.ones(3))
    assert "no attribute 'xyzzy'" in str(info.value) and "did you mean" not in str(info.value)


def test_suggestions_prefer_a_swap_of_letters_and_skip_private_names():
    assert did_you_mean("tahn", ["tan", "tanh"], "np.") == "; did you mean np.tanh?"
    assert did_you_mean("cumsun", ["cumsum", "cumprod"]) == "; did you mean cumsum?"
    assert did_you_mean("_privat", ["_private"]) == ""
    assert did_you_mean("abc", ["xyz"]) == ""


def adjoint_frames(tb):
    return [f.f_code.co_filename for f, _ in traceback.walk_tb(tb)
            if f.f_code.co_filename.startswith(PACKAGE)]


@pytest.mark.parametrize("call", [
    lambda: adjoint.grad(typos.tahn_typo)(np.ones(3)),
    lambda: adjoint.value_and_grad(typos.tahn_typo)(np.ones(3)),
    lambda: adjoint.vjp(typos.tahn_typo)(np.ones(3)),
    lambda: adjoint.jvp(typos.tahn_typo)((np.ones(3),), (np.ones(3),)),
    lambda: adjoint.hessian(typos.tahn_typo)(np.ones(3)),
    lambda: adjoint.source(typos.tahn_typo),
    lambda: adjoint.grad(typos.fine, wrt="y"),
    lambda: adjoint.grad(typos.fine)(np.ones(3, dtype=int)),
], ids=["grad", "value_and_grad", "vjp", "jvp", "hessian", "source", "wrt", "integer"])
def test_adjoints_frames_are_hidden_from_its_errors(call):
    with pytest.raises(adjoint.AdjointError) as info:
        call()
    assert len(adjoint_frames(info.tb)) == 1, traceback.format_tb(info.tb)  # the re-raise only
