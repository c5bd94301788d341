"""The public API's types: ``mypy --strict`` accepts a typed user script and flags wrong calls.

The mypy checks need mypy (in the ``dev`` extra, which ``.ci/run`` installs) and are
skipped without it; the script itself runs everywhere.
"""
import importlib.util
import os
import subprocess
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
HERE = os.path.join(ROOT, "tests", "typed")

needs_mypy = pytest.mark.skipif(importlib.util.find_spec("mypy") is None,
                                reason="mypy is not installed (pip install '.[dev]')")


def mypy(script, tmp_path):
    """mypy --strict on ``script``, reading this checkout's adjoint (its own errors not reported)."""
    env = dict(os.environ, MYPYPATH=ROOT)
    return subprocess.run([sys.executable, "-m", "mypy", "--strict", "--follow-imports=silent",
                           "--cache-dir", str(tmp_path / "cache"), os.path.join(HERE, script)],
                          capture_output=True, text=True, cwd=ROOT, env=env, timeout=300)


@needs_mypy
def test_strict_mypy_accepts_a_typed_user_script(tmp_path):
    out = mypy("user_script.py", tmp_path)
    assert out.returncode == 0, out.stdout + out.stderr


@needs_mypy
def test_a_derivative_keeps_its_function_signature(tmp_path):
    out = mypy("wrong_call.py", tmp_path)
    assert out.returncode == 1, out.stdout + out.stderr
    assert "wrong_call.py:12: error: Argument 2" in out.stdout
    assert "wrong_call.py:14: error: Incompatible types in assignment" in out.stdout


def test_the_typed_user_script_runs():
    """What the type checker accepts also trains and differentiates correctly."""
    env = dict(os.environ, PYTHONPATH=ROOT)
    out = subprocess.run([sys.executable, os.path.join(HERE, "user_script.py")],
                         capture_output=True, text=True, cwd=ROOT, env=env, timeout=300)
    assert out.returncode == 0, out.stderr
