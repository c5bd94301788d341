"""Every example runs and checks its own result (how fast is for benchmarks/, not a test:
a 2-minute limit catches only a hang)."""
import glob
import os
import subprocess
import sys

import pytest

import adjoint

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
EXAMPLES = sorted(p for p in glob.glob(os.path.join(ROOT, "examples", "*.py"))
                  if not os.path.basename(p).startswith("_"))


@pytest.mark.parametrize("path", EXAMPLES, ids=[os.path.basename(p) for p in EXAMPLES])
def test_example_runs(path, tmp_path):
    env = dict(os.environ, PYTHONPATH=os.path.dirname(os.path.dirname(adjoint.__file__)),
               MPLBACKEND="Agg")
    out = subprocess.run([sys.executable, path], cwd=tmp_path, capture_output=True, text=True,
                         env=env, timeout=120)
    assert out.returncode == 0, out.stdout + out.stderr
    assert out.stdout.strip(), "an example prints its result"


def test_readme_shows_the_source_quickstart_prints():
    """The README's generated-code listing is the quickstart's output (Numba installed)."""
    pytest.importorskip("numba")
    env = dict(os.environ, PYTHONPATH=os.path.dirname(os.path.dirname(adjoint.__file__)))
    env.pop("ADJOINT_BACKEND", None)
    out = subprocess.run([sys.executable, os.path.join(ROOT, "examples", "quickstart.py")],
                         capture_output=True, text=True, env=env, timeout=120).stdout
    printed = out[out.index("def simulate_grad"):].rstrip()
    with open(os.path.join(ROOT, "README.md"), encoding="utf-8") as f:
        readme = f.read()
    start = readme.index("def simulate_grad")
    assert readme[start:readme.index("```", start)].rstrip() == printed
