"""The documentation site builds with ``mkdocs build --strict``, and every public name has a docstring."""
import importlib.util
import inspect
import os
import re
import subprocess
import sys

import pytest

import adjoint
from adjoint import optim

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DOCS_TOOLS = ("mkdocs", "material", "mkdocstrings", "mkdocstrings_handlers.python")


def _missing():
    for name in DOCS_TOOLS:
        try:
            if importlib.util.find_spec(name) is None:
                return name
        except ModuleNotFoundError:
            return name
    return None


@pytest.mark.skipif(_missing() is not None,
                    reason=f"{_missing()} is not installed (pip install '.[docs]')")
def test_the_site_builds_strictly(tmp_path):
    """A broken link, a missing page or an object the API reference cannot find fails the build."""
    env = dict(os.environ, NO_MKDOCS_2_WARNING="1")
    out = subprocess.run([sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir",
                          str(tmp_path / "site")], cwd=ROOT, capture_output=True, text=True,
                         env=env, timeout=300)
    assert out.returncode == 0, out.stdout + out.stderr
    api = (tmp_path / "site" / "api" / "index.html").read_text(encoding="utf-8")
    for name in ("value_and_grad", "EarlyStopping", "cosine_decay", "clip_by_global_norm",
                 "register_pytree", "checkpointed"):
        assert name in api


def _public(module):
    return [(name, getattr(module, name)) for name in module.__all__
            if callable(getattr(module, name)) or inspect.isclass(getattr(module, name))]


@pytest.mark.parametrize("module", [adjoint, optim], ids=["adjoint", "adjoint.optim"])
def test_every_public_name_has_a_docstring(module):
    missing = [name for name, value in _public(module)
               if not (inspect.getdoc(value) or "").strip()
               and not getattr(value, "__origin__", None)]  # type aliases document themselves
    assert missing == []


@pytest.mark.parametrize("module", [adjoint, optim], ids=["adjoint", "adjoint.optim"])
def test_every_public_name_is_in_the_api_reference(module):
    with open(os.path.join(ROOT, "docs", "api.md"), encoding="utf-8") as f:
        reference = f.read()
    assert [n for n in module.__all__ if not re.search(rf"\b{n}\b", reference)] == []


def test_every_docs_page_is_in_the_navigation():
    with open(os.path.join(ROOT, "mkdocs.yml"), encoding="utf-8") as f:
        config = f.read()
    pages = sorted(p for p in os.listdir(os.path.join(ROOT, "docs")) if p.endswith(".md"))
    assert [p for p in pages if f": {p}" not in config] == []
